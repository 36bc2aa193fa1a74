//! Text for the printer: code page 858 (PC858, Latin-1 with the euro sign;
//! Epson's table 19), the one most ESC/POS printers ship that covers the
//! languages the till speaks. Characters outside it are transliterated
//! ("ł" → "l", "–" → "-", "₹" → "Rs") or printed as '?', never sent as
//! UTF-8 bytes, which a printer in a single-byte code page would print as
//! two or three wrong glyphs.

/// `ESC t n` selects this table.
pub const PC858_TABLE_NUMBER: u8 = 19;

/// Bytes 0x80..=0xFF of code page 858, in order.
const PC858_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', 'ø', '£', 'Ø', '×', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '®', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', 'Á', 'Â', 'À', '©', '╣', '║', '╗', '╝', '¢', '¥', '┐', //
    '└', '┴', '┬', '├', '─', '┼', 'ã', 'Ã', '╚', '╔', '╩', '╦', '╠', '═', '╬', '¤', //
    'ð', 'Ð', 'Ê', 'Ë', 'È', '€', 'Í', 'Î', 'Ï', '┘', '┌', '█', '▄', '¦', 'Ì', '▀', //
    'Ó', 'ß', 'Ô', 'Ò', 'õ', 'Õ', 'µ', 'þ', 'Þ', 'Ú', 'Û', 'Ù', 'ý', 'Ý', '¯', '´', //
    '\u{AD}', '±', '‗', '¾', '¶', '§', '÷', '¸', '°', '¨', '·', '¹', '³', '²', '■', '\u{A0}',
];

/// Characters the table lacks, and what prints instead.
const TRANSLITERATIONS: &[(char, &str)] = &[
    ('\u{A0}', " "),   // no-break space (German amounts: "12,00 €")
    ('\u{202F}', " "), // narrow no-break space
    ('\u{AD}', ""),    // soft hyphen
    ('‘', "'"),
    ('’', "'"),
    ('‚', ","),
    ('“', "\""),
    ('”', "\""),
    ('„', "\""),
    ('–', "-"),
    ('—', "-"),
    ('−', "-"),
    ('…', "..."),
    ('•', "*"),
    ('™', "TM"),
    ('₹', "Rs"),
    ('₪', "ILS"),
    ('₩', "KRW"),
    ('₴', "UAH"),
    ('₦', "NGN"),
    ('ł', "l"),
    ('Ł', "L"),
    ('ś', "s"),
    ('Ś', "S"),
    ('ź', "z"),
    ('ż', "z"),
    ('Ź', "Z"),
    ('Ż', "Z"),
    ('ć', "c"),
    ('Ć', "C"),
    ('ń', "n"),
    ('Ń', "N"),
    ('ę', "e"),
    ('Ę', "E"),
    ('ą', "a"),
    ('Ą', "A"),
    ('č', "c"),
    ('Č', "C"),
    ('š', "s"),
    ('Š', "S"),
    ('ž', "z"),
    ('Ž', "Z"),
    ('ř', "r"),
    ('Ř', "R"),
    ('ě', "e"),
    ('Ě', "E"),
    ('ů', "u"),
    ('ő', "o"),
    ('Ő', "O"),
    ('ű', "u"),
    ('Ű', "U"),
    ('ğ', "g"),
    ('ş', "s"),
    ('ı', "i"),
    ('İ', "I"),
    ('œ', "oe"),
    ('Œ', "OE"),
];

/// What `c` prints as: itself when the printer has it, else its
/// transliteration, else '?'.
fn fold_char(c: char, out: &mut String) {
    if c == '\t' || c == '\n' || c == '\r' {
        out.push(' ');
    } else if let Some((_, t)) = TRANSLITERATIONS.iter().find(|(from, _)| *from == c) {
        out.push_str(t);
    } else if (' '..='~').contains(&c) || PC858_HIGH.contains(&c) && !is_drawing(c) {
        out.push(c);
    } else {
        out.push('?');
    }
}

/// Box drawing and shading: in the table, but never in a product name;
/// someone typing them meant something else.
fn is_drawing(c: char) -> bool {
    ('\u{2500}'..='\u{25FF}').contains(&c) || c == '‗'
}

/// `text` in the characters the printer has (one char, one printed cell).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// Folded text as code page 858 bytes.
pub fn encode(text: &str) -> Vec<u8> {
    fold(text)
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c as u8
            } else {
                PC858_HIGH
                    .iter()
                    .position(|h| *h == c)
                    .map_or(b'?', |i| 0x80 + i as u8)
            }
        })
        .collect()
}

/// The character byte `b` prints as (for the human-readable dump).
pub fn decode_byte(b: u8) -> char {
    if b < 0x80 {
        char::from(b)
    } else {
        PC858_HIGH[usize::from(b - 0x80)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_text_keeps_its_letters_one_byte_each() {
        let bytes = encode("Müsli Größe ½ € É");
        assert_eq!(bytes.len(), "Müsli Größe ½ € É".chars().count());
        assert_eq!(bytes[1], 0x81, "ü is 0x81");
        assert_eq!(bytes[14], 0xD5, "€ is 0xD5 in 858");
        assert!(bytes.iter().all(|b| *b != 0xC3), "no UTF-8 lead byte");
    }

    #[test]
    fn what_the_printer_lacks_is_transliterated_or_a_question_mark() {
        assert_eq!(fold("Łódź – “x” …"), "Lódz - \"x\" ...");
        assert_eq!(fold("日本"), "??");
        assert_eq!(fold("a\tb\nc"), "a b c");
        assert_eq!(fold("12,00\u{a0}€"), "12,00 €");
        assert_eq!(fold("┼"), "?");
    }

    #[test]
    fn every_byte_decodes_back_to_what_encodes_to_it() {
        for b in 0x20u8..=0xFF {
            let c = decode_byte(b);
            if b == 0x7F || is_drawing(c) || c == '\u{A0}' || c == '\u{AD}' {
                continue;
            }
            assert_eq!(encode(&c.to_string()), vec![b], "byte {b:#x} ({c})");
        }
    }
}
