//! The customer's name and e-mail: plain strings under root keys, last
//! writer wins. A name or an address merged character by character from two
//! concurrent rewrites would be neither; one whole value is kept instead.

use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue};

use super::{input, layout};
use crate::error::Result;

/// Sets the customer's name (trimmed, 1..=1,000 bytes).
pub fn set_name(doc: &mut AutoCommit, name: &str) -> Result<()> {
    let name = input::text("name", name)?;
    layout::put_if_changed(
        doc,
        &ROOT,
        layout::PROFILE_NAME,
        ScalarValue::Str(name.into()),
    )
}

/// Sets the customer's e-mail address, or clears it with `None`.
pub fn set_email(doc: &mut AutoCommit, email: Option<&str>) -> Result<()> {
    let value = match email {
        Some(e) => ScalarValue::Str(input::email(e)?.into()),
        None => ScalarValue::Null,
    };
    if email.is_none() && doc.get_all(ROOT, layout::PROFILE_EMAIL)?.is_empty() {
        return Ok(());
    }
    layout::put_if_changed(doc, &ROOT, layout::PROFILE_EMAIL, value)
}
