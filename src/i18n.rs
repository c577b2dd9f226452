//! The languages of pages and mails: the translation tables in `web/i18n/`, looked up by key
//! and filled into `{{t.key}}` slots. Choosing a request's language is `http::i18n`.

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

/// Replaces every `{{t.key}}` in `template` with its text in `lang`.
pub fn translate(template: &str, lang: Lang) -> String {
    let mut out = String::with_capacity(template.len() + 1024);
    let mut rest = template;
    while let Some(start) = rest.find("{{t.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 4..];
        match after.find("}}") {
            Some(end) => {
                out.push_str(&t(lang, &after[..end]));
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
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

/// The `js_*` texts and every error message of `lang` as JSON that is safe inside a
/// `<script type="application/json">` element.
pub fn js_strings(lang: Lang) -> String {
    let table = match lang {
        Lang::Nl => &*NL,
        Lang::En => &*EN,
    };
    let mut map = serde_json::Map::new();
    for (k, v) in EN.iter().chain(table.iter()) {
        if let Some(short) = k.strip_prefix("js_") {
            map.insert(short.to_owned(), serde_json::Value::String(v.clone()));
        }
    }
    serde_json::Value::Object(map)
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
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

    #[test]
    fn slots_are_translated_and_js_strings_cannot_close_their_script_element() {
        assert_eq!(
            translate("<h1>{{t.submit}}</h1>", Lang::Nl),
            "<h1>Versleuteld verzenden</h1>"
        );
        let js = js_strings(Lang::En);
        assert!(!js.contains('<') && js.contains("\"copy\""));
    }
}
