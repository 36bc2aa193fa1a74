//! ESC/POS bytes as text a person can review: printed text as it reads,
//! commands as tags (`<INIT>`, `<CUT>`, `<KICK>`, `<CODE128 A-000001>`).
//! The golden files keep one beside each byte file.

use super::codepage::decode_byte;

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;

/// `bytes` as lines of text with tags; unknown bytes as `<0xNN>`.
pub fn dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let (tag, used) = command(rest);
        match tag {
            Some(t) => {
                out.push_str(&t);
                i += used;
            }
            None => {
                let b = rest[0];
                match b {
                    b'\n' => out.push('\n'),
                    0x20..=0x7E | 0x80..=0xFF => out.push(decode_byte(b)),
                    _ => out.push_str(&format!("<0x{b:02X}>")),
                }
                i += 1;
            }
        }
    }
    out
}

/// The tag of the command `rest` starts with, and its length.
fn command(rest: &[u8]) -> (Option<String>, usize) {
    let at = |n: usize| rest.get(n).copied();
    match (at(0), at(1)) {
        (Some(ESC), Some(b'@')) => (Some("<INIT>".into()), 2),
        (Some(ESC), Some(b't')) => (at(2).map(|n| format!("<CODEPAGE {n}>")), 3),
        (Some(ESC), Some(b'a')) => (
            at(2).map(|n| match n {
                0 => "<LEFT>".to_string(),
                1 => "<CENTER>".to_string(),
                _ => format!("<ALIGN {n}>"),
            }),
            3,
        ),
        (Some(ESC), Some(b'E')) => (
            at(2).map(|n| if n == 0 { "</B>" } else { "<B>" }.to_string()),
            3,
        ),
        (Some(ESC), Some(b'd')) => (at(2).map(|n| format!("<FEED {n}>\n")), 3),
        (Some(ESC), Some(b'p')) if rest.len() >= 5 => (Some("<KICK>".into()), 5),
        (Some(GS), Some(b'!')) => (
            at(2).map(|n| if n == 0 { "</BIG>" } else { "<BIG>" }.to_string()),
            3,
        ),
        (Some(GS), Some(b'V')) if rest.len() >= 4 => (Some("<CUT>\n".into()), 4),
        (Some(GS), Some(b'h' | b'w' | b'H' | b'f')) => (Some(String::new()), 3),
        (Some(GS), Some(b'k')) if rest.len() >= 4 => {
            let n = usize::from(rest[3]);
            let data = rest.get(4..4 + n).unwrap_or_default();
            let text: String = data.iter().skip(2).map(|b| char::from(*b)).collect();
            (
                Some(format!("<CODE128 {}>", text.replace("{{", "{"))),
                4 + n,
            )
        }
        (Some(GS), Some(b'(')) if rest.len() >= 5 => {
            let len = usize::from(rest[3]) | usize::from(rest[4]) << 8;
            let body = rest.get(5..5 + len).unwrap_or_default();
            let tag = match body {
                [49, 80, 48, data @ ..] => format!("<QR {}>", String::from_utf8_lossy(data)),
                _ => String::new(),
            };
            (Some(tag), 5 + len)
        }
        _ => (None, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::commands;

    #[test]
    fn commands_become_tags_and_text_stays_text() {
        let mut b = commands::INIT.to_vec();
        b.extend(commands::KICK);
        b.extend(b"M\x81sli\n");
        b.extend(commands::code128("A-1", 2));
        b.extend(commands::qr(b"A-1", 6));
        b.extend(commands::CUT);
        assert_eq!(dump(&b), "<INIT><KICK>Müsli\n<CODE128 A-1><QR A-1><CUT>\n");
    }
}
