//! The languages of pages and mails: the translation tables in `web/i18n/` and filling
//! `{{t.key}}` slots. Choosing a request's language is `http::i18n`.

use crate::error::ApiError;
use std::collections::HashMap;
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

fn table(text: &str) -> HashMap<String, String> {
    toml::from_str::<HashMap<String, String>>(text).unwrap_or_default()
}

static NL: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| table(include_str!("../web/i18n/nl.toml")));
static EN: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| table(include_str!("../web/i18n/en.toml")));

/// The text of `key` in `lang` (English when missing there, else the key itself).
pub fn t(lang: Lang, key: &str) -> String {
    let primary = match lang {
        Lang::Nl => &*NL,
        Lang::En => &*EN,
    };
    primary
        .get(key)
        .or_else(|| EN.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// Every key of a language's table (for tests).
pub fn keys(lang: Lang) -> Vec<String> {
    let table = match lang {
        Lang::Nl => &*NL,
        Lang::En => &*EN,
    };
    table.keys().cloned().collect()
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
    fn slots_are_translated_and_js_strings_cannot_close_their_script_element() {
        assert_eq!(
            translate("<h1>{{t.submit}}</h1>", Lang::Nl),
            "<h1>Versleuteld verzenden</h1>"
        );
        let js = js_strings(Lang::En);
        assert!(!js.contains('<') && js.contains("\"copy\""));
    }
}
