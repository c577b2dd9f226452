//! The ciphertext in an S3-compatible bucket (`storage.blobs = "s3"`, a build with the `s3`
//! feature), on the SeaweedFS `SEALDROPTEST_S3` names (`.ci/run` starts one; without it these
//! tests fail), with the records on PostgreSQL: form, follow-up and resumable uploads open
//! byte-identical; two portals on one database and bucket open each other's reports; a store
//! that goes away gives 503 and keeps nothing of the refused upload; migrate moves a portal
//! into a bucket and back; a crash between the objects and the records leaves either both or
//! an orphan swept after its grace period. The bucket is read with curl, not with the portal's
//! own client.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::postgres::{health, migrate, on_postgres, opens_as, schema, status_of, submit};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ACCESS: &str = "sealdroptest";
const SECRET: &str = "sealdroptest-secret";

fn endpoint() -> String {
    std::env::var("SEALDROPTEST_S3").expect(
        "SEALDROPTEST_S3 must name the test S3 endpoint (tests/support/seaweedfs.sh start DIR \
         BASE prints it; .ci/run starts one)",
    )
}

/// A prefix of its own for each test.
fn prefix(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "e2e/{}-{}-{test}/",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Puts `setup`'s ciphertext in the bucket at `endpoint` under `prefix` (parts of 5 MiB).
fn in_bucket(setup: Setup, endpoint: &str, prefix: &str) -> Setup {
    use std::os::unix::fs::PermissionsExt;
    let access = setup.dir.path().join("s3-access");
    let secret = setup.dir.path().join("s3-secret");
    std::fs::write(&access, format!("{ACCESS}\n")).unwrap();
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = std::fs::read_to_string(&setup.config).unwrap();
    let config = config.replacen("[storage]\n", "[storage]\nblobs = \"s3\"\n", 1)
        + &format!(
            "\n[storage.s3]\nendpoint = \"{endpoint}\"\nbucket = \"sealdrop\"\nprefix = \
             \"{prefix}\"\naccess_key_file = \"{}\"\nsecret_key_file = \"{}\"\npart_size = \
             \"5 MiB\"\ntimeout = \"5s\"\n",
            access.display(),
            secret.display()
        );
    std::fs::write(&setup.config, config).unwrap();
    setup
}

/// A portal on PostgreSQL (schema `schema`) and the test bucket (`prefix`).
fn on_both(schema: &str, prefix: &str, like: Option<&Setup>) -> Setup {
    in_bucket(on_postgres(schema, like), &endpoint(), prefix)
}

/// A SeaweedFS of a test's own (ports from `base`; see tests/support/seaweedfs.sh), stopped
/// when dropped.
struct Weed {
    dir: TempDir,
    base: u16,
    tls: bool,
    endpoint: String,
}

impl Weed {
    fn start(base: u16, tls: bool) -> Weed {
        let mut weed = Weed {
            dir: TempDir::new("weed"),
            base,
            tls,
            endpoint: String::new(),
        };
        weed.endpoint = weed.restart();
        weed
    }

    /// Starts it (again, on the same data); its endpoint.
    fn restart(&self) -> String {
        let mut args = vec![
            "start".to_owned(),
            self.dir.path().display().to_string(),
            self.base.to_string(),
        ];
        if self.tls {
            args.push("tls".into());
        }
        let o = std::process::Command::new(repo("tests/support/seaweedfs.sh"))
            .args(&args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    }

    fn stop(&self) {
        let o = std::process::Command::new(repo("tests/support/seaweedfs.sh"))
            .args(["stop", self.dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    /// A file of its TLS folder (`ca.pem`, `other-ca.pem`).
    fn tls_file(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join("tls").join(name)
    }
}

impl Drop for Weed {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One object in a listing.
#[derive(Debug)]
struct Object {
    key: String,
    size: u64,
    etag: String,
}

fn curl_s3(args: &[&str]) -> std::process::Output {
    let auth = format!("{ACCESS}:{SECRET}");
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            "--user",
            &auth,
        ])
        .args(args)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The objects under `prefix`, as the service lists them.
fn objects(endpoint: &str, prefix: &str) -> Vec<Object> {
    let out = curl_s3(&[&format!(
        "{endpoint}/sealdrop?list-type=2&max-keys=1000&prefix={}",
        prefix.replace('/', "%2F")
    )]);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.contains("<ListBucketResult"), "{xml}");
    let field = |block: &str, name: &str| {
        let open = format!("<{name}>");
        let start = block.find(&open).map(|i| i + open.len()).unwrap_or(0);
        let end = block[start..]
            .find(&format!("</{name}>"))
            .map(|i| start + i)
            .unwrap_or(start);
        block[start..end].to_owned()
    };
    xml.split("<Contents>")
        .skip(1)
        .map(|block| Object {
            key: field(block, "Key"),
            size: field(block, "Size").parse().unwrap(),
            etag: field(block, "ETag").replace("&#34;", "").replace('"', ""),
        })
        .collect()
}

/// The folders of `blobs/` under `prefix`.
fn folders(endpoint: &str, prefix: &str) -> std::collections::BTreeSet<String> {
    objects(endpoint, prefix)
        .iter()
        .filter_map(|o| {
            o.key
                .strip_prefix(prefix)?
                .strip_prefix("blobs/")?
                .split('/')
                .next()
                .map(str::to_owned)
        })
        .collect()
}

fn case_of(receipt: &serde_json::Value) -> String {
    receipt["case"].as_str().unwrap().to_owned()
}

/// Uploads `content` as `name` through the resumable path in two pieces and names it in a
/// report; the receipt.
fn resumable(server: &Server, name: &str, content: &[u8]) -> serde_json::Value {
    let path = crate::tus::create(server.addr, content.len(), name);
    let half = content.len() / 2;
    assert_eq!(
        crate::tus::patch(server.addr, &path, 0, &content[..half]).status,
        204
    );
    assert_eq!(
        crate::tus::patch(server.addr, &path, half, &content[half..]).status,
        204
    );
    let r = crate::tus::commit(server.addr, &[&path], "");
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

/// Exports `case` from `setup` and checks each `(name, content)` opens byte-identical.
fn opens(setup: &Setup, case: &str, files: &[(&str, &[u8])]) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let bundle = setup.export(case);
    let out = setup.dir.path().join(format!(
        "opened-{case}-{}",
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let o = open(&bundle, &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (name, content) in files {
        let got = std::fs::read(out.join("files").join(name)).unwrap();
        assert!(got == *content, "{name} differs after open");
    }
}

#[test]
fn a_portal_on_postgres_and_s3_takes_every_kind_of_upload_and_opens_them_byte_identical() {
    let endpoint = endpoint();
    let prefix = prefix("one");
    let setup = on_both(&schema("s3one"), &prefix, None);
    let server = setup.start();
    let h = health(&setup);
    assert_eq!(
        (h["database"].as_str(), h["ciphertext"].as_str()),
        (Some("postgres"), Some("s3"))
    );

    // A form upload with a file above the part size (a multipart object) and a small one.
    let big = bytes(11 << 20, 1);
    let small = bytes(1000, 2);
    let receipt = submit(
        &server,
        vec![
            file("big.bin", big.clone()),
            file("small.txt", small.clone()),
        ],
    );
    let case = case_of(&receipt);
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    // A follow-up, and a resumable upload.
    let later = bytes(3000, 3);
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[
            text("reference", &reference),
            file("later.txt", later.clone()),
        ],
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let piece = bytes(3 << 20, 4);
    let tus_case = case_of(&resumable(&server, "resumed.bin", &piece));

    // Team operations.
    admin_ok(&setup, &["status", &case, "acknowledged"]);
    admin_ok(&setup, &["assign", &case, "--to", "carol"]);
    assert_eq!(status_of(&server, &reference), "acknowledged");

    // The ciphertext is in the bucket, none of it in the data folder; the big file went up in
    // parts (S3 marks a multipart object's ETag with its part count).
    assert_eq!(setup.blob_count(), 0, "ciphertext in the data folder");
    assert_eq!(setup.tmp_count(), 0);
    let listed = objects(&endpoint, &prefix);
    assert!(
        listed
            .iter()
            .all(|o| o.key.starts_with(&format!("{prefix}blobs/"))
                || o.key == format!("{prefix}storage-id")),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|o| o.size > big.len() as u64 && o.etag.ends_with("-3")),
        "no multipart object of three parts: {listed:?}"
    );
    assert_eq!(setup.record_count(), 2);
    assert!(folders(&endpoint, &prefix).len() >= 2, "{listed:?}");

    opens(&setup, &case, &[("big.bin", &big), ("small.txt", &small)]);
    opens(&setup, &tus_case, &[("resumed.bin", &piece)]);

    // A restart keeps everything.
    server.kill();
    let server = setup.start();
    assert_eq!(show(&setup, &case)["assignee"], "carol");
    assert_eq!(status_of(&server, &reference), "acknowledged");
    opens(&setup, &tus_case, &[("resumed.bin", &piece)]);

    // An import of a re-keyed bundle puts the case's ciphertext in a new folder of objects and
    // removes the old one; a purge removes a case's objects.
    let before = folders(&endpoint, &prefix);
    let second = setup.dir.path().join("identity-second.txt");
    let recipient = keygen(&second);
    let config = setup.config.to_str().unwrap();
    let o = run(&[
        "keys", "--config", config, "add", &recipient, "--label", "second",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = setup.export(&tus_case);
    let rekeyed = setup.dir.path().join("rekeyed.tar");
    let o = run(&[
        "rekey",
        bundle.to_str().unwrap(),
        "-i",
        setup.identities[0].to_str().unwrap(),
        "-r",
        &recipient,
        "-o",
        rekeyed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    admin_ok(&setup, &["import", rekeyed.to_str().unwrap()]);
    let imported = folders(&endpoint, &prefix);
    assert_eq!(imported.len(), before.len(), "{before:?} → {imported:?}");
    assert_ne!(imported, before, "the import kept the old objects");
    let out = setup.dir.path().join("opened-rekeyed");
    let o = open(&setup.export(&tus_case), &[&second], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files/resumed.bin")).unwrap() == piece);
    admin_ok(&setup, &["purge", &case, "--reason", "test"]);
    let stored = folders(&endpoint, &prefix).len();
    assert!(stored < imported.len() && stored >= 1, "{stored}");

    // Its backup restores into a portal on sled with its ciphertext in the data folder.
    let backup = setup.dir.path().join("backup.tar");
    admin_ok(&setup, &["backup", "-o", backup.to_str().unwrap()]);
    drop(server);
    let local = Setup::new(0, "");
    std::fs::copy(
        setup.dir.path().join("keys/recipients.txt"),
        local.dir.path().join("keys/recipients.txt"),
    )
    .unwrap();
    let local = Setup {
        identities: setup.identities.clone(),
        ..local
    };
    let o = run(&[
        "restore",
        backup.to_str().unwrap(),
        "--data-dir",
        local.data().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _server = local.start();
    assert_eq!(local.blob_count(), stored);
    let out = local.dir.path().join("opened-restored");
    let o = open(&local.export(&tus_case), &[&second], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files/resumed.bin")).unwrap() == piece);
}

#[test]
fn two_portals_on_one_database_and_bucket_open_each_others_reports() {
    let prefix = prefix("two");
    let schema = schema("s3two");
    let a = on_both(&schema, &prefix, None);
    let b = on_both(&schema, &prefix, Some(&a));
    let server_a = a.start();
    let server_b = b.start();

    let on_a = bytes(6 << 20, 5);
    let receipt = submit(&server_a, vec![file("from-a.bin", on_a.clone())]);
    let case_a = case_of(&receipt);
    let on_b = bytes(2 << 20, 6);
    let case_b = case_of(&resumable(&server_b, "from-b.bin", &on_b));

    // Each opens the other's report, byte-identical.
    opens(&b, &case_a, &[("from-a.bin", &on_a)]);
    opens(&a, &case_b, &[("from-b.bin", &on_b)]);
    let reference = receipt["reference"].as_str().unwrap();
    assert_eq!(status_of(&server_b, reference), "received");

    // A portal starting beside them sweeps nothing of theirs.
    drop(server_b);
    let server_b = b.start();
    opens(&b, &case_a, &[("from-a.bin", &on_a)]);
    drop((server_a, server_b));
}

#[test]
fn an_object_store_that_goes_away_gives_503_with_retry_after_keeps_nothing_and_comes_back() {
    // A SeaweedFS of its own, to stop and start, under records in sled.
    let weed = Weed::start(63100, false);
    let endpoint = weed.endpoint.clone();
    let prefix = prefix("outage");
    let setup = in_bucket(Setup::new(1, ""), &endpoint, &prefix);
    let server = setup.start();
    let first = submit(&server, vec![file("before.txt", bytes(5000, 1))]);
    let reference = first["reference"].as_str().unwrap().to_owned();

    // The store stops while an upload is on its way.
    let r = upload_interrupted(&setup, &server, || weed.stop());
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.error_code(), "busy");
    assert!(r.header("retry-after").is_some());
    let deadline = Instant::now() + Duration::from_secs(10);
    while setup.tmp_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(setup.tmp_count(), 0, "tmp/ still holds the refused upload");
    assert_eq!(setup.record_count(), 1, "the refused upload left a record");
    let log = server.log();
    assert!(!log.contains("during.bin"), "{log}");

    // The store returns: the next upload goes through, and nothing of the refused one is in
    // the bucket.
    assert_eq!(weed.restart(), endpoint);
    let after = submit(&server, vec![file("after.txt", bytes(5000, 3))]);
    assert_ne!(after["case"], first["case"]);
    assert_eq!(status_of(&server, &reference), "received");
    assert_eq!(folders(&endpoint, &prefix).len(), 2);
    opens(&setup, &case_of(&first), &[("before.txt", &bytes(5000, 1))]);
}

#[test]
fn migrate_moves_a_local_portal_into_postgres_and_s3_and_back_byte_identical() {
    let local = Setup::new(1, "");
    let server = local.start();
    let content = bytes(7 << 20, 9);
    let receipt = submit(&server, vec![file("evidence-0.bin", content.clone())]);
    let case = case_of(&receipt);
    admin_ok(&local, &["assign", &case, "--to", "dave"]);
    server.stop();

    let prefix = prefix("migrate");
    let remote = on_both(&schema("s3migrate"), &prefix, Some(&local));
    let o = migrate(&local, &remote);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(folders(&endpoint(), &prefix).len(), 1);
    let server = remote.start();
    assert_eq!(show(&remote, &case)["assignee"], "dave");
    opens_as(&remote, &case, &content);
    server.stop();

    // Never into a prefix that holds ciphertext, even with a new schema and folder.
    let again = on_both(&schema("s3again"), &prefix, Some(&local));
    let o = migrate(&local, &again);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("already holds ciphertext"), "{err}");

    // And back to the data folder and sled.
    let back = Setup::new(0, "");
    std::fs::copy(
        local.dir.path().join("keys/recipients.txt"),
        back.dir.path().join("keys/recipients.txt"),
    )
    .unwrap();
    let back = Setup {
        identities: local.identities.clone(),
        ..back
    };
    let o = migrate(&remote, &back);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _server = back.start();
    assert_eq!(back.blob_count(), 1);
    opens_as(&back, &case, &content);
}

#[test]
fn a_bucket_prefix_never_serves_a_database_that_is_not_its_own() {
    let prefix = prefix("pair");
    let first = on_both(&schema("s3pair1"), &prefix, None);
    let server = first.start();
    submit(&server, vec![file("a.txt", bytes(100, 1))]);
    drop(server);
    // Another database on the same prefix would sweep the first portal's objects: refused.
    let other = on_both(&schema("s3pair2"), &prefix, Some(&first));
    let refused = Server::try_start(&other, &[]).err().expect("it started");
    assert!(
        refused.contains("belongs to a database, but the configured postgres database is not it"),
        "{refused}"
    );
    assert_eq!(folders(&endpoint(), &prefix).len(), 1);
}

#[cfg(feature = "fault-points")]
#[test]
fn a_crash_between_the_objects_and_the_records_leaves_both_or_an_orphan_swept_after_its_grace() {
    let endpoint = endpoint();
    for (step, survives) in [
        ("folder-fsynced", false),
        ("objects-stored", false),
        ("renamed", false),
        ("parents-fsynced", false),
        ("inserted", true),
        ("acknowledging", true),
    ] {
        let prefix = prefix("crash");
        let setup = on_both(&schema("s3crash"), &prefix, None);
        let server = Server::start(&setup, &[("SEALDROPTEST_CRASH_AT", step)]);
        let r = try_post(server.addr, &form(vec![file("a.bin", bytes(100_000, 1))]));
        assert!(
            r.is_none_or(|r| r.status != 201),
            "{step}: the upload was acknowledged"
        );
        server.kill();
        let server = setup.start();
        assert_eq!(setup.tmp_count(), 0, "{step}: tmp/ not emptied");
        let records = setup.record_count();
        assert_eq!(records, usize::from(survives), "{step}");
        if survives {
            let listed: serde_json::Value =
                serde_json::from_slice(&setup.admin(&["list", "--json"]).stdout).unwrap();
            let case = listed[0]["case"].as_str().unwrap().to_owned();
            opens(&setup, &case, &[("a.bin", &bytes(100_000, 1))]);
        }
        // An orphan waits out its grace (another portal may be committing it), then goes.
        let stored = matches!(step, "objects-stored" | "renamed" | "parents-fsynced");
        assert_eq!(
            folders(&endpoint, &prefix).len(),
            records + usize::from(stored),
            "{step}: the orphan did not wait for its grace"
        );
        drop(server);
        let _server = Server::start(&setup, &[("SEALDROPTEST_CLOCK_SHIFT", "25h")]);
        assert_eq!(
            folders(&endpoint, &prefix).len(),
            records,
            "{step}: objects and records disagree after the grace"
        );
    }
}

#[test]
fn a_restore_into_a_bucket_that_cannot_be_reached_leaves_nothing_and_can_be_run_again() {
    let local = Setup::new(1, "");
    let server = local.start();
    submit(&server, vec![file("a.txt", bytes(1000, 1))]);
    let backup = local.dir.path().join("backup.tar");
    admin_ok(&local, &["backup", "-o", backup.to_str().unwrap()]);
    drop(server);
    // Nothing listens on port 9.
    let target = in_bucket(
        Setup::new(0, ""),
        "http://127.0.0.1:9",
        &prefix("unreachable"),
    );
    let config = std::fs::read_to_string(&target.config).unwrap();
    std::fs::write(
        &target.config,
        config.replace("timeout = \"5s\"", "timeout = \"1s\""),
    )
    .unwrap();
    for attempt in 0..2 {
        let o = run(&[
            "restore",
            backup.to_str().unwrap(),
            "--config",
            target.config.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "attempt {attempt}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("object store"), "attempt {attempt}: {err}");
        assert!(!err.contains("not empty"), "attempt {attempt}: {err}");
        assert!(
            !target.data().exists(),
            "attempt {attempt}: the data folder stayed"
        );
    }
}

#[test]
fn a_portal_reaches_the_object_store_over_tls_checked_against_its_ca_and_refuses_another() {
    let weed = Weed::start(63200, true);
    assert!(weed.endpoint.starts_with("https://"), "{}", weed.endpoint);
    let with_ca = |ca: Option<&std::path::Path>| {
        let setup = in_bucket(Setup::new(1, ""), &weed.endpoint, &prefix("tls"));
        let line = ca.map_or(String::new(), |ca| {
            format!("ca_file = \"{}\"\n", ca.display())
        });
        let config = std::fs::read_to_string(&setup.config).unwrap();
        std::fs::write(
            &setup.config,
            config.replace("timeout = \"5s\"\n", &format!("timeout = \"5s\"\n{line}")),
        )
        .unwrap();
        setup
    };
    // Its own CA: reports go in and open byte-identical.
    let setup = with_ca(Some(&weed.tls_file("ca.pem")));
    let server = setup.start();
    let content = bytes(6 << 20, 8);
    let receipt = submit(&server, vec![file("over-tls.bin", content.clone())]);
    opens(&setup, &case_of(&receipt), &[("over-tls.bin", &content)]);
    drop(server);
    // A CA that did not sign its certificate, and the system's CAs: the start is refused and
    // says why.
    for ca in [Some(weed.tls_file("other-ca.pem")), None] {
        let refused = Server::try_start(&with_ca(ca.as_deref()), &[])
            .err()
            .expect("it started");
        assert!(refused.contains("object store"), "{refused}");
        assert!(refused.to_lowercase().contains("certificate"), "{refused}");
    }
}
