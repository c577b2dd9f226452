//! The admin protocol on the wire: every route refuses other methods with 405 and `Allow`, and
//! whatever does not fit a route is answered with the one admin error body.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use sealdrop::adminapi::{ErrorBody, ErrorCode, route};

fn error(r: &Response) -> ErrorBody {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.text()))
}

#[test]
fn every_admin_route_answers_a_method_it_does_not_take_with_405_and_allow() {
    let setup = Setup::new(1, "");
    let _server = setup.start();
    let socket = setup.data().join("admin.sock");
    let routes: [(&str, &[&str]); 20] = [
        (route::SUBMISSIONS, &["GET"]),
        (route::SUBMISSION, &["GET"]),
        (route::STATUS, &["POST"]),
        (route::AUTHORITY, &["POST"]),
        (route::NOTE, &["POST"]),
        (route::PURGE, &["POST"]),
        (route::EXPORT, &["GET"]),
        (route::IMPORT, &["POST"]),
        (route::REGISTER, &["GET"]),
        (route::INVITES, &["GET", "POST"]),
        (route::METRICS, &["GET"]),
        (route::KEYS, &["GET", "POST"]),
        (route::RETIRE, &["POST"]),
        (route::RELOAD, &["POST"]),
        (route::AUDIT, &["GET"]),
        (route::BACKUP, &["GET"]),
        (route::HEALTH, &["GET"]),
        (route::SHARED, &["POST"]),
        (route::RECEIPT_KEYS, &["GET"]),
        (route::RECEIPT_KEY_ROTATE, &["POST"]),
    ];
    for (pattern, methods) in routes {
        let path = route::with(pattern, "2026-0001");
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if methods.contains(&method) {
                continue;
            }
            let r = admin_request(&socket, method, &path, None);
            assert_eq!(r.status, 405, "{method} {path}: {}", r.text());
            assert_eq!(allowed(&r), *methods, "{method} {path}");
            let body = error(&r);
            assert_eq!(
                body.error.code,
                ErrorCode::MethodNotAllowed,
                "{method} {path}"
            );
            assert!(body.error.hint.is_some(), "{method} {path}");
        }
    }
}

#[test]
fn a_request_that_does_not_fit_its_route_gets_the_admin_error_body() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let socket = setup.data().join("admin.sock");
    let r = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "");
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let json = "application/json";
    let refused = [
        (
            "POST",
            route::with(route::STATUS, &case),
            Some((json, br#"{"status": "finished"}"#.as_slice())),
            ErrorCode::BadRequest,
        ),
        (
            "POST",
            route::with(route::NOTE, &case),
            Some((json, b"{not json".as_slice())),
            ErrorCode::BadRequest,
        ),
        (
            "POST",
            route::with(route::NOTE, &case),
            Some(("text/plain", br#"{"note": "x"}"#.as_slice())),
            ErrorCode::BadRequest,
        ),
        (
            "GET",
            format!("{}?status=done", route::SUBMISSIONS),
            None,
            ErrorCode::BadRequest,
        ),
        (
            "GET",
            format!("{}?format=xlsx", route::REGISTER),
            None,
            ErrorCode::BadRequest,
        ),
        (
            "GET",
            "/v2/submissions".to_owned(),
            None,
            ErrorCode::NotFound,
        ),
        (
            "GET",
            route::with(route::SUBMISSION, "2026-9999"),
            None,
            ErrorCode::NotFound,
        ),
        (
            "POST",
            route::with(route::NOTE, &case),
            Some((json, br#"{"note": "two\nlines"}"#.as_slice())),
            ErrorCode::BadNote,
        ),
        (
            "POST",
            route::with(route::STATUS, &case),
            Some((json, br#"{"status": "received"}"#.as_slice())),
            ErrorCode::WorkflowRefused,
        ),
    ];
    for (method, path, body, code) in refused {
        let r = admin_request(&socket, method, &path, body);
        let answer = error(&r);
        assert_eq!(
            (r.status, answer.error.code),
            (code.status(), code),
            "{method} {path}: {}",
            r.text()
        );
        assert!(!answer.error.message.is_empty(), "{method} {path}");
    }
}
