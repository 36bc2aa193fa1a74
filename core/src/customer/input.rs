//! Checks of what a customer types, made before anything is written: a bad
//! input is a `CoreError::Invalid` naming the field, and the document is
//! left as it was.

use shopsync_types::customer::{MAX_ITEM_QTY, MAX_TEXT_BYTES};

use crate::error::{CoreError, Result};

/// Longest store id accepted (store ids are UUIDs: 36 bytes).
pub const MAX_STORE_ID_BYTES: usize = 64;

/// A name or a line of text: trimmed, not empty, at most
/// [`MAX_TEXT_BYTES`] bytes, no control characters. Returns the trimmed text.
pub fn text<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    let t = value.trim();
    if t.is_empty() {
        return Err(CoreError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if t.len() > MAX_TEXT_BYTES {
        return Err(CoreError::invalid(
            field,
            format!(
                "{field} is {} bytes long; at most {MAX_TEXT_BYTES} are allowed",
                t.len()
            ),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(t)
}

/// An e-mail address: text as above, with no white space and one `@` with
/// something on both sides. (Whether it receives mail is not checked.)
pub fn email(value: &str) -> Result<&str> {
    let t = text("email", value)?;
    let ok = !t.chars().any(char::is_whitespace)
        && t.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if !ok {
        return Err(CoreError::invalid(
            "email",
            format!("'{t}' is not an e-mail address"),
        ));
    }
    Ok(t)
}

/// A quantity on a shopping list: `1..=MAX_ITEM_QTY`.
pub fn qty(value: i64) -> Result<i64> {
    if !(1..=MAX_ITEM_QTY).contains(&value) {
        return Err(CoreError::invalid(
            "qty",
            format!("quantity must be between 1 and {MAX_ITEM_QTY}, not {value}"),
        ));
    }
    Ok(value)
}

/// A store id as document ids hold it (`store/{id}/public` must parse):
/// 1 to [`MAX_STORE_ID_BYTES`] ASCII letters, digits or `-`.
pub fn store_id(field: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= MAX_STORE_ID_BYTES
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !ok {
        return Err(CoreError::invalid(
            field,
            format!("'{value}' is not a store id"),
        ));
    }
    Ok(())
}
