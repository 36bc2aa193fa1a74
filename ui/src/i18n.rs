//! The UI's text in the cashier's language, and money and dates in its
//! conventions.
//!
//! Messages live in Fluent files (`ui/locales/<tag>.ftl`), embedded into the
//! wasm with `include_str!`, and are read with [`tr!`]. Fluent
//! (`fluent-bundle`) was chosen over `leptos_i18n`: it is a plain runtime
//! library (no build script, no code generation, no proc macros tied to a
//! Leptos version), the message files are the standard format translators
//! know, and what it adds to the wasm is one parser and the plural rules.
//! A new language is one more `.ftl` file, its entry in
//! [`Locale`](shopsync_types::Locale) and in [`source`]; the host test in
//! this module checks that every file has every message the code uses.
//!
//! The current language is app state (`Ctx::locale`); the app re-renders its
//! whole tree when it changes (see `app.rs`), so every `tr!` reads the
//! language of the render it is in. Text built later (a message after a
//! save) reads the language of that moment.

use std::cell::{Cell, RefCell};

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource};
use shopsync_types::Locale;
use shopsync_types::money::{Currency, MoneyError};

/// The message file of a language.
pub fn source(locale: Locale) -> &'static str {
    match locale {
        Locale::En => include_str!("../locales/en.ftl"),
        Locale::De => include_str!("../locales/de.ftl"),
    }
}

thread_local! {
    static LOCALE: Cell<Locale> = const { Cell::new(Locale::En) };
    static CURRENCY: Cell<Currency> = const { Cell::new(Currency::NONE) };
    static BUNDLES: RefCell<Vec<(Locale, FluentBundle<FluentResource>)>> = const { RefCell::new(Vec::new()) };
}

pub fn locale() -> Locale {
    LOCALE.with(Cell::get)
}

pub fn set_locale(l: Locale) {
    LOCALE.with(|c| c.set(l));
}

/// The store's currency, for money shown with its sign.
pub fn set_currency(code: &str) {
    if let Ok(c) = Currency::from_code(code) {
        CURRENCY.with(|cell| cell.set(c));
    }
}

pub fn currency() -> Currency {
    CURRENCY.with(Cell::get)
}

fn bundle(locale: Locale) -> FluentBundle<FluentResource> {
    let lang = locale.tag().parse().unwrap_or_default();
    let mut b = FluentBundle::new(vec![lang]);
    // No Unicode isolation marks around arguments: the till shows only
    // left-to-right languages and the marks would end up in copied text.
    b.set_use_isolating(false);
    let res = FluentResource::try_new(source(locale).to_string()).unwrap_or_else(|(r, _)| r);
    let _ = b.add_resource(res);
    b
}

/// A message in the current language; the id itself when it is missing
/// (the host test keeps that from happening).
pub fn message(id: &str, args: Option<&FluentArgs>) -> String {
    let l = locale();
    BUNDLES.with(|cell| {
        // Not borrowed twice even when the panic screen asks for its text
        // while a message was being formatted.
        let Ok(mut bundles) = cell.try_borrow_mut() else {
            return id.to_string();
        };
        if !bundles.iter().any(|(k, _)| *k == l) {
            bundles.push((l, bundle(l)));
        }
        let Some((_, b)) = bundles.iter().find(|(k, _)| *k == l) else {
            return id.to_string();
        };
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            return id.to_string();
        };
        let mut errors = Vec::new();
        b.format_pattern(pattern, args, &mut errors).into_owned()
    })
}

/// `tr!("id")` or `tr!("id", name = value, …)`: a message in the current
/// language. Values are strings or numbers.
macro_rules! tr {
    ($id:literal) => {
        $crate::i18n::message($id, None)
    };
    ($id:literal, $($k:ident = $v:expr),+ $(,)?) => {{
        let mut args = fluent_bundle::FluentArgs::new();
        $( args.set(stringify!($k), $v); )+
        $crate::i18n::message($id, Some(&args))
    }};
}

/// Why a typed amount was refused, in the cashier's language.
pub fn money_error(e: &MoneyError) -> String {
    match e {
        MoneyError::NotAnAmount(t) => tr!("money-not-an-amount", text = t.clone()),
        MoneyError::TooPrecise { text, decimals } => {
            tr!(
                "money-too-precise",
                text = text.clone(),
                decimals = *decimals
            )
        }
        MoneyError::TooLarge(t) => tr!("money-too-large", text = t.clone()),
        MoneyError::BadGrouping(t) => tr!("money-bad-grouping", text = t.clone()),
        MoneyError::Ambiguous(t) => tr!("money-ambiguous", text = t.clone()),
        MoneyError::WrongDecimalSeparator { text, expected } => tr!(
            "money-wrong-separator",
            text = text.clone(),
            expected = expected.to_string()
        ),
        MoneyError::BadCurrency(t) | MoneyError::UnknownCurrency(t) => {
            tr!("money-bad-currency", text = t.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// The ids a message file defines (messages, not terms or comments).
    fn ids(ftl: &str) -> BTreeSet<String> {
        ftl.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_string()))
            .collect()
    }

    /// Each message's variables (`{ $name }`), by id: a translation that
    /// names one differently shows the raw placeholder instead of the value.
    fn variables(ftl: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
        let mut out = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
        let mut current = None;
        for line in ftl.lines() {
            if line.starts_with(|c: char| c.is_ascii_lowercase()) {
                current = line.split_once('=').map(|(id, _)| id.trim().to_string());
            } else if !line.starts_with(char::is_whitespace) {
                current = None;
            }
            let Some(id) = &current else { continue };
            let vars = out.entry(id.clone()).or_default();
            for (i, _) in line.match_indices('$') {
                let name: String = line[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                vars.insert(name);
            }
        }
        out
    }

    #[test]
    fn every_language_uses_the_english_messages_variables() {
        let en = variables(source(Locale::En));
        assert!(
            en.values().filter(|v| !v.is_empty()).count() > 10,
            "found too few messages with variables in en.ftl"
        );
        for l in Locale::ALL {
            let other = variables(source(l));
            for (id, vars) in &en {
                assert_eq!(
                    other.get(id),
                    Some(vars),
                    "{}.ftl's {id} names other variables than en.ftl's",
                    l.tag()
                );
            }
        }
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every `tr!("id"` in the UI's sources.
    fn used_ids() -> BTreeSet<String> {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut used = BTreeSet::new();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            // The code, not its tests (which ask for a missing id on
            // purpose) nor its comments.
            let code: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for (i, _) in code.match_indices("tr!(") {
                // `tr!(`, not `include_str!(`.
                let in_word = code[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                // rustfmt may put the id on the next line.
                let rest = code[i + 4..].trim_start();
                if in_word {
                    continue;
                }
                match rest.strip_prefix('"').and_then(|r| r.split_once('"')) {
                    Some((id, _)) => {
                        used.insert(id.to_string());
                    }
                    // Shows up as a missing message.
                    None => {
                        used.insert(format!("<tr! without a literal id in {}>", f.display()));
                    }
                }
            }
        }
        used
    }

    #[test]
    fn every_language_has_exactly_the_english_messages() {
        let en = ids(source(Locale::En));
        assert!(en.len() > 100, "en.ftl has only {} messages", en.len());
        for l in Locale::ALL {
            let other = ids(source(l));
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}.ftl: missing {missing:?}, not in en.ftl {extra:?}",
                l.tag()
            );
        }
    }

    #[test]
    fn every_message_the_code_uses_exists_and_parses() {
        let used = used_ids();
        assert!(used.len() > 100, "found only {} tr! calls", used.len());
        for l in Locale::ALL {
            let res = FluentResource::try_new(source(l).to_string());
            assert!(
                res.is_ok(),
                "{}.ftl does not parse: {:?}",
                l.tag(),
                res.err().map(|e| e.1)
            );
            let defined = ids(source(l));
            let missing: Vec<_> = used.difference(&defined).collect();
            assert!(missing.is_empty(), "{}.ftl lacks {missing:?}", l.tag());
        }
    }

    #[test]
    fn messages_format_with_arguments_in_each_language() {
        set_locale(Locale::De);
        assert_eq!(tr!("nav-settings"), "Einstellungen");
        assert_eq!(
            tr!("money-too-precise", text = "1,234", decimals = 2),
            "'1,234' hat mehr als 2 Nachkommastellen"
        );
        set_locale(Locale::En);
        assert_eq!(tr!("nav-settings"), "Settings");
        assert_eq!(tr!("no-such-message"), "no-such-message");
    }
}
