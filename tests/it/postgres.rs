//! The records on PostgreSQL (`storage.metadata = "postgres"`, a build with the `postgres`
//! feature), on the throw-away cluster `SEALDROPTEST_POSTGRES` names (`.ci/run` starts one;
//! without it these tests fail): a portal takes reports, runs the team's operations and keeps
//! everything across a restart; its backup restores into a sled portal; two portals on one
//! database share the cases, number them without repeats, and exactly one of them does the
//! background work, handed over when it dies.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub fn url() -> String {
    std::env::var("SEALDROPTEST_POSTGRES").expect(
        "SEALDROPTEST_POSTGRES must name the test PostgreSQL server (tests/support/postgres.sh \
         start DIR PORT prints it; .ci/run starts one)",
    )
}

/// A schema of its own for each test.
pub fn schema(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "e2e_{}_{}_{test}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A portal whose records live in `schema`; `keys` from `like` when given (portals sharing a
/// database must share the recipients file too).
pub fn on_postgres(schema: &str, like: Option<&Setup>) -> Setup {
    on_postgres_at(&url(), schema, like, None)
}

/// [`on_postgres`] on the server at `url`, over TLS checked against the CA in `ca` when given.
fn on_postgres_at(url: &str, schema: &str, like: Option<&Setup>, ca: Option<&Path>) -> Setup {
    let tls = match ca {
        Some(ca) => format!("tls = true\nca_file = \"{}\"", ca.display()),
        None => "tls = false".into(),
    };
    let section =
        format!("[storage.postgres]\nurl = \"{url}\"\n{tls}\nschema = \"{schema}\"\npool = 4\n");
    let mut setup = Setup::new(if like.is_some() { 0 } else { 1 }, &section);
    let config = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        config.replacen("[storage]\n", "[storage]\nmetadata = \"postgres\"\n", 1),
    )
    .unwrap();
    if let Some(other) = like {
        std::fs::copy(
            other.dir.path().join("keys/recipients.txt"),
            setup.dir.path().join("keys/recipients.txt"),
        )
        .unwrap();
        setup.identities = other.identities.clone();
        setup.recipients = other.recipients.clone();
    }
    setup
}

pub fn submit(server: &Server, files: Vec<Part>) -> serde_json::Value {
    let r = post_form(server.addr, &form(files), "");
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

pub fn status_of(server: &Server, reference: &str) -> String {
    let r = post_json(
        server.addr,
        "/api/v1/status",
        &json!({ "reference": reference }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["status"].as_str().unwrap().to_owned()
}

pub fn health(setup: &Setup) -> serde_json::Value {
    serde_json::from_str(&admin_ok(setup, &["health"])).unwrap()
}

#[test]
fn a_portal_on_postgres_takes_reports_runs_team_operations_and_keeps_them_across_a_restart() {
    let setup = on_postgres(&schema("one"), None);
    let server = setup.start();
    assert_eq!(health(&setup)["database"], "postgres");
    assert_eq!(health(&setup)["background"], true);
    let contents = [bytes(3 << 20, 1), bytes(1000, 2)];
    let receipt = submit(
        &server,
        vec![
            file("evidence-0.bin", contents[0].clone()),
            file("evidence-1.bin", contents[1].clone()),
        ],
    );
    let case = receipt["case"].as_str().unwrap().to_owned();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    assert!(
        !setup.data().join("db").exists(),
        "no sled database beside PostgreSQL"
    );
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[
            text("reference", &reference),
            file("later.txt", bytes(500, 3)),
        ],
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    admin_ok(&setup, &["status", &case, "acknowledged"]);
    admin_ok(&setup, &["assign", &case, "--to", "alice"]);
    assert_eq!(status_of(&server, &reference), "acknowledged");

    let bundle = setup.export(&case);
    let out = setup.dir.path().join("opened");
    let o = open(&bundle, &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (i, c) in contents.iter().enumerate() {
        let got = std::fs::read(out.join(format!("files/evidence-{i}.bin"))).unwrap();
        assert!(got == *c, "file {i} differs after open");
    }

    // Everything is in PostgreSQL: a restart finds the case as it was, audit trail included.
    server.kill();
    let server = setup.start();
    let shown = show(&setup, &case);
    assert_eq!(shown["status"], "acknowledged");
    assert_eq!(shown["assignee"], "alice");
    assert_eq!(shown["addenda"].as_array().unwrap().len(), 1);
    let audit = admin_ok(&setup, &["audit"]);
    assert!(audit.contains("assigned"), "{audit}");
    assert_eq!(status_of(&server, &reference), "acknowledged");

    // Its backup restores into a portal on sled, with the same case and reference.
    let backup = setup.dir.path().join("backup.tar");
    admin_ok(&setup, &["backup", "-o", backup.to_str().unwrap()]);
    let local = Setup::new(0, "");
    std::fs::copy(
        setup.dir.path().join("keys/recipients.txt"),
        local.dir.path().join("keys/recipients.txt"),
    )
    .unwrap();
    restore_into(&backup, &local);
    let restored = local.start();
    assert_eq!(show(&local, &case)["assignee"], "alice");
    assert_eq!(status_of(&restored, &reference), "acknowledged");
    drop(server);
}

#[test]
fn two_portals_on_one_database_share_cases_and_exactly_one_does_the_background_work() {
    let schema = schema("two");
    let a = on_postgres(&schema, None);
    let b = on_postgres(&schema, Some(&a));
    // The second portal's retention purge asks for the background lock every second.
    let config = std::fs::read_to_string(&b.config).unwrap();
    std::fs::write(
        &b.config,
        config + "\n[retention]\npurge_interval = \"1s\"\n",
    )
    .unwrap();
    let server_a = a.start();
    // The first portal holds the background lock before the second starts.
    assert_eq!(health(&a)["background"], true);
    let server_b = b.start();
    assert_eq!(health(&b)["background"], false);

    let receipt = submit(&server_a, vec![file("a.txt", bytes(2000, 7))]);
    let case = receipt["case"].as_str().unwrap().to_owned();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    // Made on one, seen and changed on the other.
    assert_eq!(status_of(&server_b, &reference), "received");
    admin_ok(&b, &["status", &case, "acknowledged"]);
    assert_eq!(show(&a, &case)["status"], "acknowledged");
    assert_eq!(status_of(&server_a, &reference), "acknowledged");

    // Reports made on both at once get case numbers that never repeat.
    let cases: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = [&server_a, &server_b, &server_a, &server_b]
            .into_iter()
            .map(|server| {
                s.spawn(move || {
                    (0..3)
                        .map(|i| {
                            submit(server, vec![file("x.txt", bytes(100, i))])["case"]
                                .as_str()
                                .unwrap()
                                .to_owned()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut unique = cases.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 12, "{cases:?}");
    assert!(!unique.contains(&case));
    let listed: serde_json::Value =
        serde_json::from_str(&admin_ok(&b, &["list", "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 13);

    // The portal doing the background work dies: the other's purge takes the lock over by
    // itself (nothing asks it here; PostgreSQL shows who holds it), within a few rounds.
    let held = || {
        shared_psql(&format!(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
             WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'sealdrop' \
             AND l.objid::bigint = (hashtext('sealdrop-background/{schema}')::bigint & 4294967295)"
        ))
    };
    assert_eq!(held(), "1", "one portal holds the background lock");
    server_a.kill();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if held() == "1" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the surviving portal did not take over the background work"
        );
    }
    assert_eq!(health(&b)["background"], true);
    assert_eq!(status_of(&server_b, &reference), "acknowledged");
}

#[test]
fn a_database_that_goes_away_gives_503_with_retry_after_loses_nothing_and_comes_back_by_itself() {
    // A cluster of its own, to stop and start.
    let (cluster, url) = Cluster::start(&[]);
    let setup = on_postgres_at(&url, "outage", None, None);
    let server = setup.start();
    let first = submit(&server, vec![file("before.txt", bytes(5000, 1))]);
    let reference = first["reference"].as_str().unwrap().to_owned();

    // The database stops while an upload is on its way.
    let blobs = setup.blob_count();
    let r = upload_interrupted(&setup, &server, || cluster.stop());
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.error_code(), "busy");
    assert!(r.header("retry-after").is_some());
    let r = post_json(
        server.addr,
        "/api/v1/status",
        &json!({ "reference": reference }),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    // Nothing of the refused upload stays behind.
    let deadline = Instant::now() + Duration::from_secs(10);
    while setup.tmp_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(setup.tmp_count(), 0, "tmp/ still holds the refused upload");
    assert_eq!(
        setup.blob_count(),
        blobs,
        "a folder of the refused upload stayed"
    );
    let log = server.log();
    assert!(!log.contains("during.bin"), "{log}");

    // The database returns: the portal reconnects by itself.
    cluster.restart();
    let after = submit(&server, vec![file("after.txt", bytes(5000, 3))]);
    assert_ne!(after["case"], first["case"]);
    assert_eq!(status_of(&server, &reference), "received");
    let listed: serde_json::Value =
        serde_json::from_str(&admin_ok(&setup, &["list", "--json"])).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "the refused upload left a record"
    );
}

/// `sealdrop migrate --from A --to B`.
pub fn migrate(from: &Setup, to: &Setup) -> std::process::Output {
    run(&[
        "migrate",
        "--from",
        from.config.to_str().unwrap(),
        "--to",
        to.config.to_str().unwrap(),
    ])
}

/// Exports `case` from `setup` and checks that its one file opens as `content`.
pub fn opens_as(setup: &Setup, case: &str, content: &[u8]) {
    let bundle = setup.export(case);
    let out = setup.dir.path().join(format!("opened-{case}"));
    let o = open(&bundle, &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = std::fs::read(out.join("files/evidence-0.bin")).unwrap();
    assert!(got == content, "the file differs after the move");
}

#[test]
fn migrate_moves_a_sled_portal_to_postgres_and_back_and_the_case_opens_byte_identical() {
    let sled = Setup::new(1, "");
    let server = sled.start();
    let content = bytes(2 << 20, 9);
    let receipt = submit(&server, vec![file("evidence-0.bin", content.clone())]);
    let case = receipt["case"].as_str().unwrap().to_owned();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    admin_ok(&sled, &["assign", &case, "--to", "bob"]);
    let pg = on_postgres(&schema("migrate"), Some(&sled));

    // A running portal is refused: stop it first.
    let o = migrate(&sled, &pg);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is running"), "{err}");
    server.stop();

    let o = migrate(&sled, &pg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("Moved 1 submission(s) from sled to postgres"),
        "{said}"
    );
    // Never into storage that holds data.
    let o = migrate(&sled, &pg);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not empty"), "{err}");

    let server = pg.start();
    assert_eq!(show(&pg, &case)["assignee"], "bob");
    assert_eq!(status_of(&server, &reference), "received");
    opens_as(&pg, &case, &content);
    let audit = admin_ok(&pg, &["audit"]);
    assert!(audit.contains("assigned"), "{audit}");
    server.stop();

    // And back to sled, in a new folder.
    let back = Setup::new(0, "");
    std::fs::copy(
        sled.dir.path().join("keys/recipients.txt"),
        back.dir.path().join("keys/recipients.txt"),
    )
    .unwrap();
    let back = Setup {
        identities: sled.identities.clone(),
        ..back
    };
    let o = migrate(&pg, &back);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let server = back.start();
    assert_eq!(show(&back, &case)["assignee"], "bob");
    assert_eq!(status_of(&server, &reference), "received");
    opens_as(&back, &case, &content);
}

#[test]
fn a_backup_restores_into_a_blank_postgres_schema_and_never_into_one_that_holds_data() {
    let sled = Setup::new(1, "");
    let server = sled.start();
    let content = bytes(100_000, 4);
    let receipt = submit(&server, vec![file("evidence-0.bin", content.clone())]);
    let case = receipt["case"].as_str().unwrap().to_owned();
    let backup = sled.dir.path().join("backup.tar");
    admin_ok(&sled, &["backup", "-o", backup.to_str().unwrap()]);
    drop(server);

    let pg = on_postgres(&schema("restore"), Some(&sled));
    let restore = |setup: &Setup| {
        run(&[
            "restore",
            backup.to_str().unwrap(),
            "--config",
            setup.config.to_str().unwrap(),
        ])
    };
    let o = restore(&pg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let server = pg.start();
    opens_as(&pg, &case, &content);
    drop(server);

    // A schema a portal already used, with an empty data folder: refused, and left as it was.
    let used = on_postgres(&schema("used"), Some(&sled));
    drop(used.start());
    std::fs::remove_dir_all(used.data()).unwrap();
    let o = restore(&used);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("already holds data"), "{err}");
    let server = used.start();
    assert_eq!(health(&used)["submissions"], 0);
    drop(server);
}

#[cfg(feature = "fault-points")]
#[test]
fn a_crash_between_any_two_durability_steps_on_postgres_leaves_a_consistent_state() {
    // The commit in PostgreSQL is the durable step: a crash just after it keeps the upload
    // whole (its folder was fsynced before), one before it leaves nothing.
    crate::crashpoints::crash_at_each_step(&|| on_postgres(&schema("crash"), None), true);
}

#[cfg(feature = "fault-points")]
#[test]
fn a_crash_around_a_team_action_on_postgres_leaves_its_change_and_its_audit_entry_both_or_neither()
{
    for step in ["case-applied", "case-flushed"] {
        let setup = on_postgres(&schema("teamcrash"), None);
        let (setup, case, _server) = crate::crashpoints::crash_during_on(
            setup,
            step,
            &["assign", "{case}", "--to", "alice"],
        );
        let assigned = show(&setup, &case)["assignee"] == "alice";
        let entries = crate::crashpoints::audited(&setup, &case, "assigned");
        // Committed in one transaction before either crash point: both, in PostgreSQL.
        assert_eq!((assigned, entries), (true, 1), "{step}");
    }
}

/// A PostgreSQL cluster of a test's own (`tests/support/postgres.sh`), stopped when dropped.
struct Cluster {
    _dir: TempDir,
    path: std::path::PathBuf,
    port: String,
    extra: Vec<String>,
}

impl Cluster {
    /// Starts it (`extra`: `["tls"]` for TLS); returns it with its connection string.
    fn start(extra: &[&str]) -> (Cluster, String) {
        let dir = TempDir::new("pg-own");
        let cluster = Cluster {
            path: dir.path().join("cluster"),
            _dir: dir,
            port: free_port().to_string(),
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        };
        let url = cluster.restart();
        (cluster, url)
    }

    fn script(args: &[&str]) -> String {
        let o = std::process::Command::new(repo("tests/support/postgres.sh"))
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    }

    /// (Re)starts it on its port; its connection string.
    fn restart(&self) -> String {
        let mut args = vec!["start", self.path.to_str().unwrap(), &self.port];
        args.extend(self.extra.iter().map(String::as_str));
        Self::script(&args)
    }

    fn stop(&self) {
        Self::script(&["stop", self.path.to_str().unwrap()]);
    }

    fn file(&self, name: &str) -> std::path::PathBuf {
        self.path.join(name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(repo("tests/support/postgres.sh"))
            .args(["stop", self.path.to_str().unwrap()])
            .output();
    }
}

#[test]
fn a_portal_reaches_postgres_over_tls_checked_against_its_ca_and_refuses_another() {
    let (cluster, url) = Cluster::start(&["tls"]);
    let setup = on_postgres_at(&url, "tls", None, Some(&cluster.file("tls/ca.pem")));
    let server = setup.start();
    let receipt = submit(&server, vec![file("evidence-0.bin", bytes(1000, 8))]);
    let reference = receipt["reference"].as_str().unwrap();
    assert_eq!(status_of(&server, reference), "received");
    // The session really is TLS: PostgreSQL says so for the portal's connections.
    let sessions = as_cluster_owner(&psql())
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port,
            "-U",
            "sealdrop",
            "-d",
            "postgres",
            "-Atc",
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'sealdrop'",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sessions.stdout).trim(),
        "t",
        "{}",
        String::from_utf8_lossy(&sessions.stderr)
    );
    drop(server);

    // TLS required of a server that does not speak it: no plain fallback, the start fails.
    let plain = on_postgres_at(
        &self::url(),
        &schema("notls"),
        None,
        Some(&cluster.file("tls/ca.pem")),
    );
    let log = Server::try_start(&plain, &[])
        .err()
        .expect("started without TLS");
    assert!(log.contains("PostgreSQL"), "{log}");

    // A CA that did not sign the server's certificate: the portal does not start, and says why.
    let wrong = on_postgres_at(&url, "tls", None, Some(&cluster.file("tls/other-ca.pem")));
    let log = Server::try_start(&wrong, &[])
        .err()
        .expect("started with a wrong CA");
    assert!(log.contains("PostgreSQL"), "{log}");
    assert!(log.to_lowercase().contains("certificate"), "{log}");
}

/// A command run as the cluster's owner (the postgres user when the tests run as root, as
/// `tests/support/postgres.sh` does).
fn as_cluster_owner(program: &Path) -> std::process::Command {
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        std::process::Command::new(program)
    }
}

/// PostgreSQL's `psql`, from the newest version installed.
fn psql() -> std::path::PathBuf {
    let mut bins: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .map(|e| e.unwrap().path().join("bin/psql"))
        .filter(|p| p.exists())
        .collect();
    bins.sort();
    bins.pop().expect("psql (Debian package postgresql-client)")
}

/// One query on the shared test server through `psql`, its output trimmed.
fn shared_psql(sql: &str) -> String {
    let url = url();
    let port = url
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("port="))
        .unwrap_or("5432")
        .to_owned();
    let o = as_cluster_owner(&psql())
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "sealdrop",
            "-d",
            "postgres",
            "-Atc",
            sql,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[test]
fn a_data_folder_never_starts_on_a_database_that_is_not_its_own() {
    // A sled portal with a report; then its configuration is switched to a blank PostgreSQL
    // schema without `migrate`: starting would remove the ciphertext the schema does not list.
    let setup = Setup::new(1, "");
    let server = setup.start();
    let receipt = submit(&server, vec![file("evidence-0.bin", bytes(3000, 6))]);
    let case = receipt["case"].as_str().unwrap().to_owned();
    drop(server);
    let sled_config = std::fs::read_to_string(&setup.config).unwrap();
    let section = format!(
        "[storage.postgres]\nurl = \"{}\"\ntls = false\nschema = \"{}\"\n",
        url(),
        schema("notmine")
    );
    std::fs::write(
        &setup.config,
        sled_config.replacen("[storage]\n", "[storage]\nmetadata = \"postgres\"\n", 1) + &section,
    )
    .unwrap();
    let log = Server::try_start(&setup, &[])
        .err()
        .expect("started on a database that is not its folder's");
    assert!(log.contains("storage id"), "{log}");
    assert!(log.contains("sealdrop migrate"), "{log}");
    assert_eq!(setup.blob_count(), 1, "the ciphertext was touched");
    // Back on its own database, all is there.
    std::fs::write(&setup.config, &sled_config).unwrap();
    let _server = setup.start();
    opens_as(&setup, &case, &bytes(3000, 6));
}
