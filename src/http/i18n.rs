//! Choosing the language of a request: `?lang=` first, then `Accept-Language`, then the first
//! of `org.languages`. The texts themselves are `crate::i18n`.

pub use crate::i18n::*;
use actix_web::HttpRequest;
use actix_web::http::header;

/// The language of this request among `offered` (the configured languages, first = default).
pub fn negotiate(req: &HttpRequest, offered: &[String]) -> Lang {
    let offered: Vec<Lang> = offered.iter().filter_map(|l| Lang::from_tag(l)).collect();
    let default = offered.first().copied().unwrap_or(Lang::Nl);
    let from_query = req.query_string().split('&').find_map(|kv| {
        kv.strip_prefix("lang=")
            .and_then(Lang::from_tag)
            .filter(|l| offered.contains(l))
    });
    if let Some(l) = from_query {
        return l;
    }
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return default;
    };
    let mut best: Option<(f32, Lang)> = None;
    for item in accept.split(',').take(32) {
        let mut parts = item.split(';');
        let Some(lang) = parts.next().and_then(Lang::from_tag) else {
            continue;
        };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && offered.contains(&lang) && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map_or(default, |(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn offered() -> Vec<String> {
        vec!["nl".into(), "en".into()]
    }

    #[test]
    fn the_query_wins_then_accept_language_by_quality_then_the_default() {
        let req = TestRequest::default()
            .uri("/?lang=en")
            .insert_header((header::ACCEPT_LANGUAGE, "nl"))
            .to_http_request();
        assert_eq!(negotiate(&req, &offered()), Lang::En);
        let req = TestRequest::default()
            .insert_header((header::ACCEPT_LANGUAGE, "de-DE, en-GB;q=0.8, nl;q=0.5"))
            .to_http_request();
        assert_eq!(negotiate(&req, &offered()), Lang::En);
        let req = TestRequest::default()
            .insert_header((header::ACCEPT_LANGUAGE, "fr"))
            .to_http_request();
        assert_eq!(negotiate(&req, &offered()), Lang::Nl);
        let req = TestRequest::default().uri("/?lang=fr").to_http_request();
        assert_eq!(negotiate(&req, &["en".into()]), Lang::En);
    }
}
