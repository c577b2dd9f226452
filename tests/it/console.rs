//! The team's console over real HTTP: a listener of its own, one-time sign-in links, sessions
//! (idle end, sign-out), the CSRF and same-origin rules, roles, and the same typed operations
//! as the CLI with the signed-in member as the actor. Sign-in with a real OpenID provider and
//! the pages in Chromium are `console_oidc` and `console_browser`.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::net::SocketAddr;

/// A `[console]` section on a free loopback port, plus `extra` lines.
pub fn console_config(extra: &str) -> (u16, String) {
    let port = free_port();
    (
        port,
        format!("[console]\nlisten = \"127.0.0.1:{port}\"\n{extra}\n"),
    )
}

/// An HTTP exchange with the console (`Connection: close`).
pub fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    headers: &str,
    body: &str,
) -> Response {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}{headers}Content-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    request(addr, &head, body.as_bytes().to_vec())
}

/// The value of cookie `name` a response sets.
pub fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

/// The stable code a console page shows.
pub fn page_code(r: &Response) -> String {
    let text = r.text();
    text.split("<code>")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .unwrap_or_default()
        .to_owned()
}

/// A member signed in to the console.
pub struct Member {
    pub addr: SocketAddr,
    pub cookie: String,
}

impl Member {
    /// Signs in with a one-time link made by `admin console-link`.
    pub fn by_link(setup: &Setup, server: &Server, name: &str, role: &str) -> Member {
        let url = admin_ok(setup, &["console-link", "--as", name, "--role", role]);
        Member::with_link(server.console(), url.trim())
    }

    /// Uses `url` (a sign-in link).
    pub fn with_link(addr: SocketAddr, url: &str) -> Member {
        let token = url.rsplit('/').next().unwrap();
        let r = call(
            addr,
            "POST",
            "/sign-in/link",
            None,
            "",
            &format!("token={token}"),
        );
        assert_eq!(r.status, 303, "{}", r.text());
        let session = set_cookie(&r, "__Host-sealdrop-console").expect("a session cookie");
        let raw = r
            .headers
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.contains("sealdrop-console"))
            .unwrap()
            .1
            .clone();
        for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(raw.contains(attr), "{raw}");
        }
        Member {
            addr,
            cookie: format!("__Host-sealdrop-console={session}"),
        }
    }

    pub fn get(&self, path: &str) -> Response {
        call(self.addr, "GET", path, Some(&self.cookie), "", "")
    }

    /// The CSRF token of the page at `path`.
    pub fn csrf(&self, path: &str) -> String {
        let page = self.get(path).text();
        page.split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no form on {path}: {page}"))
            .to_owned()
    }

    /// Posts a form of the case page (with the page's CSRF token) as the console's own page
    /// would.
    pub fn act(&self, case: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.csrf(&format!("/cases/{case}"));
        let mut pairs = vec![("csrf", csrf.as_str())];
        pairs.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&pairs).unwrap();
        let origin = format!(
            "Origin: http://{}\r\nSec-Fetch-Site: same-origin\r\n",
            self.addr
        );
        call(
            self.addr,
            "POST",
            &format!("/cases/{case}/{action}?lang=en"),
            Some(&self.cookie),
            &origin,
            &body,
        )
    }
}

/// A report through the public listener: its case number and reference.
pub fn report(server: &Server, category: &str) -> (String, String) {
    let mut parts = form(vec![file("evidence.txt", b"proof".to_vec())]);
    for p in parts.iter_mut() {
        if p.name == "category" {
            p.data = category.as_bytes().to_vec();
        }
    }
    let r = post_form(server.addr, &parts, "");
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    (
        j["case"].as_str().unwrap().to_owned(),
        j["reference"].as_str().unwrap().to_owned(),
    )
}

fn audit_of(setup: &Setup, case: &str) -> Vec<serde_json::Value> {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&admin_ok(setup, &["audit", "--json"])).unwrap();
    all.into_iter()
        .filter(|e| e["case"].as_str() == Some(case))
        .collect()
}

#[test]
fn a_sign_in_link_works_once_and_every_action_is_audited_with_the_member() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (case, _) = report(&server, "vulnerability");
    let url = admin_ok(
        &setup,
        &[
            "console-link",
            "--as",
            "alice@example.org",
            "--role",
            "handler",
        ],
    );
    let alice = Member::with_link(server.console(), url.trim());

    // The link is spent: a second use (another browser) gets the refusal page.
    let token = url.trim().rsplit('/').next().unwrap().to_owned();
    let again = call(
        server.console(),
        "POST",
        "/sign-in/link",
        None,
        "",
        &format!("token={token}"),
    );
    assert_eq!(
        (again.status, page_code(&again)),
        (410, "link-invalid".into())
    );
    assert!(set_cookie(&again, "__Host-sealdrop-console").is_none());
    // Opening the link (GET, as a mail scanner would) uses nothing.
    let url2 = admin_ok(
        &setup,
        &["console-link", "--as", "bob", "--role", "handler"],
    );
    let path = url2
        .trim()
        .split_once("://")
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .1;
    assert_eq!(alice.get(&format!("/{path}")).status, 200);
    assert_eq!(alice.get(&format!("/{path}")).status, 200);
    Member::with_link(server.console(), url2.trim());

    let inbox = alice.get("/?lang=en");
    assert_eq!(inbox.status, 200);
    assert!(inbox.text().contains(&case), "{}", inbox.text());
    let r = alice.act(
        &case,
        "status",
        &[("status", "acknowledged"), ("note", "seen")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = alice.act(&case, "assign", &[("to", "alice")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let v = show(&setup, &case);
    assert_eq!(
        (v["status"].as_str(), v["assignee"].as_str()),
        (Some("acknowledged"), Some("alice"))
    );
    let audit = audit_of(&setup, &case);
    let actors: Vec<&str> = audit.iter().filter_map(|e| e["actor"].as_str()).collect();
    assert_eq!(
        actors,
        ["console:alice@example.org", "console:alice@example.org"]
    );
    // Who signed in is in the audit trail too, with the role.
    let all = admin_ok(&setup, &["audit"]);
    assert!(
        all.contains("console-sign-in") && all.contains("console:alice@example.org"),
        "{all}"
    );

    // A refused action shows the case page again with the operation's code.
    let r = alice.act(&case, "status", &[("status", "received")]);
    assert_eq!(
        (r.status, page_code(&r)),
        (409, "workflow-refused".into()),
        "{}",
        r.text()
    );
    let r = alice.act(&case, "expect", &[("date", "not-a-date")]);
    assert_eq!((r.status, page_code(&r)), (400, "bad-date".into()));
    let r = alice.act("2026-9999", "note", &[("note", "x")]);
    assert_eq!(r.status, 404);
}

#[test]
fn an_expired_sign_in_link_is_refused() {
    let (_, console) = console_config("link_lifetime = \"1s\"");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let url = admin_ok(&setup, &["console-link", "--as", "late", "--role", "admin"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let token = url.trim().rsplit('/').next().unwrap().to_owned();
    let r = call(
        server.console(),
        "POST",
        "/sign-in/link",
        None,
        "",
        &format!("token={token}"),
    );
    assert_eq!((r.status, page_code(&r)), (410, "link-invalid".into()));
}

#[test]
fn a_session_past_its_idle_timeout_is_over_and_sign_out_clears_the_browser() {
    let (_, console) = console_config("session_idle = \"1s\"");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let idle = Member::by_link(&setup, &server, "idle", "handler");
    assert_eq!(idle.get("/").status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1600));
    let r = idle.get("/");
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/sign-in"));

    let m = Member::by_link(&setup, &server, "leaving", "handler");
    let csrf = m.csrf("/");
    let r = call(
        m.addr,
        "POST",
        "/sign-out",
        Some(&m.cookie),
        "",
        &format!("csrf={csrf}"),
    );
    assert_eq!(r.status, 200);
    // The browser's storage and cache for the console; not "cookies", which would clear the
    // whole domain's (the session cookie is expired by name).
    let cleared = r.header("clear-site-data").unwrap();
    assert!(
        cleared.contains("\"storage\"") && !cleared.contains("cookies"),
        "{cleared}"
    );
    assert_eq!(
        set_cookie(&r, "__Host-sealdrop-console").as_deref(),
        Some("")
    );
    assert_eq!(
        m.get("/").status,
        303,
        "the old cookie opens nothing any more"
    );
}

#[test]
fn a_cross_site_post_or_one_without_the_csrf_token_changes_nothing() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (case, _) = report(&server, "vulnerability");
    let m = Member::by_link(&setup, &server, "victim", "admin");
    let csrf = m.csrf(&format!("/cases/{case}"));
    let body = format!("csrf={csrf}&status=rejected");
    let path = format!("/cases/{case}/status");
    for headers in [
        "Origin: https://evil.example\r\n",
        "Sec-Fetch-Site: cross-site\r\n",
        "Origin: null\r\n",
        "Sec-Fetch-Site: same-site\r\n",
    ] {
        let r = call(m.addr, "POST", &path, Some(&m.cookie), headers, &body);
        assert_eq!(
            (r.status, page_code(&r)),
            (403, "cross-site-request".into()),
            "{headers}"
        );
    }
    // The same host and port under another scheme is another origin.
    let other_scheme = format!("Origin: https://{}\r\n", m.addr);
    let r = call(m.addr, "POST", &path, Some(&m.cookie), &other_scheme, &body);
    assert_eq!(
        (r.status, page_code(&r)),
        (403, "cross-site-request".into())
    );
    // Its own origin (a client without Sec-Fetch-Site) passes this check.
    let own = format!("Origin: http://{}\r\n", m.addr);
    let r = call(
        m.addr,
        "POST",
        &path,
        Some(&m.cookie),
        &own,
        "status=rejected",
    );
    assert_eq!(
        page_code(&r),
        "csrf-token-invalid",
        "only the token is missing"
    );
    for body in [
        "status=rejected".to_owned(),
        "csrf=forged&status=rejected".into(),
    ] {
        let r = call(m.addr, "POST", &path, Some(&m.cookie), "", &body);
        assert_eq!(
            (r.status, page_code(&r)),
            (403, "csrf-token-invalid".into())
        );
    }
    // Another member's token does not do either.
    let other = Member::by_link(&setup, &server, "other", "admin");
    let theirs = other.csrf("/");
    let r = call(
        m.addr,
        "POST",
        &path,
        Some(&m.cookie),
        "",
        &format!("csrf={theirs}&status=rejected"),
    );
    assert_eq!(r.status, 403);
    assert_eq!(show(&setup, &case)["status"], "received");
    assert!(audit_of(&setup, &case).is_empty());
}

#[test]
fn a_handler_cannot_purge_or_open_the_admin_pages() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (case, _) = report(&server, "data-breach");
    let handler = Member::by_link(&setup, &server, "hank", "handler");
    assert!(
        !handler
            .get(&format!("/cases/{case}"))
            .text()
            .contains("/purge")
    );
    let r = handler.act(&case, "purge", &[("confirm", &case)]);
    assert_eq!((r.status, page_code(&r)), (403, "role-refused".into()));
    for page in ["/audit", "/keys", "/invites"] {
        assert_eq!(handler.get(page).status, 403, "{page}");
    }
    // A handler may export (ciphertext only), and the export is in the trail with its actor.
    let bundle = handler.get(&format!("/cases/{case}/export"));
    assert_eq!(bundle.status, 200);
    assert!(
        bundle
            .header("content-disposition")
            .unwrap()
            .contains(&format!("{case}.tar"))
    );
    let exported = audit_of(&setup, &case);
    assert_eq!(exported.len(), 1, "{exported:?}");
    assert_eq!(
        (exported[0]["event"].as_str(), exported[0]["actor"].as_str()),
        (Some("exported"), Some("console:hank"))
    );
    assert!(show(&setup, &case)["purged_at"].is_null());

    let admin = Member::by_link(&setup, &server, "ada", "admin");
    assert_eq!(admin.get("/keys").status, 200);
    let r = admin.act(&case, "purge", &[("confirm", "2026-0000")]);
    assert_eq!((r.status, page_code(&r)), (400, "purge-unconfirmed".into()));
    assert!(show(&setup, &case)["purged_at"].is_null());
    let r = admin.act(&case, "purge", &[("confirm", &case), ("reason", "test")]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(show(&setup, &case)["purged_at"].is_string());
    let audit = admin.get("/audit").text();
    assert!(
        audit.contains("console:ada") && audit.contains("purged"),
        "{audit}"
    );
}

#[test]
fn the_public_listener_serves_no_console_route_and_the_console_no_upload_route() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    for path in [
        "/sign-in",
        "/sign-in/callback?code=x&state=y",
        "/cases/2026-0001",
        "/audit",
    ] {
        assert_eq!(
            get(server.addr, path, "").status,
            404,
            "{path} on the public listener"
        );
    }
    let r = call(server.addr, "POST", "/sign-in/link", None, "", "token=x");
    assert_eq!(r.status, 404);
    let c = server.console();
    let r = post_form(c, &form(vec![file("a.txt", b"x".to_vec())]), "");
    assert_eq!(r.status, 404, "a report on the console");
    for (method, path) in [
        ("POST", "/api/v1/uploads"),
        ("POST", "/api/v1/status"),
        ("GET", "/status"),
        ("GET", "/.well-known/security.txt"),
    ] {
        assert_eq!(
            call(c, method, path, None, "", "").status,
            404,
            "{method} {path}"
        );
    }
    // The console's pages carry the public pages' security headers.
    let r = call(c, "GET", "/sign-in", None, "", "");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[test]
fn the_console_and_the_cli_make_the_same_record_and_audit_entry_apart_from_the_actor() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (by_cli, _) = report(&server, "data-breach");
    let (by_console, _) = report(&server, "data-breach");
    let m = Member::by_link(&setup, &server, "carol@example.org", "handler");
    type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], Vec<&'a str>);
    let steps: [Step; 6] = [
        (
            "status",
            &[("status", "acknowledged"), ("note", "seen")],
            vec!["status", "CASE", "acknowledged", "--note", "seen"],
        ),
        (
            "note",
            &[("note", "called the vendor")],
            vec!["note", "CASE", "called the vendor"],
        ),
        (
            "authority",
            &[("decision", "not-required"), ("note", "no risk")],
            vec!["authority", "CASE", "not-required", "--note", "no risk"],
        ),
        (
            "shared",
            &[("with", "IBD")],
            vec!["shared", "CASE", "--with", "IBD"],
        ),
        (
            "assign",
            &[("to", "carol")],
            vec!["assign", "CASE", "--to", "carol"],
        ),
        (
            "coordination",
            &[
                ("coordinator", "vendor"),
                ("name", "Acme BV"),
                ("embargo", "2027-01-15"),
            ],
            vec![
                "coordinate",
                "CASE",
                "--by",
                "vendor",
                "--name",
                "Acme BV",
                "--embargo",
                "2027-01-15",
            ],
        ),
    ];
    for (action, fields, cli) in steps {
        let args: Vec<&str> = cli
            .iter()
            .map(|a| if *a == "CASE" { by_cli.as_str() } else { a })
            .collect();
        admin_ok(&setup, &args);
        let r = m.act(&by_console, action, fields);
        assert_eq!(r.status, 303, "{action}: {}", r.text());
    }
    let strip = |mut v: serde_json::Value| {
        let o = v.as_object_mut().unwrap();
        for k in [
            "id",
            "case",
            "received_at",
            "manifest",
            "files",
            "blob_dir",
            "delete_after",
            "disclosure",
            "clocks",
            "next_due",
            "received_local",
        ] {
            o.remove(k);
        }
        for h in o["history"].as_array_mut().unwrap() {
            h.as_object_mut().unwrap().remove("at");
        }
        if let Some(a) = o.get_mut("authority").and_then(|a| a.as_object_mut()) {
            a.remove("at");
        }
        v
    };
    assert_eq!(
        strip(show(&setup, &by_cli)),
        strip(show(&setup, &by_console))
    );
    let entries = |case: &str| {
        audit_of(&setup, case)
            .into_iter()
            .map(|mut e| {
                let o = e.as_object_mut().unwrap();
                let actor = o.remove("actor").unwrap();
                o.remove("at");
                o.remove("case");
                (e, actor)
            })
            .collect::<Vec<_>>()
    };
    let (cli, console) = (entries(&by_cli), entries(&by_console));
    assert_eq!(cli.len(), 6);
    assert_eq!(
        cli.iter().map(|(e, _)| e).collect::<Vec<_>>(),
        console.iter().map(|(e, _)| e).collect::<Vec<_>>()
    );
    assert!(
        cli.iter()
            .all(|(_, a)| a.as_str().unwrap().starts_with("unix:"))
    );
    assert!(
        console
            .iter()
            .all(|(_, a)| a == "console:carol@example.org")
    );
}

#[test]
fn a_message_from_the_console_reaches_the_reporter_and_is_listed_without_its_text() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (case, reference) = report(&server, "vulnerability");
    let m = Member::by_link(&setup, &server, "dave", "handler");
    let r = m.act(
        &case,
        "tell",
        &[("text", "We reproduced it; a fix is planned.")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let page = m.get(&format!("/cases/{case}?lang=en")).text();
    assert!(
        page.contains("console:dave") && page.contains("35 bytes"),
        "{page}"
    );
    assert!(
        !page.contains("We reproduced it"),
        "the console never shows a message's text"
    );
    let status = post_json(
        server.addr,
        "/api/v1/status",
        &serde_json::json!({ "reference": reference }),
    );
    assert!(
        status
            .text()
            .contains("We reproduced it; a fix is planned."),
        "{}",
        status.text()
    );
}

#[test]
fn console_link_without_a_console_says_how_to_turn_it_on() {
    let setup = Setup::new(1, "");
    let _server = setup.start();
    let out = setup.admin(&["console-link", "--as", "x", "--role", "admin"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("console is off") && err.contains("[console] listen"),
        "{err}"
    );
}

#[test]
fn a_console_on_the_public_listeners_port_or_beyond_loopback_without_tls_is_refused() {
    let setup = Setup::new(1, "");
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let port = free_port();
    std::fs::write(
        &setup.config,
        text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}"))
            + &format!("[console]\nlisten = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let log = Server::try_start(&setup, &[]).err().expect("refused");
    assert!(
        log.contains("console.listen") && log.contains("public listener"),
        "{log}"
    );
    let setup = Setup::new(
        1,
        "[console]\nlisten = \"0.0.0.0:9\"\npublic_url = \"https://c.example.org\"\n",
    );
    let log = Server::try_start(&setup, &[]).err().expect("refused");
    assert!(
        log.contains("console.listen") && log.contains("TLS"),
        "{log}"
    );
}

#[test]
fn signing_in_again_in_the_same_browser_ends_its_earlier_session() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let first = Member::by_link(&setup, &server, "erin", "handler");
    let url = admin_ok(&setup, &["console-link", "--as", "erin", "--role", "admin"]);
    let token = url.trim().rsplit('/').next().unwrap().to_owned();
    let r = call(
        server.console(),
        "POST",
        "/sign-in/link",
        Some(&first.cookie),
        "",
        &format!("token={token}"),
    );
    assert_eq!(r.status, 303);
    assert!(set_cookie(&r, "__Host-sealdrop-console").is_some());
    assert_eq!(first.get("/").status, 303, "the earlier session is over");
}
