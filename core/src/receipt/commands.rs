//! The ESC/POS commands a receipt uses, written out here rather than taken
//! from the `escpos` crate (0.20, read before choosing): its code page 858
//! table maps the ASCII '-' to 0xF0 and misplaces 'Ò', '®' and '¿', so
//! every hyphen on a receipt would print wrong; its drawer kick sends
//! `ESC p m` without the two pulse-time bytes the command takes, so the
//! printer would swallow the next two bytes of the receipt; and it has no
//! CODE128. What is left is a dozen fixed byte strings.

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
pub const LF: u8 = 0x0A;

/// `ESC @`: reset the printer's modes (a half-printed earlier job's bold
/// or size does not carry over).
pub const INIT: &[u8] = &[ESC, b'@'];

/// `ESC t n`: the character table text is encoded in.
pub fn code_page(table: u8) -> Vec<u8> {
    vec![ESC, b't', table]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
}

/// `ESC a n`.
pub fn align(a: Align) -> Vec<u8> {
    vec![
        ESC,
        b'a',
        match a {
            Align::Left => 0,
            Align::Center => 1,
        },
    ]
}

/// `ESC E n`: emphasised (bold) on or off.
pub fn bold(on: bool) -> Vec<u8> {
    vec![ESC, b'E', u8::from(on)]
}

/// `GS ! n`: character size; double width and height, or normal.
pub fn double_size(on: bool) -> Vec<u8> {
    vec![GS, b'!', if on { 0x11 } else { 0x00 }]
}

/// `ESC d n`: print and feed `lines` lines.
pub fn feed(lines: u8) -> Vec<u8> {
    vec![ESC, b'd', lines]
}

/// `GS V 65 n`: feed to the cutter (plus `n` dots) and cut the paper.
pub const CUT: &[u8] = &[GS, b'V', 65, 3];

/// `ESC p 0 t1 t2`: a pulse on the drawer port's pin 2, on for 50 ms
/// (t1 = 25 × 2 ms) and off for 500 ms (t2 = 250 × 2 ms): the cash drawer
/// opens.
pub const KICK: &[u8] = &[ESC, b'p', 0, 25, 250];

/// The start of [`KICK`], for finding it in a byte stream.
pub const KICK_PREFIX: &[u8] = &[ESC, b'p'];

/// CODE128 in code set B (ASCII 32..126), human-readable text below,
/// `module` dots per bar unit and 80 dots high. `data` must be code set B
/// characters; '{' is the code set's escape and is doubled.
pub fn code128(data: &str, module: u8) -> Vec<u8> {
    let mut payload = b"{B".to_vec();
    for b in data.bytes() {
        payload.push(b);
        if b == b'{' {
            payload.push(b);
        }
    }
    let mut out = vec![GS, b'h', 80, GS, b'w', module, GS, b'H', 2, GS, b'f', 0];
    out.extend([GS, b'k', 73, payload.len() as u8]);
    out.extend(payload);
    out
}

/// The dots a CODE128 code set B barcode of `chars` characters takes at one
/// dot per module: start, data, check and stop symbols of 11 modules (stop
/// 13), and the quiet zones (10 modules each side).
pub fn code128_modules(chars: usize) -> usize {
    11 * (chars + 2) + 13 + 20
}

/// A QR code (model 2, error correction M, `module` dots per cell) of
/// `data`: `GS ( k` store, then print.
pub fn qr(data: &[u8], module: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut f = |fn_bytes: &[u8]| {
        let len = fn_bytes.len() as u16;
        out.extend([GS, b'(', b'k', (len & 0xFF) as u8, (len >> 8) as u8]);
        out.extend(fn_bytes);
    };
    f(&[49, 65, 50, 0]); // model 2
    f(&[49, 67, module]); // cell size
    f(&[49, 69, 49]); // error correction M (15 %)
    let mut store = vec![49, 80, 48];
    store.extend(data);
    f(&store);
    f(&[49, 81, 48]); // print what was stored
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kick_has_its_pulse_times() {
        assert_eq!(KICK, &[0x1B, 0x70, 0x00, 25, 250]);
        assert!(KICK.starts_with(KICK_PREFIX));
    }

    #[test]
    fn code128_counts_its_payload_and_escapes_the_brace() {
        let c = code128("A{1", 2);
        let k = c.windows(3).position(|w| w == [GS, b'k', 73]).unwrap_or(0);
        assert_eq!(&c[k + 3..], &[6, b'{', b'B', b'A', b'{', b'{', b'1']);
        assert_eq!(&c[..9], &[GS, b'h', 80, GS, b'w', 2, GS, b'H', 2]);
    }

    #[test]
    fn qr_stores_the_data_with_its_length() {
        let q = qr(b"A-000001", 6);
        let store: &[u8] = &[GS, b'(', b'k', 11, 0, 49, 80, 48];
        let at = q.windows(store.len()).position(|w| w == store);
        assert!(at.is_some(), "{q:?}");
        assert!(q.ends_with(&[GS, b'(', b'k', 3, 0, 49, 81, 48]));
    }
}
