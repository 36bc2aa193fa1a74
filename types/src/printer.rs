//! The till's receipt printer (ESC/POS thermal printers): its settings as
//! the CLI's `--json`, the shell and the UI see them, and what a print did.
//! The settings are the till's own (not synced): each counter has its own
//! printer.

use serde::{Deserialize, Serialize};

/// The roll a thermal printer takes, and how many characters of its
/// standard font fit on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ReceiptPaper {
    #[serde(rename = "58mm")]
    Mm58,
    #[default]
    #[serde(rename = "80mm")]
    Mm80,
}

impl ReceiptPaper {
    pub const ALL: [ReceiptPaper; 2] = [ReceiptPaper::Mm58, ReceiptPaper::Mm80];

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptPaper::Mm58 => "58mm",
            ReceiptPaper::Mm80 => "80mm",
        }
    }

    pub fn parse(text: &str) -> Option<ReceiptPaper> {
        ReceiptPaper::ALL
            .into_iter()
            .find(|p| p.as_str() == text.trim())
    }

    /// Characters per line in font A (12×24 dots): 384 dots on 58 mm
    /// paper, 576 on 80 mm.
    pub fn columns(self) -> usize {
        match self {
            ReceiptPaper::Mm58 => 32,
            ReceiptPaper::Mm80 => 48,
        }
    }

    /// Printable dots across the roll (203 dpi heads).
    pub fn dots(self) -> usize {
        match self {
            ReceiptPaper::Mm58 => 384,
            ReceiptPaper::Mm80 => 576,
        }
    }
}

/// How the sale number is printed for scanning back (a reprint, a refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptCode {
    /// CODE128 (a hand scanner reads it).
    #[default]
    Barcode,
    /// A QR code (phones read it too).
    Qr,
    /// Only the number in text.
    None,
}

impl ReceiptCode {
    pub const ALL: [ReceiptCode; 3] = [ReceiptCode::Barcode, ReceiptCode::Qr, ReceiptCode::None];

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptCode::Barcode => "barcode",
            ReceiptCode::Qr => "qr",
            ReceiptCode::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<ReceiptCode> {
        ReceiptCode::ALL
            .into_iter()
            .find(|c| c.as_str() == text.trim())
    }
}

/// This till's receipt printer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterSettings {
    /// `tcp://host[:port]` (port 9100 if left out) or a device file such as
    /// `/dev/usb/lp0`; `None`: no thermal printer (the system print dialog
    /// prints receipts).
    pub target: Option<String>,
    pub paper: ReceiptPaper,
    pub code: ReceiptCode,
    /// Open the cash drawer (the printer's drawer port) after a sale paid
    /// with cash.
    pub kick_on_cash: bool,
}

/// Changes to the printer settings; `None` leaves a field as it is. A
/// target of "none" (or empty) removes the printer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterSettingsEdit {
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub paper: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub kick_on_cash: Option<bool>,
}

/// What a print sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintOutcome {
    /// The printer, as set (`tcp://…` or a device path).
    pub target: String,
    pub bytes: usize,
    /// Whether the drawer-kick pulse was sent.
    pub kicked: bool,
}
