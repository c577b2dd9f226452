//! The store's promises, checked against every engine the build has: sled always, and
//! PostgreSQL with the `postgres` feature (on the server `SEALDROPTEST_POSTGRES` names, a
//! libpq connection string; each test in a schema of its own). A build with the feature and
//! no server fails these tests rather than skipping them.

use super::tree::Tree;
use super::{Db, Guard, Insert, Invite};
use crate::record::{AuditEvent, AuditKind, Category, Record};
use crate::store::{Refusal, StoreError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use crate::store::test_dir::Dir;

fn temp_dir() -> Dir {
    crate::store::test_dir::temp_dir("conformance")
}

/// A fresh, empty database of each engine, named for messages.
fn engines(test: &str) -> Vec<(&'static str, Db, Dir)> {
    let dir = temp_dir();
    #[allow(unused_mut)]
    let mut out = vec![("sled", Db::open(&dir.0.join("db")).unwrap(), dir)];
    #[cfg(feature = "postgres")]
    out.push(("postgres", postgres_db(test), temp_dir()));
    let _ = test;
    out
}

#[cfg(feature = "postgres")]
fn postgres_settings(test: &str) -> super::postgres_kv::Settings {
    let url = std::env::var("SEALDROPTEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "{test}: this build has the postgres feature, so its tests need a server: set \
             SEALDROPTEST_POSTGRES to a libpq connection string (`.ci/run` starts one)"
        )
    });
    let schema = format!("t_{}", crate::store::test_dir::unique_name(test));
    super::postgres_kv::Settings {
        url,
        password: None,
        tls: None,
        schema,
        pool: 8,
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(settings: &super::postgres_kv::Settings) -> Db {
    Db::with(super::engine::Engine::Pg(
        super::postgres_kv::Pg::open(settings).unwrap(),
    ))
    .unwrap()
}

#[cfg(feature = "postgres")]
fn postgres_db(test: &str) -> Db {
    open_postgres(&postgres_settings(test))
}

fn record(n: usize) -> Record {
    let mut r = Record::for_tests(Category::Vulnerability);
    r.id = format!("id-{n:04}");
    r.case = format!("2026-{n:04}");
    r
}

fn event(detail: &str) -> AuditEvent {
    AuditEvent {
        at: "2026-12-04T12:00:00Z".into(),
        event: AuditKind::Assigned,
        key_id: None,
        case: None,
        detail: detail.into(),
        actor: Some("portal".into()),
    }
}

/// An open invitation `id` under `hash`, created in `db`.
fn open_invite(db: &Db, hash: [u8; 32], id: &str) -> Invite {
    let invite = Invite {
        id: id.into(),
        created_at: "2026-12-01T00:00:00Z".into(),
        expires_at: "2027-01-01T00:00:00Z".into(),
        note: None,
        consumed_at: None,
        case: None,
    };
    db.create_invite(&hash, &invite, &event("invite")).unwrap();
    invite
}

fn insert(db: &Db, r: &Record, guard: &Guard) -> Result<(), StoreError> {
    let items = [Insert {
        record: r,
        ref_hash: None,
        guard,
    }];
    db.insert_many_durable(&items, "2026-12-04T12:00:00Z")
        .unwrap()
        .remove(0)
}

#[test]
fn a_batch_commits_what_passes_its_checks_and_a_refused_item_writes_nothing() {
    for (engine, db, _dir) in engines("batch") {
        let hash = [9u8; 32];
        open_invite(&db, hash, "090909090909");
        let (one, two, three) = (record(11), record(12), record(13));
        let mut again = record(14);
        again.id = one.id.clone();
        let (by_invite, none) = (Guard::Invite(hash), Guard::None);
        let items = [
            Insert {
                record: &one,
                ref_hash: None,
                guard: &by_invite,
            },
            // The same invitation again, in the same batch: already used.
            Insert {
                record: &two,
                ref_hash: None,
                guard: &by_invite,
            },
            Insert {
                record: &three,
                ref_hash: None,
                guard: &none,
            },
            // The first one's id: refused before it writes anything.
            Insert {
                record: &again,
                ref_hash: None,
                guard: &none,
            },
        ];
        let results = db
            .insert_many_durable(&items, "2026-12-04T12:00:00Z")
            .unwrap();
        let refused = |r: &Result<(), StoreError>| match r {
            Err(StoreError::Refused(why)) => Some(*why),
            _ => None,
        };
        assert!(results[0].is_ok(), "{engine}: {:?}", results[0]);
        assert_eq!(refused(&results[1]), Some(Refusal::InviteGone), "{engine}");
        assert!(results[2].is_ok(), "{engine}: {:?}", results[2]);
        assert_eq!(refused(&results[3]), Some(Refusal::Corrupt), "{engine}");
        let mut cases: Vec<String> = db.list().unwrap().into_iter().map(|r| r.case).collect();
        cases.sort();
        assert_eq!(
            cases,
            vec![one.case.clone(), three.case.clone()],
            "{engine}"
        );
        let used = db.invite(&hash).unwrap().unwrap();
        assert_eq!(used.case.as_deref(), Some(one.case.as_str()), "{engine}");
    }
}

#[test]
fn compare_and_swap_races_let_exactly_one_writer_win_and_counts_lose_nothing() {
    for (engine, db, _dir) in engines("cas") {
        let won: usize = thread::scope(|s| {
            let handles: Vec<_> = (0..6u8)
                .map(|t| {
                    let db = &db;
                    s.spawn(move || db.kv.cas(Tree::Meta, b"first", None, Some(&[t])).unwrap())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(won, 1, "{engine}: one insert-new wins");
        // Read-and-swap increments from several threads: every one lands once.
        thread::scope(|s| {
            for _ in 0..4 {
                let db = &db;
                s.spawn(move || {
                    for _ in 0..15 {
                        loop {
                            let old = db.kv.get(Tree::Meta, b"n").unwrap();
                            let n = old.as_deref().map_or(0, |b| b[0]);
                            if db
                                .kv
                                .cas(Tree::Meta, b"n", old.as_deref(), Some(&[n + 1]))
                                .unwrap()
                            {
                                break;
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(
            db.kv.get(Tree::Meta, b"n").unwrap(),
            Some(vec![60]),
            "{engine}"
        );
        // A swap from a stale value, and a removal of a changed one, do nothing.
        assert!(
            !db.kv
                .cas(Tree::Meta, b"n", Some(&[59]), Some(&[0]))
                .unwrap(),
            "{engine}"
        );
        assert!(
            !db.kv.cas(Tree::Meta, b"n", Some(&[59]), None).unwrap(),
            "{engine}"
        );
        assert!(
            db.kv.cas(Tree::Meta, b"n", Some(&[60]), None).unwrap(),
            "{engine}"
        );
        assert_eq!(db.kv.get(Tree::Meta, b"n").unwrap(), None, "{engine}");
    }
}

#[test]
fn a_new_record_never_replaces_one_and_counters_never_repeat() {
    for (engine, db, _dir) in engines("insert") {
        insert(&db, &record(1), &Guard::None).unwrap();
        let mut same_id = record(2);
        same_id.id = record(1).id;
        let mut same_case = record(3);
        same_case.case = record(1).case;
        for r in [record(1), same_id, same_case] {
            assert!(
                matches!(
                    insert(&db, &r, &Guard::None),
                    Err(StoreError::Refused(Refusal::Corrupt))
                ),
                "{engine}: {} / {} replaced a record",
                r.id,
                r.case
            );
        }
        assert_eq!(db.list().unwrap().len(), 1, "{engine}");
        let mut seqs: Vec<u64> = thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let db = &db;
                    s.spawn(move || {
                        (0..20)
                            .map(|_| db.next_case_seq(2026).unwrap())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=80).collect::<Vec<_>>(), "{engine}");
        let ids: std::collections::HashSet<u64> = (0..50).map(|_| db.unique().unwrap()).collect();
        assert_eq!(ids.len(), 50, "{engine}");
    }
}

#[test]
fn concurrent_changes_of_one_case_all_land_each_with_its_audit_event() {
    for (engine, db, _dir) in engines("apply") {
        insert(&db, &record(1), &Guard::None).unwrap();
        let case = record(1).case;
        thread::scope(|s| {
            for t in 0..4 {
                let (db, case) = (&db, &case);
                s.spawn(move || {
                    for i in 0..8 {
                        let tag = format!("{t}-{i}");
                        db.apply_case(case, |r| {
                            r.addenda.push(tag.clone());
                            Ok::<_, StoreError>(event(&tag))
                        })
                        .unwrap()
                        .unwrap();
                    }
                });
            }
        });
        let r = db.by_case(&case).unwrap().unwrap();
        assert_eq!(r.addenda.len(), 32, "{engine}: a change was lost");
        let mut logged: Vec<String> = db
            .audit_events()
            .unwrap()
            .into_iter()
            .map(|e| e.detail)
            .collect();
        let mut made = r.addenda.clone();
        logged.sort();
        made.sort();
        assert_eq!(logged, made, "{engine}: one audit event per change");
        // A refusal from the change writes neither the record nor an event.
        let refused = db.apply_case(&case, |r| {
            r.addenda.clear();
            Err::<AuditEvent, _>(StoreError::Refused(Refusal::Purged))
        });
        assert!(refused.is_err(), "{engine}");
        assert_eq!(db.by_case(&case).unwrap().unwrap().addenda.len(), 32);
        assert_eq!(db.audit_events().unwrap().len(), 32, "{engine}");
        assert!(
            db.apply_case("2026-9999", |_| Ok::<_, StoreError>(event("x")))
                .unwrap()
                .is_none()
        );
    }
}

#[test]
fn an_invitation_is_consumed_by_exactly_one_of_racing_commits() {
    for (engine, db, _dir) in engines("invite") {
        let hash = [7u8; 32];
        let invite = open_invite(&db, hash, "070707070707");
        assert!(
            db.create_invite(&hash, &invite, &event("again")).is_err(),
            "{engine}"
        );
        let ok = AtomicUsize::new(0);
        thread::scope(|s| {
            for n in 1..=5 {
                let (db, ok) = (&db, &ok);
                s.spawn(move || match insert(db, &record(n), &Guard::Invite(hash)) {
                    Ok(()) => {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(StoreError::Refused(Refusal::InviteGone)) => {}
                    Err(e) => panic!("{engine}: {e}"),
                });
            }
        });
        assert_eq!(ok.load(Ordering::SeqCst), 1, "{engine}");
        assert_eq!(
            db.list().unwrap().len(),
            1,
            "{engine}: a refused commit left a record"
        );
        let used = db.invite(&hash).unwrap().unwrap();
        assert_eq!(
            used.case.as_deref(),
            Some(db.list().unwrap()[0].case.as_str())
        );
        // A follow-up of a closed case is refused as such.
        let parent = db.list().unwrap().remove(0);
        db.apply_case(&parent.case, |r| {
            r.status = crate::record::Status::Resolved;
            Ok::<_, StoreError>(event("resolved"))
        })
        .unwrap();
        let mut follow_up = record(9);
        follow_up.parent = Some(parent.case.clone());
        assert!(matches!(
            insert(&db, &follow_up, &Guard::Parent(parent.case.clone())),
            Err(StoreError::Refused(Refusal::ParentClosed))
        ));
    }
}

#[test]
fn a_document_published_twice_from_the_same_state_lands_once_and_prefixes_scan_in_order() {
    for (engine, db, _dir) in engines("published") {
        let won: usize = thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let db = &db;
                    s.spawn(move || {
                        let v = format!("\"v{t}\"");
                        db.swap_published("csaf/ADV-1", None, Some(v.as_bytes()), Some(&event("p")))
                            .unwrap()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(won, 1, "{engine}");
        assert_eq!(
            db.audit_events().unwrap().len(),
            1,
            "{engine}: events of lost swaps"
        );
        for name in [
            "csaf/ADV-3",
            "csaf/ADV-2",
            "csaf-draft/ADV-9",
            "security.txt",
        ] {
            assert!(db.swap_published(name, None, Some(b"1"), None).unwrap());
        }
        let names: Vec<String> = db
            .published_under("csaf/")
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            ["csaf/ADV-1", "csaf/ADV-2", "csaf/ADV-3"],
            "{engine}"
        );
        // All or nothing: one stale entry stops the whole change.
        let changed = db
            .swap_published_all(
                &[
                    ("csaf/ADV-2", Some(b"1"), None),
                    ("csaf/ADV-3", Some(b"2"), None),
                ],
                None,
            )
            .unwrap();
        assert!(!changed, "{engine}");
        assert_eq!(db.published_under("csaf/").unwrap().len(), 3, "{engine}");
    }
}

#[test]
fn a_snapshot_restores_into_an_empty_database_of_the_same_engine_as_it_was() {
    for (engine, db, _dir) in engines("snapshot") {
        for n in 1..=3 {
            insert(&db, &record(n), &Guard::None).unwrap();
        }
        db.apply_case(&record(2).case, |r| {
            r.assignee = Some("alice".into());
            Ok::<_, StoreError>(event("assigned"))
        })
        .unwrap();
        db.next_case_seq(2026).unwrap();
        db.swap_published("csaf/ADV-1", None, Some(b"{\"a\":1}"), None)
            .unwrap();
        let snap = db.snapshot().unwrap();
        let (_, fresh, _d) = engines(&format!("restore-{engine}"))
            .into_iter()
            .find(|(e, _, _)| *e == engine)
            .unwrap();
        fresh.restore(&snap).unwrap();
        let again = fresh.snapshot().unwrap();
        assert_eq!(
            serde_json::to_value(&snap).unwrap(),
            serde_json::to_value(&again).unwrap(),
            "{engine}"
        );
        assert!(
            fresh.restore(&snap).is_err(),
            "{engine}: restored over records"
        );
        assert_eq!(fresh.open_records().unwrap().len(), 3, "{engine}");
    }
}

#[cfg(feature = "postgres")]
#[test]
fn a_shared_lock_is_held_by_one_portal_at_a_time() {
    use std::time::{Duration, Instant};
    let settings = postgres_settings("exclusive");
    let (a, b) = (open_postgres(&settings), open_postgres(&settings));
    let held = a.exclusive("folders").unwrap();
    assert!(held.is_some());
    // Another lock's name is not held: taken at once.
    drop(b.exclusive("edits").unwrap());
    let released = std::sync::Mutex::new(None::<Instant>);
    let taken = thread::scope(|s| {
        let waiter = s.spawn(|| {
            let lock = b.exclusive("folders").unwrap();
            let at = Instant::now();
            drop(lock);
            at
        });
        thread::sleep(Duration::from_millis(300));
        *released.lock().unwrap() = Some(Instant::now());
        drop(held);
        waiter.join().unwrap()
    });
    let released = released.lock().unwrap().unwrap();
    assert!(
        taken >= released,
        "the second portal took the lock while the first held it"
    );
    // Sled: one process; the store's own mutex is the lock.
    let dir = temp_dir();
    assert!(
        Db::open(&dir.0.join("db"))
            .unwrap()
            .exclusive("folders")
            .unwrap()
            .is_none()
    );
}
