//! Sign-in to the console with an OpenID provider, refused at every check: a member not let in,
//! and ID tokens with the wrong audience, issuer, nonce or signature, or expired, each from a
//! provider (`forge.mjs`) that runs the real flow (discovery, PKCE, code exchange) and signs
//! its token with exactly that defect. Chromium signing in at the certified provider is
//! `console_browser`.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::console::{call, page_code, set_cookie};
use crate::oidc::{Provider, console_section};

/// One round trip through the provider without a browser: start, the provider's answer, the
/// callback. Answers the callback's response.
fn sign_in(console: std::net::SocketAddr, with_cookie: bool) -> Response {
    let start = call(console, "GET", "/sign-in/start", None, "", "");
    assert_eq!(start.status, 303, "{}", start.text());
    let browser = set_cookie(&start, "__Host-sealdrop-sign-in").expect("the sign-in cookie");
    let authorize = start.header("location").unwrap().to_owned();
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(
        authorize.contains("nonce=") && authorize.contains("state="),
        "{authorize}"
    );
    let (hostport, path) = authorize
        .strip_prefix("http://")
        .unwrap()
        .split_once('/')
        .unwrap();
    let at_provider = call(
        hostport.parse().unwrap(),
        "GET",
        &format!("/{path}"),
        None,
        "",
        "",
    );
    assert_eq!(at_provider.status, 302, "{}", at_provider.text());
    let back = at_provider.header("location").unwrap().to_owned();
    let callback = back.split_once(&console.to_string()).unwrap().1.to_owned();
    let cookie = format!("__Host-sealdrop-sign-in={browser}");
    call(
        console,
        "GET",
        &callback,
        with_cookie.then_some(cookie.as_str()),
        "",
        "",
    )
}

fn forged(defect: &str, members: &str) -> (Setup, Server, Provider) {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/sign-in/callback");
    let provider = Provider::start("forge.mjs", &redirect, &[("FORGE", defect)]);
    let setup = Setup::new(1, &console_section(port, &provider.issuer, members, ""));
    let server = setup.start();
    (setup, server, provider)
}

const FORGED_MEMBER: &str =
    "[[console.members]]\nemail = \"forged@example.org\"\nrole = \"handler\"\n";

#[test]
fn a_sound_id_token_signs_in_and_the_session_is_the_members() {
    let (setup, server, _p) = forged("valid", FORGED_MEMBER);
    let r = sign_in(server.console(), true);
    assert_eq!(r.status, 200, "{}", r.text());
    let session = set_cookie(&r, "__Host-sealdrop-console").expect("a session");
    assert!(
        r.text().contains("http-equiv=\"refresh\""),
        "moves on by itself"
    );
    let inbox = call(
        server.console(),
        "GET",
        "/",
        Some(&format!("__Host-sealdrop-console={session}")),
        "",
        "",
    );
    assert_eq!(inbox.status, 200);
    assert!(inbox.text().contains("forged@example.org"));
    let audit = admin_ok(&setup, &["audit"]);
    assert!(audit.contains("console:forged@example.org"), "{audit}");
}

#[test]
fn a_member_not_let_in_gets_a_clear_page_and_no_session() {
    let others = "[[console.members]]\nemail = \"someone-else@example.org\"\nrole = \"admin\"\n\
                  [[console.members]]\ngroup = \"security-team\"\nrole = \"handler\"\n";
    let (_setup, server, _p) = forged("valid", others);
    let r = sign_in(server.console(), true);
    assert_eq!((r.status, page_code(&r)), (403, "not-a-member".into()));
    assert!(r.text().contains("forged@example.org"), "{}", r.text());
    assert!(set_cookie(&r, "__Host-sealdrop-console").is_none());
    assert!(!r.text().contains("/cases/"), "nothing else is shown");
}

#[test]
fn an_answer_brought_back_to_another_browser_is_refused() {
    let (_setup, server, _p) = forged("valid", FORGED_MEMBER);
    let r = sign_in(server.console(), false);
    assert_eq!(
        (r.status, page_code(&r)),
        (400, "sign-in-state-invalid".into())
    );
    assert!(set_cookie(&r, "__Host-sealdrop-console").is_none());
}

fn refused(defect: &str, reason: &str) {
    let (setup, server, _p) = forged(defect, FORGED_MEMBER);
    let r = sign_in(server.console(), true);
    assert_eq!(
        (r.status, page_code(&r)),
        (401, "id-token-invalid".into()),
        "{defect}: {}",
        r.text()
    );
    assert!(
        set_cookie(&r, "__Host-sealdrop-console").is_none(),
        "{defect}"
    );
    let audit = admin_ok(&setup, &["audit"]);
    assert!(audit.contains("console-sign-in-refused"), "{audit}");
    assert!(!audit.contains("console:forged"), "{defect}: {audit}");
    let log = server.log().to_lowercase();
    assert!(
        log.contains(reason),
        "{defect}: the log says why ({reason}):\n{log}"
    );
}

#[test]
fn an_id_token_for_another_audience_is_refused() {
    refused("aud", "audience");
}

#[test]
fn an_id_token_from_another_issuer_is_refused() {
    refused("iss", "issuer");
}

#[test]
fn an_id_token_with_another_nonce_is_refused() {
    refused("nonce", "nonce");
}

#[test]
fn an_id_token_signed_by_a_key_the_provider_does_not_publish_is_refused() {
    refused("sig", "signature");
}

#[test]
fn an_expired_id_token_is_refused() {
    refused("exp", "expired");
}

#[test]
fn sign_in_attempts_are_rate_limited() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/sign-in/callback");
    let provider = Provider::start("forge.mjs", &redirect, &[("FORGE", "valid")]);
    let setup = Setup::new(
        1,
        &console_section(
            port,
            &provider.issuer,
            FORGED_MEMBER,
            "sign_ins_per_minute = 3",
        ),
    );
    let server = setup.start();
    let codes: Vec<u16> = (0..4)
        .map(|_| call(server.console(), "GET", "/sign-in/start", None, "", "").status)
        .collect();
    assert_eq!(codes, [303, 303, 303, 429]);
    let r = call(server.console(), "GET", "/sign-in/start", None, "", "");
    assert!(r.header("retry-after").is_some());
    let token = "x".repeat(43);
    let r = call(
        server.console(),
        "POST",
        "/sign-in/link",
        None,
        "",
        &format!("token={token}"),
    );
    assert_eq!(
        (r.status, page_code(&r)),
        (429, "rate-limited".into()),
        "links count too"
    );
}
