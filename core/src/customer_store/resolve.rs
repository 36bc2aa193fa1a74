//! Naming things on a command line: an id, or a name or prefix that picks
//! exactly one. One rule for lists, items, shops and orders.

use crate::error::{CoreError, Result};

/// A candidate: its id and the names it answers to.
pub struct Candidate<'a> {
    pub id: &'a str,
    pub names: Vec<&'a str>,
    /// How it is shown in an "ambiguous" message.
    pub label: String,
}

/// The id `given` names among `candidates`, trying in turn: an exact id, an
/// exact name (ignoring case), a name prefix (ignoring case), an id prefix.
/// The first rule that matches anything decides; more than one match there
/// is an error listing them.
pub fn pick(
    what: &'static str,
    field: &str,
    given: &str,
    candidates: &[Candidate<'_>],
) -> Result<String> {
    let g = given.trim();
    if g.is_empty() {
        return Err(CoreError::invalid(field, format!("name a {what}")));
    }
    let lower = g.to_lowercase();
    let rules: [&dyn Fn(&Candidate<'_>) -> bool; 4] = [
        &|c| c.id == g,
        &|c| c.names.iter().any(|n| n.to_lowercase() == lower),
        &|c| c.names.iter().any(|n| n.to_lowercase().starts_with(&lower)),
        &|c| c.id.starts_with(g),
    ];
    for rule in rules {
        let hits: Vec<&Candidate<'_>> = candidates.iter().filter(|c| rule(c)).collect();
        match hits.as_slice() {
            [] => continue,
            [one] => return Ok(one.id.to_string()),
            many => {
                let shown: Vec<String> = many.iter().take(5).map(|c| c.label.clone()).collect();
                return Err(CoreError::invalid(
                    field,
                    format!(
                        "'{g}' matches {} {what}s: {}{}; give more of the name or the id",
                        many.len(),
                        shown.join(", "),
                        if many.len() > 5 { ", …" } else { "" }
                    ),
                ));
            }
        }
    }
    Err(CoreError::not_found(what, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(id: &'a str, name: &'a str) -> Candidate<'a> {
        Candidate {
            id,
            names: vec![name],
            label: format!("{name} ({id})"),
        }
    }

    #[test]
    fn id_then_exact_name_then_prefix() -> Result<()> {
        let all = [c("a1", "Groceries"), c("b2", "Grocery run"), c("c3", "gro")];
        assert_eq!(pick("list", "list", "b2", &all)?, "b2");
        assert_eq!(pick("list", "list", "GRO", &all)?, "c3", "exact name wins");
        assert_eq!(pick("list", "list", "grocery", &all)?, "b2");
        let err = pick("list", "list", "groc", &all).err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.to_string().contains("matches 2 lists")),
            "{err:?}"
        );
        assert!(matches!(
            pick("list", "list", "zzz", &all),
            Err(CoreError::NotFound { .. })
        ));
        assert_eq!(pick("list", "list", "a", &all)?, "a1", "id prefix last");
        Ok(())
    }
}
