//! Staff PINs: 4 to 8 digits, stored only as an argon2id hash in a PHC
//! string (salt and parameters inside). Never kept in clear, never logged:
//! [`Pin`] prints as `Pin(****)`.
//!
//! A hash of 4 to 6 digits can be brute-forced by whoever holds the
//! catalog (a manager's device, the sync server's operator): PINs are for
//! accountability at the counter, not for secrecy (docs/DOCUMENTS.md).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::{CoreError, Result};

/// Fewest and most digits of a PIN.
pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 4..=8;

/// A PIN as typed, checked for form. Its `Debug` hides the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

impl Pin {
    /// A PIN of 4 to 8 digits; anything else is refused without echoing it.
    pub fn parse(text: &str) -> Result<Pin> {
        let t = text.trim();
        if !PIN_DIGITS.contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoreError::invalid(
                "pin",
                format!(
                    "a PIN is {} to {} digits",
                    PIN_DIGITS.start(),
                    PIN_DIGITS.end()
                ),
            ));
        }
        Ok(Pin(t.to_string()))
    }

    /// The PIN's argon2id hash with a fresh random salt, as a PHC string.
    pub fn hash(&self) -> Result<String> {
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| CoreError::Corrupt(format!("cannot hash a PIN: {e}")))
    }

    /// Whether this PIN is the one hashed in `phc`. A hash that does not
    /// parse (a damaged catalog entry), or names a cost no till should pay
    /// (`crate::validate::pin_hash_is_sound`), matches nothing.
    pub fn matches(&self, phc: &str) -> bool {
        if !crate::validate::pin_hash_is_sound(phc) {
            return false;
        }
        match PasswordHash::new(phc) {
            Ok(parsed) => Argon2::default()
                .verify_password(self.0.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_four_to_eight_digits_and_never_printed() -> Result<()> {
        for bad in ["", "123", "123456789", "12a4", "12 34", "-1234"] {
            let e = Pin::parse(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("4 to 8 digits"), "{bad}: {e}");
        }
        let pin = Pin::parse(" 4821 ")?;
        assert_eq!(format!("{pin:?}"), "Pin(****)");
        Ok(())
    }

    #[test]
    fn a_hash_is_salted_argon2id_and_verifies_only_its_pin() -> Result<()> {
        let pin = Pin::parse("4821")?;
        let a = pin.hash()?;
        let b = pin.hash()?;
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert!(!a.contains("4821"));
        assert_ne!(a, b, "a fresh salt each time");
        assert!(pin.matches(&a) && pin.matches(&b));
        assert!(!Pin::parse("4822")?.matches(&a));
        assert!(!pin.matches("not a hash"));
        assert!(crate::validate::pin_hash_is_sound(&a), "{a}");
        // The same hash claiming a ruinous cost is not even tried.
        let costly = a.replacen("m=19456", "m=4294967295", 1);
        assert_ne!(costly, a);
        assert!(!crate::validate::pin_hash_is_sound(&costly));
        assert!(!pin.matches(&costly));
        for bad in [
            a.replacen("t=2", "t=99", 1),
            a.replacen("argon2id", "argon2i", 1),
            a.replacen("v=19", "v=16", 1),
            a.replacen("p=1", "p=1,x=2", 1),
            format!("{a}$extra"),
        ] {
            assert!(!crate::validate::pin_hash_is_sound(&bad), "{bad}");
        }
        Ok(())
    }
}
