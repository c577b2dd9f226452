//! ISO/IEC 30111 handling: a case enters its phases forward only, with when; a coordinator and
//! an embargo date; all shown in `admin show`, the register, the console and the audit trail.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::console::{Member, console_config, report};

fn refused(setup: &Setup, args: &[&str], code: &str) -> String {
    let o = setup.admin(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{args:?} passed");
    assert!(err.contains(code) && err.contains("hint:"), "{code}: {err}");
    err
}

#[test]
fn a_case_enters_its_phases_forward_with_a_coordinator_and_an_embargo_shown_everywhere() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (case, _) = report(&server, "data-breach");

    let out = admin_ok(&setup, &["phase", &case, "verified"]);
    assert!(out.contains("entered verified at"), "{out}");
    let err = refused(&setup, &["phase", &case, "verified"], "workflow-refused");
    assert!(
        err.contains("received → verified → remediation-developed"),
        "{err}"
    );
    refused(
        &setup,
        &["phase", &case, "released", "--at", "2020-01-01"],
        "bad-date",
    );
    let o = setup.admin(&["phase", &case, "shipped"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("one of received, verified"));
    admin_ok(
        &setup,
        &[
            "coordinate",
            &case,
            "--by",
            "ncsc",
            "--embargo",
            "2027-03-01",
        ],
    );
    refused(&setup, &["coordinate", &case, "--by", "cia"], "bad-request");
    // A name alone renames the coordinator; case does not matter in the kind.
    let out = admin_ok(
        &setup,
        &["coordinate", &case, "--by", "NCSC", "--name", "NCSC-NL"],
    );
    assert!(out.contains("ncsc (NCSC-NL)"), "{out}");
    admin_ok(&setup, &["coordinate", &case, "--name", "NCSC"]);
    refused(&setup, &["coordinate", &case], "bad-request");
    refused(
        &setup,
        &["coordinate", &case, "--embargo", "1 March"],
        "bad-date",
    );

    // The console: the same operation, the member as the actor; the phase form offers only
    // the phases still to come.
    let m = Member::by_link(&setup, &server, "dave@example.org", "handler");
    let page = m.get(&format!("/cases/{case}")).text();
    assert!(page.contains("Fasen (ISO/IEC 30111)") || page.contains("Phases (ISO/IEC 30111)"));
    assert!(
        !page.contains("<option value=\"verified\">"),
        "already entered"
    );
    assert!(page.contains("<option value=\"released\">"), "{page}");
    let r = m.act(&case, "phase", &[("phase", "remediation-developed")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let r = m.act(&case, "phase", &[("phase", "verified")]);
    assert!(r.text().contains("workflow-refused"), "{}", r.text());

    let shown = show(&setup, &case);
    let phases = shown["handling"]["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 2, "{shown}");
    assert_eq!(phases[1]["phase"], "remediation-developed");
    assert_eq!(shown["handling"]["coordinator"]["kind"], "ncsc");
    assert_eq!(shown["handling"]["coordinator"]["name"], "NCSC");
    assert_eq!(shown["handling"]["embargo_until"], "2027-03-01");
    let text = admin_ok(&setup, &["show", &case]);
    assert!(
        text.contains("phases:") && text.contains("released -"),
        "{text}"
    );
    assert!(text.contains("coordinator:   ncsc (NCSC)"), "{text}");
    assert!(text.contains("embargo until: 2027-03-01"), "{text}");

    let csv = admin_ok(&setup, &["register", "--format", "csv"]);
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("phases,coordinator,embargo_until"),
        "{header}"
    );
    let row = csv.lines().find(|l| l.starts_with(&case)).unwrap();
    assert!(
        row.contains("received@") && row.contains("; verified@"),
        "{row}"
    );
    assert!(row.ends_with(",ncsc (NCSC),2027-03-01"), "{row}");

    let audit = admin_ok(&setup, &["audit", "--json"]);
    let entries: Vec<serde_json::Value> = serde_json::from_str(&audit).unwrap();
    let of = |kind: &str| {
        entries
            .iter()
            .filter(|e| e["event"] == kind && e["case"] == case.as_str())
            .count()
    };
    assert_eq!(of("phase"), 2);
    assert_eq!(of("coordination"), 3);
    assert!(
        entries
            .iter()
            .any(|e| e["event"] == "phase" && e["actor"] == "console:dave@example.org")
    );
}
