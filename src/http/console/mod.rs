//! The team's console over HTTP: a listener of its own (`[console] listen`), which serves only
//! console routes (the public listener serves none of them, and no upload route is here),
//! with the public pages' security headers and CSP. Sign-in and the guards are `auth`, the
//! pages `pages`, every team action `act` (one generic form handler over the typed operations),
//! the templates `view`. The console's state (sessions, links, the provider) is `console`.

mod act;
mod auth;
mod case;
mod inbox;
mod pages;
mod report;
mod tables;
mod view;

use crate::i18n::Lang;
use crate::portal::Portal;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use std::future::Future;
use std::pin::Pin;

/// Largest form the console takes (a message to the reporter is the largest field).
const MAX_FORM: usize = 256 * 1024;

/// A posted form (`application/x-www-form-urlencoded`), as its pairs.
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The pairs with a value, without the CSRF token and the given fields.
    fn fields(&self, except: &[&str]) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, v)| k != "csrf" && !except.contains(&k.as_str()) && !v.trim().is_empty())
            .cloned()
            .collect()
    }
}

impl FromRequest for Form {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Form, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await?;
            Ok(Form(
                serde_urlencoded::from_bytes(&body).unwrap_or_default(),
            ))
        })
    }
}

/// The language of a console request: `?lang=`, else the browser's, among Dutch and English.
pub fn lang(req: &HttpRequest) -> Lang {
    static BOTH: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| vec!["nl".into(), "en".into()]);
    super::i18n::negotiate(req, &BOTH)
}

/// An HTML answer.
fn page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Registers every console route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let (get, post) = (web::get, web::post);
    cfg.app_data(web::PayloadConfig::new(MAX_FORM))
        .service(web::resource("/").route(get().to(inbox::inbox)))
        .service(web::resource("/sign-in").route(get().to(auth::sign_in_page)))
        .service(web::resource("/sign-in/start").route(get().to(auth::start)))
        .service(web::resource("/sign-in/callback").route(get().to(auth::callback)))
        .service(web::resource("/sign-in/link").route(post().to(auth::use_link)))
        .service(web::resource("/sign-in/link/{token}").route(get().to(auth::link_page)))
        .service(web::resource("/sign-out").route(post().to(auth::sign_out)))
        .service(web::resource("/cases/{case}").route(get().to(case::case)))
        .service(web::resource("/cases/{case}/export").route(get().to(case::export)))
        .service(web::resource("/cases/{case}/{action}").route(post().to(act::act)))
        .service(web::resource("/register.csv").route(get().to(tables::register)))
        .service(web::resource("/audit").route(get().to(tables::audit)))
        .service(web::resource("/report").route(get().to(report::report)))
        .service(web::resource("/keys").route(get().to(tables::keys)))
        .service(web::resource("/invites").route(get().to(tables::invites)))
        .service(web::resource("/static/style.css").route(get().to(super::pages::stylesheet)))
        .service(web::resource("/static/console.css").route(get().to(tables::stylesheet)))
        .service(web::resource("/healthz").route(get().to(super::pages::healthz)));
}

/// The console's answer to a path it does not have: a plain 404 page.
pub async fn not_found(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    auth::refusal(
        &req,
        &portal,
        None,
        StatusCode::NOT_FOUND,
        "not-found",
        "c_not_found",
    )
}
