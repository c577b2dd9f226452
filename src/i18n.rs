//! The languages of pages and mails: the translation tables in `web/i18n/*.toml`, looked up by
//! key and handed to the templates as plain text. Choosing a request's language is `http::i18n`.

use crate::error::ApiError;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Dutch.
    Nl,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    /// The language of a tag such as `nl`, `en-GB`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag.trim().to_ascii_lowercase().split('-').next() {
            Some("nl") => Some(Lang::Nl),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// A translation file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("translation file web/i18n/{file} is broken: {problem}")]
pub struct TranslationError {
    /// The file, e.g. `nl.toml`.
    pub file: &'static str,
    /// What the parser said (it names the line).
    pub problem: String,
}

impl crate::hint::Hint for TranslationError {
    fn hint(&self) -> Option<String> {
        Some(
            "fix the file (every entry is key = \"text\", one per line) and build again; the \
             texts are compiled into the binary"
                .into(),
        )
    }
}

/// Parses one translation file strictly: valid TOML whose every value is a string.
pub fn parse_table(
    file: &'static str,
    text: &str,
) -> Result<HashMap<String, String>, TranslationError> {
    toml::from_str::<HashMap<String, String>>(text).map_err(|e| TranslationError {
        file,
        problem: e.to_string().trim_end().to_owned(),
    })
}

type Tables = (HashMap<String, String>, HashMap<String, String>);

/// The compiled-in files, parsed once. A broken file is an error, never an empty table that
/// would show keys instead of texts: `check` stops the server at start-up.
static TABLES: LazyLock<Result<Tables, TranslationError>> = LazyLock::new(|| {
    Ok((
        parse_table("nl.toml", include_str!("../web/i18n/nl.toml"))?,
        parse_table("en.toml", include_str!("../web/i18n/en.toml"))?,
    ))
});

/// Checks that every compiled-in translation file parses; the server runs this before it
/// starts.
pub fn check() -> Result<(), TranslationError> {
    TABLES.as_ref().map(|_| ()).map_err(Clone::clone)
}

fn tables() -> &'static Tables {
    match &*TABLES {
        Ok(t) => t,
        // Unreachable in a server: start-up stops at `check` first, and a unit test parses
        // every file.
        Err(e) => panic!("{e}"),
    }
}

fn table_of(lang: Lang) -> &'static HashMap<String, String> {
    match lang {
        Lang::Nl => &tables().0,
        Lang::En => &tables().1,
    }
}

/// The text of `key` in `lang` (English when missing there, else the key itself).
pub fn text(lang: Lang, key: &str) -> &str {
    table_of(lang)
        .get(key)
        .or_else(|| table_of(Lang::En).get(key))
        .map_or(key, String::as_str)
}

/// [`text`], owned.
pub fn t(lang: Lang, key: &str) -> String {
    text(lang, key).to_owned()
}

/// A language's texts as templates use them: `t["key"]` is [`text`]`(lang, "key")`.
#[derive(Debug, Clone, Copy)]
pub struct Texts(pub Lang);

impl std::ops::Index<&'static str> for Texts {
    type Output = str;

    fn index(&self, key: &'static str) -> &str {
        text(self.0, key)
    }
}

/// Every key of a language's table (for tests).
pub fn keys(lang: Lang) -> Vec<String> {
    table_of(lang).keys().cloned().collect()
}

/// Fills the `{{name}}` slots of a text with plain values. The result is text like any other:
/// the page templates escape it where they show it.
pub fn fill(text: &str, slots: &[(&str, &str)]) -> String {
    slots.iter().fold(text.to_owned(), |out, (name, value)| {
        out.replace(&format!("{{{{{name}}}}}"), value)
    })
}

/// The human message of an error in `lang`.
pub fn error_message(lang: Lang, err: &ApiError) -> String {
    if lang == Lang::En {
        return err.to_string();
    }
    let text = t(lang, &err.text_key());
    if text == err.text_key() {
        return err.to_string();
    }
    match err.param() {
        Some(p) => text.replace("{0}", &p),
        None => text,
    }
}

/// The `js_*` texts of `lang` (English where missing), keyed without the prefix, for
/// `web/app.js`.
pub fn js_texts(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    table_of(Lang::En)
        .iter()
        .chain(table_of(lang).iter())
        .filter_map(|(k, v)| Some((k.strip_prefix("js_")?, v.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_translation_file_parses_strictly_and_the_languages_share_their_keys() {
        check().unwrap();
        let (nl, en) = tables();
        // Dutch has the error messages too (`e_*`); English ones are the errors' own texts.
        let missing_in_nl: Vec<&String> = en.keys().filter(|k| !nl.contains_key(*k)).collect();
        let missing_in_en: Vec<&String> = nl
            .keys()
            .filter(|k| !k.starts_with("e_") && !en.contains_key(*k))
            .collect();
        assert!(
            missing_in_nl.is_empty(),
            "not in nl.toml: {missing_in_nl:?}"
        );
        assert!(
            missing_in_en.is_empty(),
            "not in en.toml: {missing_in_en:?}"
        );
        assert!(nl.values().chain(en.values()).all(|v| !v.trim().is_empty()));
        assert!(en.len() > 80);
    }

    #[test]
    fn a_broken_translation_file_is_refused_with_its_name_and_line() {
        let err = parse_table(
            "nl.toml",
            "submit = \"Verzenden\"\nindex_title = \"Melden\n",
        )
        .unwrap_err();
        assert_eq!(err.file, "nl.toml");
        assert!(err.to_string().contains("web/i18n/nl.toml"), "{err}");
        assert!(err.problem.contains("line 2"), "{err}");
        // Not text: refused too, never read as an empty table.
        assert!(parse_table("en.toml", "submit = 3\n").is_err());
        assert!(parse_table("en.toml", "[section]\nsubmit = \"x\"\n").is_err());
        assert_eq!(
            parse_table("en.toml", "submit = \"Send\"\n").unwrap()["submit"],
            "Send"
        );
    }

    #[test]
    fn every_error_code_has_a_dutch_message() {
        for e in [
            ApiError::FileTooLarge(crate::config::ByteSize(1000)),
            ApiError::UnknownReference,
            ApiError::RateLimited(7),
            ApiError::ContactRequired,
            ApiError::InviteGone,
        ] {
            let m = error_message(Lang::Nl, &e);
            assert_ne!(m, e.to_string(), "{}", e.code());
        }
        assert!(error_message(Lang::Nl, &ApiError::RateLimited(7)).contains("7 seconden"));
    }

    #[test]
    fn texts_fall_back_to_english_then_to_the_key_and_slots_take_plain_values() {
        assert_eq!(Texts(Lang::Nl)["submit"], *"Versleuteld verzenden");
        assert_eq!(text(Lang::Nl, "no_such_key"), "no_such_key");
        assert_eq!(
            fill("{{a}}-{{a}}-{{b}}", &[("a", "<1>"), ("b", "2")]),
            "<1>-<1>-2"
        );
        let js = js_texts(Lang::Nl);
        assert_eq!(js["copy"], "Kopiëren");
        assert!(js.keys().all(|k| !k.starts_with("js_")) && js.len() > 15);
    }
}
