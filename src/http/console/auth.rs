//! Signing in and out of the console, and the guards every other console route passes: the
//! session from its cookie, the member's role, and for every change the same-origin check and
//! the session's CSRF token.
//!
//! Cookies: the session's is `__Host-`, `Secure`, `HttpOnly`, `SameSite=Strict`. The provider
//! sends the member back with a cross-site navigation, which carries no strict cookie, so the
//! browser's sign-in cookie (binding the answer to the browser that left) is `SameSite=Lax`,
//! and the callback answers with a page that moves on by itself (a same-site navigation, which
//! carries the new session cookie) rather than a redirect.

use super::view::{Frame, LinkPage, MessagePage, SignInPage, render};
use super::{Form, lang, page};
use crate::config::Role;
use crate::console::{Member, Session, SignInError};
use crate::i18n::{self, Texts};
use crate::portal::Portal;
use crate::record::AuditKind;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

/// The session cookie.
const SESSION: &str = "__Host-sealdrop-console";
/// The browser's cookie while it signs in at the provider.
const SIGN_IN: &str = "__Host-sealdrop-sign-in";
/// What sign-out clears in the browser besides the session cookie (which it expires itself):
/// `"cookies"` would clear every cookie of the organisation's whole domain, signing members
/// out of its other services too.
const CLEAR_SITE_DATA: &str = "\"cache\", \"storage\"";

fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(name: &str, value: &str, same_site: &str, max_age: Option<u64>) -> String {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite={same_site}{age}")
}

fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The live session of `req`, if any.
pub fn session_of(req: &HttpRequest, portal: &Portal) -> Option<(String, Session)> {
    let token = cookie(req, SESSION)?;
    let s = portal.console().session(&token)?;
    Some((token, s))
}

/// The session of `req` with at least `role`; otherwise the answer to give: the sign-in page
/// for nobody, a refusal for too low a role.
pub fn require(
    req: &HttpRequest,
    portal: &Portal,
    role: Role,
) -> Result<Session, Box<HttpResponse>> {
    let Some((_, session)) = session_of(req, portal) else {
        let l = lang(req);
        return Err(Box::new(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/sign-in?lang={l}")))
                .finish(),
        ));
    };
    if !session.member.may(role) {
        return Err(Box::new(refusal(
            req,
            portal,
            Some(&session),
            StatusCode::FORBIDDEN,
            "role-refused",
            "c_role_refused",
        )));
    }
    Ok(session)
}

/// A refusal page with its status and stable code.
pub fn refusal(
    req: &HttpRequest,
    portal: &Portal,
    session: Option<&Session>,
    status: StatusCode,
    code: &'static str,
    text_key: &'static str,
) -> HttpResponse {
    let l = lang(req);
    let t = Texts(l);
    let body = render(&MessagePage {
        frame: Frame::new(l, &portal.config().org.name, req.path(), session),
        t,
        title: t["c_refused"].to_owned(),
        text: t[text_key].to_owned(),
        error: true,
        code: Some(code),
        next: Some(("/".into(), t["c_back_inbox"].to_owned())),
    });
    page(status, body)
}

/// The request came from the console's own pages. `Sec-Fetch-Site`, which every current
/// browser sends, must say same-origin. Without it, `Origin` (when sent) must be the console's
/// own; `Origin: null` (what browsers send under `Referrer-Policy: no-referrer`) counts only
/// when `Sec-Fetch-Site` vouches for it. A client that sends neither (a script) still needs
/// the session's CSRF token.
fn same_origin(req: &HttpRequest, portal: &Portal) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    match header(header::ORIGIN.as_str()) {
        None => true,
        Some(origin) => {
            let own = portal.console().public_url();
            let info = req.connection_info();
            let asked = format!("{}://{}", info.scheme(), info.host());
            origin == own || origin.eq_ignore_ascii_case(&asked)
        }
    }
}

/// Every change: from the console's own page, with the session's CSRF token.
pub fn check_change(
    req: &HttpRequest,
    portal: &Portal,
    session: &Session,
    form: &Form,
) -> Result<(), Box<HttpResponse>> {
    if !same_origin(req, portal) {
        return Err(Box::new(refusal(
            req,
            portal,
            Some(session),
            StatusCode::FORBIDDEN,
            "cross-site-request",
            "c_cross_site",
        )));
    }
    let sent = form.get("csrf").unwrap_or_default();
    let ok =
        crate::digest::sha256(sent.as_bytes()) == crate::digest::sha256(session.csrf.as_bytes());
    if !ok {
        return Err(Box::new(refusal(
            req,
            portal,
            Some(session),
            StatusCode::FORBIDDEN,
            "csrf-token-invalid",
            "c_csrf_invalid",
        )));
    }
    Ok(())
}

/// `GET /sign-in`.
pub async fn sign_in_page(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    if session_of(&req, &portal).is_some() {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/"))
            .finish();
    }
    let l = lang(&req);
    page(
        StatusCode::OK,
        render(&SignInPage {
            frame: Frame::new(l, &portal.config().org.name, req.path(), None),
            t: Texts(l),
            provider: portal.console().has_provider(),
        }),
    )
}

fn sign_in_failed(req: &HttpRequest, portal: &Portal, e: &SignInError) -> HttpResponse {
    let status = match e {
        SignInError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        SignInError::BadLink => StatusCode::GONE,
        SignInError::BadState => StatusCode::BAD_REQUEST,
        SignInError::NotMember(_) => StatusCode::FORBIDDEN,
        SignInError::Token(_) => StatusCode::UNAUTHORIZED,
        SignInError::Provider(_) => StatusCode::BAD_GATEWAY,
        SignInError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        SignInError::NoProvider => StatusCode::NOT_FOUND,
    };
    // An outsider's name stays out of the log (the refusal page shows it to them alone).
    match e {
        SignInError::NotMember(_) => tracing::warn!(code = e.code(), "console sign-in refused"),
        _ => tracing::warn!(code = e.code(), error = %e, "console sign-in refused"),
    }
    // Refusals after the provider answered are audited; stray or flooded requests are not
    // (they are rate-limited, and would only fill the trail).
    if matches!(
        e,
        SignInError::NotMember(_) | SignInError::Token(_) | SignInError::Provider(_)
    ) {
        portal.audit_quietly(
            AuditKind::ConsoleSignInRefused,
            None,
            e.code().to_owned(),
            &crate::record::Actor::portal(),
        );
    }
    let l = lang(req);
    let t = Texts(l);
    let text = match e {
        SignInError::NotMember(name) => i18n::fill(&t["c_not_member"], &[("name", name)]),
        SignInError::TooMany(secs) => {
            i18n::fill(&t["c_too_many"], &[("seconds", &secs.to_string())])
        }
        SignInError::BadLink => t["c_link_invalid"].to_owned(),
        SignInError::BadState => t["c_state_invalid"].to_owned(),
        SignInError::Token(_) | SignInError::Provider(_) => t["c_provider_refused"].to_owned(),
        SignInError::Unavailable(_) => t["c_provider_unavailable"].to_owned(),
        SignInError::NoProvider => t["c_sign_in_no_provider"].to_owned(),
    };
    let mut res = page(
        status,
        render(&MessagePage {
            frame: Frame::new(l, &portal.config().org.name, "/sign-in", None),
            t,
            title: t["c_sign_in_refused"].to_owned(),
            text,
            error: true,
            code: Some(e.code()),
            next: Some((
                format!("/sign-in?lang={l}"),
                t["c_sign_in_again"].to_owned(),
            )),
        }),
    );
    if let SignInError::TooMany(secs) = e
        && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// `GET /sign-in/start`: off to the identity provider.
pub async fn start(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    if let Err(e) = portal.console().attempt(crate::http::client_ip(&req)) {
        return sign_in_failed(&req, &portal, &e);
    }
    let p = portal.clone().into_inner();
    match web::block(move || p.console().begin_sign_in()).await {
        Ok(Ok((url, browser))) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, url))
            .insert_header((
                header::SET_COOKIE,
                set_cookie(SIGN_IN, &browser, "Lax", Some(600)),
            ))
            .finish(),
        Ok(Err(e)) => sign_in_failed(&req, &portal, &e),
        Err(_) => sign_in_failed(
            &req,
            &portal,
            &SignInError::Unavailable("the sign-in task failed".into()),
        ),
    }
}

/// The provider's answer on the callback.
#[derive(serde::Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /sign-in/callback`: back from the identity provider.
pub async fn callback(
    req: HttpRequest,
    q: web::Query<Callback>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let Callback { code, state, error } = q.into_inner();
    let browser = cookie(&req, SIGN_IN);
    if let Err(e) = portal.console().attempt(crate::http::client_ip(&req)) {
        return sign_in_failed(&req, &portal, &e);
    }
    let outcome = match (code, state, error) {
        (_, _, Some(error)) => Err(SignInError::Provider(
            error
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect(),
        )),
        (Some(code), Some(state), None) => {
            let p = portal.clone().into_inner();
            web::block(move || {
                p.console()
                    .finish_sign_in(&state, &code, browser.as_deref())
            })
            .await
            .unwrap_or_else(|_| Err(SignInError::Unavailable("the sign-in task failed".into())))
        }
        _ => Err(SignInError::BadState),
    };
    let mut res = match outcome {
        Ok(member) => signed_in(&req, &portal, member, true),
        Err(e) => sign_in_failed(&req, &portal, &e),
    };
    if let Ok(v) = header::HeaderValue::from_str(&clear_cookie(SIGN_IN)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// Starts the session of `member`. After the provider (`page_hop`), a page that moves on by
/// itself; after a link (a same-site POST), a redirect.
fn signed_in(req: &HttpRequest, portal: &Portal, member: Member, page_hop: bool) -> HttpResponse {
    portal.audit_quietly(
        AuditKind::ConsoleSignIn,
        None,
        format!("as {}", member.role.as_str()),
        &member.actor(),
    );
    tracing::info!(role = member.role.as_str(), "console: a member signed in");
    // A session this browser still had ends: one browser, one session.
    if let Some(old) = cookie(req, SESSION) {
        portal.console().end_session(&old);
    }
    let max = portal.config().console.session_max.0.as_secs();
    let (token, session) = portal.console().start_session(member);
    let cookie = set_cookie(SESSION, &token, "Strict", Some(max));
    let l = lang(req);
    if !page_hop {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/?lang={l}")))
            .insert_header((header::SET_COOKIE, cookie))
            .finish();
    }
    let t = Texts(l);
    let mut frame = Frame::new(l, &portal.config().org.name, "/", Some(&session));
    frame.refresh = Some(format!("/?lang={l}"));
    let mut res = page(
        StatusCode::OK,
        render(&MessagePage {
            frame,
            t,
            title: t["c_signed_in"].to_owned(),
            text: i18n::fill(&t["c_signed_in_as"], &[("name", &session.member.name)]),
            error: false,
            code: None,
            next: Some((format!("/?lang={l}"), t["c_back_inbox"].to_owned())),
        }),
    );
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `GET /sign-in/link/{token}`: the page with the button that uses the link.
pub async fn link_page(
    req: HttpRequest,
    token: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let l = lang(&req);
    let token: String = token
        .into_inner()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    page(
        StatusCode::OK,
        render(&LinkPage {
            frame: Frame::new(l, &portal.config().org.name, "/sign-in", None),
            t: Texts(l),
            token,
        }),
    )
}

/// `POST /sign-in/link`: uses a one-time link.
pub async fn use_link(req: HttpRequest, form: Form, portal: web::Data<Portal>) -> HttpResponse {
    if !same_origin(&req, &portal) {
        return refusal(
            &req,
            &portal,
            None,
            StatusCode::FORBIDDEN,
            "cross-site-request",
            "c_cross_site",
        );
    }
    let outcome = portal
        .console()
        .attempt(crate::http::client_ip(&req))
        .and_then(|()| {
            portal
                .console()
                .redeem_link(form.get("token").unwrap_or_default())
        });
    match outcome {
        Ok(member) => signed_in(&req, &portal, member, false),
        Err(e) => sign_in_failed(&req, &portal, &e),
    }
}

/// `POST /sign-out`: ends the session here and clears the browser.
pub async fn sign_out(req: HttpRequest, form: Form, portal: web::Data<Portal>) -> HttpResponse {
    let Some((token, session)) = session_of(&req, &portal) else {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/sign-in"))
            .insert_header(("Clear-Site-Data", CLEAR_SITE_DATA))
            .finish();
    };
    if let Err(refused) = check_change(&req, &portal, &session, &form) {
        return *refused;
    }
    portal.console().end_session(&token);
    let l = lang(&req);
    let t = Texts(l);
    let mut res = page(
        StatusCode::OK,
        render(&MessagePage {
            frame: Frame::new(l, &portal.config().org.name, "/sign-in", None),
            t,
            title: t["c_signed_out"].to_owned(),
            text: t["c_signed_out_text"].to_owned(),
            error: false,
            code: None,
            next: Some((
                format!("/sign-in?lang={l}"),
                t["c_sign_in_again"].to_owned(),
            )),
        }),
    );
    res.headers_mut().insert(
        header::HeaderName::from_static("clear-site-data"),
        header::HeaderValue::from_static(CLEAR_SITE_DATA),
    );
    if let Ok(v) = header::HeaderValue::from_str(&clear_cookie(SESSION)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
