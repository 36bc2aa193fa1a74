//! Printed pieces as ESC/POS bytes.

use shopsync_types::{ReceiptCode, ReceiptPaper};

use super::codepage::{PC858_TABLE_NUMBER, encode};
use super::commands::{self as cmd, Align};
use super::layout::Piece;

/// Bytes for `pieces` on `paper`: reset, the code page, then each piece.
pub fn render(pieces: &[Piece], paper: ReceiptPaper) -> Vec<u8> {
    let mut out = cmd::INIT.to_vec();
    out.extend(cmd::code_page(PC858_TABLE_NUMBER));
    for piece in pieces {
        match piece {
            Piece::Line {
                text,
                align,
                bold,
                big,
            } => {
                out.extend(cmd::align(*align));
                if *bold {
                    out.extend(cmd::bold(true));
                }
                if *big {
                    out.extend(cmd::double_size(true));
                }
                out.extend(encode(text));
                out.push(cmd::LF);
                if *big {
                    out.extend(cmd::double_size(false));
                }
                if *bold {
                    out.extend(cmd::bold(false));
                }
            }
            Piece::Code { kind, data } => {
                out.extend(cmd::align(Align::Center));
                out.extend(code(*kind, data, paper));
                out.extend(cmd::align(Align::Left));
            }
            Piece::Feed(n) => out.extend(cmd::feed(*n)),
            Piece::Cut => out.extend(cmd::CUT),
            Piece::Kick => out.extend(cmd::KICK),
        }
    }
    out
}

/// The barcode or QR code of `data`, sized to the paper. A number too long
/// for a barcode across the roll is left to the printed text.
fn code(kind: ReceiptCode, data: &str, paper: ReceiptPaper) -> Vec<u8> {
    let data: String = data.chars().filter(|c| (' '..='~').contains(c)).collect();
    if data.is_empty() {
        return Vec::new();
    }
    match kind {
        ReceiptCode::Barcode => {
            let modules = cmd::code128_modules(data.len());
            match (1..=3u8)
                .rev()
                .find(|m| modules * usize::from(*m) <= paper.dots())
            {
                Some(module) if data.len() <= 200 => {
                    let mut out = cmd::code128(&data, module);
                    out.push(cmd::LF);
                    out
                }
                _ => Vec::new(),
            }
        }
        ReceiptCode::Qr => {
            let module = match paper {
                ReceiptPaper::Mm58 => 5,
                ReceiptPaper::Mm80 => 6,
            };
            let mut out = cmd::qr(data.as_bytes(), module);
            out.push(cmd::LF);
            out
        }
        ReceiptCode::None => Vec::new(),
    }
}
