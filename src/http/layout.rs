//! What every page shares: the request as pages see it (the portal's settings, the language,
//! the path) and the values of the frame in `web/layout.html`. The templates are `http::pages`.

use super::i18n::{self, Lang};
use crate::config::Config;
use crate::portal::Portal;
use crate::workflow::Policy;
use actix_web::{HttpRequest, web};
use std::collections::BTreeMap;
use std::sync::LazyLock;

fn portal_of(req: &HttpRequest) -> Option<&Portal> {
    req.app_data::<web::Data<Portal>>().map(|p| p.get_ref())
}

/// The language of `req` among the configured ones.
pub fn lang_of(req: &HttpRequest) -> Lang {
    match portal_of(req) {
        Some(p) => i18n::negotiate(req, &p.config().org.languages),
        None => Lang::Nl,
    }
}

/// The settings of a request that carries no portal (the server always has one): the defaults.
static NO_PORTAL: LazyLock<Config> = LazyLock::new(Config::default);

/// What a page takes from its request and the portal; unit tests build one by hand.
pub(super) struct Ctx<'a> {
    pub(super) config: &'a Config,
    pub(super) public_url: String,
    pub(super) policy: Option<&'a Policy>,
    pub(super) offers_acknowledgement: bool,
    pub(super) lang: Lang,
    pub(super) path: &'a str,
}

impl<'a> Ctx<'a> {
    pub(super) fn of(req: &'a HttpRequest) -> Self {
        let portal = portal_of(req);
        Ctx {
            config: portal.map_or(&*NO_PORTAL, Portal::config),
            public_url: portal.map(Portal::public_url).unwrap_or_default(),
            policy: portal.map(Portal::policy),
            offers_acknowledgement: portal.is_some_and(|p| p.notifier().offers_acknowledgement()),
            lang: lang_of(req),
            path: req.path(),
        }
    }

    /// The frame around a page; `switch` offers the language switch (pages reached by GET
    /// only: a POST result cannot be asked again).
    pub(super) fn layout(&self, switch: bool) -> Layout<'a> {
        let org = &self.config.org;
        let sep = if org.policy_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let langs = if switch && org.languages.len() >= 2 {
            org.languages
                .iter()
                .filter_map(|l| match l.as_str() {
                    "nl" => Some(Lang::Nl),
                    "en" => Some(Lang::En),
                    _ => None,
                })
                .map(|l| LangLink {
                    lang: l,
                    name: i18n::text(l, "lang_name"),
                    current: l == self.lang,
                })
                .collect()
        } else {
            Vec::new()
        };
        Layout {
            lang: self.lang,
            org: &org.name,
            contact_email: &org.contact_email,
            policy_url: format!("{}{sep}lang={}", org.policy_url, self.lang),
            public_url: self.public_url.clone(),
            path: self.path,
            langs,
            js: i18n::js_texts(self.lang),
            logo_alt: (!self.config.branding.logo_file.as_os_str().is_empty()).then(|| {
                let alt = self.config.branding.logo_alt.trim();
                if alt.is_empty() {
                    org.name.as_str()
                } else {
                    alt
                }
            }),
            footer_links: &self.config.branding.footer_links,
        }
    }
}

/// What `web/layout.html` shows around every page's content.
pub(super) struct Layout<'a> {
    pub(super) lang: Lang,
    pub(super) org: &'a str,
    pub(super) contact_email: &'a str,
    /// `org.policy_url` in the page's language.
    pub(super) policy_url: String,
    pub(super) public_url: String,
    /// The page's path, for the language switch.
    pub(super) path: &'a str,
    /// The language switch; empty when not offered.
    pub(super) langs: Vec<LangLink>,
    /// The texts of `web/app.js`, written into the page as JSON.
    pub(super) js: BTreeMap<&'static str, &'static str>,
    /// With a logo configured: its text alternative (the organisation's name by default).
    pub(super) logo_alt: Option<&'a str>,
    /// `[branding] footer_links`.
    pub(super) footer_links: &'a [crate::config::FooterLink],
}

/// One language in the switch.
pub(super) struct LangLink {
    pub(super) lang: Lang,
    /// The language's name in itself.
    pub(super) name: &'static str,
    pub(super) current: bool,
}
