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

fn table(text: &str) -> HashMap<String, String> {
    toml::from_str::<HashMap<String, String>>(text).unwrap_or_default()
}

static NL: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| table(include_str!("../web/i18n/nl.toml")));
static EN: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| table(include_str!("../web/i18n/en.toml")));

fn table_of(lang: Lang) -> &'static HashMap<String, String> {
    match lang {
        Lang::Nl => &NL,
        Lang::En => &EN,
    }
}

/// The text of `key` in `lang` (English when missing there, else the key itself).
pub fn text(lang: Lang, key: &str) -> &str {
    table_of(lang)
        .get(key)
        .or_else(|| EN.get(key))
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
    EN.iter()
        .chain(table_of(lang).iter())
        .filter_map(|(k, v)| Some((k.strip_prefix("js_")?, v.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_page_keys() {
        let mut nl: Vec<String> = keys(Lang::Nl)
            .into_iter()
            .filter(|k| !k.starts_with("e_"))
            .collect();
        let mut en = keys(Lang::En);
        nl.sort();
        en.sort();
        assert_eq!(nl, en);
        assert!(nl.len() > 80);
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
