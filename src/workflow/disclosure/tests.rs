//! The credit rules on tombstones: what a purge takes off, and withdrawal on a purged case.

use super::DisclosureError;
use crate::config::Config;
use crate::record::{
    Category, Change, Credit, DisclosureEvent, Letter, PURGED_NAME, Publication, Record, Status,
    WITHDRAWN_NAME,
};
use crate::workflow::{Policy, WorkflowError};
use jiff::Timestamp;

const NAME: &str = "Zephyrine Quibblesworth";

fn policy() -> Policy {
    Policy::from_config(&Config::default()).unwrap()
}

fn now() -> Timestamp {
    Timestamp::from_second(1_790_000_000).unwrap()
}

/// A resolved case whose credit was published as [`NAME`], with a letter and a publication.
fn credited() -> Record {
    let mut r = Record::for_tests(Category::Vulnerability);
    r.status = Status::Resolved;
    let d = &mut r.disclosure;
    d.letterbox = Some("age1letterbox".into());
    d.credit_requested = true;
    d.letters.push(Letter {
        at: "2026-04-03T10:00:00Z".into(),
        sealed: "c2VhbGVk".into(),
        by: None,
    });
    d.credit = Some(Credit {
        name: NAME.into(),
        published_at: "2026-05-01T10:00:00Z".into(),
    });
    d.publication = Some(Publication {
        date: "2026-06-01".into(),
        url: Some("https://example.org/adv/1".into()),
        reminded_at: None,
    });
    d.events.push(DisclosureEvent {
        at: "2026-05-01T10:00:00Z".into(),
        change: Change::CreditPublished { name: NAME.into() },
        note: None,
    });
    r
}

fn json(r: &Record) -> String {
    serde_json::to_string(r).unwrap()
}

#[test]
fn a_tombstone_keeps_the_register_and_the_publication_but_no_credit_name_letterbox_or_letters() {
    let mut r = credited();
    r.purged_at = Some("2027-06-01T00:00:00Z".into());
    assert!(r.is_untidy_tombstone());
    let before = r.clone();
    r.strip_to_tombstone();
    assert!(!json(&r).contains(NAME), "{}", json(&r));
    assert!(!r.is_untidy_tombstone());
    let d = &r.disclosure;
    assert!(d.credit.is_none() && d.letterbox.is_none() && d.letters.is_empty());
    assert!(matches!(&d.events[0].change, Change::CreditPublished { name } if name == PURGED_NAME));
    // What stays: everything else, unchanged.
    assert!(d.credit_requested);
    assert_eq!(d.publication, before.disclosure.publication);
    assert_eq!(
        (&r.case, r.category, r.status, &r.received_at, &r.history),
        (
            &before.case,
            before.category,
            before.status,
            &before.received_at,
            &before.history
        )
    );
}

#[test]
fn a_purged_case_that_kept_its_credit_can_still_withdraw_it_and_loses_the_name() {
    let mut r = credited();
    r.purged_at = Some("2027-06-01T00:00:00Z".into());
    policy()
        .withdraw_credit(&mut r, Some("reporter asked to be forgotten"), now())
        .unwrap();
    assert!(!json(&r).contains(NAME), "{}", json(&r));
    assert!(r.disclosure.credit.is_none());
    assert!(
        matches!(&r.disclosure.events[0].change, Change::CreditPublished { name } if name == WITHDRAWN_NAME)
    );
    assert_eq!(
        r.disclosure.events.last().map(|e| &e.change),
        Some(&Change::CreditWithdrawn)
    );
}

#[test]
fn withdrawing_from_a_bare_tombstone_says_the_purge_took_the_name_off_already() {
    let mut r = credited();
    r.purged_at = Some("2027-06-01T00:00:00Z".into());
    r.strip_to_tombstone();
    let err = policy().withdraw_credit(&mut r, None, now()).unwrap_err();
    assert_eq!(
        err,
        WorkflowError::from(DisclosureError::PurgedCredit(r.case.clone()))
    );
    let hint = crate::hint::Hint::hint(&err).unwrap_or_default();
    assert!(hint.contains("purge removed the name"), "{hint}");
}
