//! The ciphertext store's promises, checked against every engine the build has: the data
//! folder always, and an S3-compatible bucket with the `s3` feature (the service
//! `SEALDROPTEST_S3` names, an endpoint URL; its access key `sealdroptest`, its secret
//! `sealdroptest-secret` and its bucket `sealdrop`, as `tests/support/seaweedfs.sh` makes them;
//! each test under a prefix of its own). A build with the feature and no service fails these
//! tests rather than skipping them.

use super::Blobs;
use crate::config::Storage;
#[cfg(feature = "s3")]
use crate::config::{BlobStore, ByteSize};
#[cfg(feature = "s3")]
use crate::store::StoreError;
use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use crate::store::test_dir::Dir;

fn temp_dir() -> Dir {
    crate::store::test_dir::temp_dir("blobs-conformance")
}

/// The smallest part size S3 allows: a multipart object in a test stays small.
const PART: u64 = 5 << 20;

/// A fresh blob store of each engine, named for messages.
fn engines(test: &str) -> Vec<(&'static str, Blobs, Dir)> {
    let dir = temp_dir();
    let storage = Storage {
        data_dir: dir.0.join("data"),
        ..Storage::default()
    };
    #[allow(unused_mut)]
    let mut out = vec![("local", Blobs::open(&storage).unwrap(), dir)];
    #[cfg(feature = "s3")]
    {
        let dir = temp_dir();
        let storage = s3_storage(test, &dir.0);
        out.push(("s3", Blobs::open(&storage).unwrap(), dir));
    }
    let _ = test;
    out
}

/// `[storage]` for a bucket prefix of this test's own, its credential files in `dir`.
#[cfg(feature = "s3")]
pub fn s3_storage(test: &str, dir: &std::path::Path) -> Storage {
    use std::os::unix::fs::PermissionsExt;
    let endpoint = std::env::var("SEALDROPTEST_S3").unwrap_or_else(|_| {
        panic!(
            "{test}: this build has the s3 feature, so its tests need a service: set \
             SEALDROPTEST_S3 to an S3 endpoint (`.ci/run` starts SeaweedFS)"
        )
    });
    std::fs::create_dir_all(dir).unwrap();
    let (access, secret) = (dir.join("access-key"), dir.join("secret-key"));
    std::fs::write(&access, "sealdroptest\n").unwrap();
    std::fs::write(&secret, "sealdroptest-secret\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let prefix = format!("conformance/{}/", crate::store::test_dir::unique_name(test));
    Storage {
        data_dir: dir.join("data"),
        blobs: BlobStore::S3,
        s3: crate::config::S3 {
            endpoint,
            bucket: "sealdrop".into(),
            prefix,
            access_key_file: access,
            secret_key_file: secret,
            part_size: ByteSize(PART),
            ..crate::config::S3::default()
        },
        ..Storage::default()
    }
}

/// Stages the files `(name, bytes)` as upload `id` and commits them.
fn put(blobs: &Blobs, id: &str, files: &[(&str, &[u8])]) {
    let dir = blobs.begin(id).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    blobs.store(id).unwrap();
    blobs.move_in(id).unwrap();
    blobs.sync_parents().unwrap();
}

fn read(blobs: &Blobs, folder: &str, name: &str) -> Vec<u8> {
    let (len, mut r) = blobs.open_file(folder, name).unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(len, out.len() as u64);
    out
}

/// Bytes that differ at every offset (a misplaced part would show).
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect()
}

#[test]
fn committed_files_read_back_and_the_staging_folder_goes() {
    for (engine, blobs, _dir) in engines("readback") {
        put(
            &blobs,
            "a1",
            &[("manifest.age", b"manifest"), ("000.age", b"")],
        );
        assert_eq!(read(&blobs, "a1", "manifest.age"), b"manifest", "{engine}");
        assert_eq!(read(&blobs, "a1", "000.age"), b"", "{engine}");
        assert!(!blobs.tmp_dir("a1").exists(), "{engine}: staging left");
        assert!(blobs.holds_ciphertext().unwrap(), "{engine}");
        assert!(blobs.open_file("a1", "001.age").is_err(), "{engine}");
    }
}

#[test]
fn files_larger_than_a_part_go_up_in_parts_and_read_back_whole() {
    for (engine, blobs, _dir) in engines("multipart") {
        let big = pattern(2 * PART as usize + 12_345);
        put(&blobs, "b2", &[("000.age", &big), ("manifest.age", b"m")]);
        let back = read(&blobs, "b2", "000.age");
        assert!(
            back == big,
            "{engine}: the object differs from what was stored"
        );
        // Exactly one part, and a part plus a byte.
        for len in [PART as usize, PART as usize + 1] {
            let mut w = blobs.create_file("edge", &format!("{len}")).unwrap();
            w.write_all(&pattern(len)).unwrap();
            w.finish().unwrap();
            assert_eq!(
                read(&blobs, "edge", &format!("{len}")),
                pattern(len),
                "{engine} {len}"
            );
        }
    }
}

#[test]
fn an_object_is_never_overwritten() {
    for (engine, blobs, _dir) in engines("overwrite") {
        for len in [3, PART as usize + 7] {
            let name = format!("f{len}");
            let mut w = blobs.create_file("c3", &name).unwrap();
            w.write_all(&pattern(len)).unwrap();
            w.finish().unwrap();
            let again = blobs.create_file("c3", &name).and_then(|mut w| {
                w.write_all(b"other")?;
                w.write_all(&vec![0; len])?;
                w.finish()
            });
            let e = again.expect_err(&format!("{engine}: {name} was overwritten"));
            assert!(e.to_string().contains("exists"), "{engine}: {name}: {e}");
            assert_eq!(read(&blobs, "c3", &name), pattern(len), "{engine} {name}");
        }
    }
}

#[test]
fn an_unfinished_file_leaves_nothing_and_a_removed_folder_is_gone() {
    for (engine, blobs, _dir) in engines("unfinished") {
        {
            let mut w = blobs.create_file("d4", "000.age").unwrap();
            w.write_all(&pattern(PART as usize + 1)).unwrap();
            // Dropped: never finished.
        }
        if engine == "s3" {
            // The abort runs on the bucket's runtime; give it a moment.
            std::thread::sleep(Duration::from_millis(500));
            assert!(blobs.open_file("d4", "000.age").is_err(), "{engine}");
        }
        put(&blobs, "e5", &[("000.age", b"x"), ("manifest.age", b"y")]);
        blobs.remove_committed("e5").unwrap();
        assert!(blobs.open_file("e5", "000.age").is_err(), "{engine}");
        // Removing what is not there is no error (a purge run twice).
        blobs.remove_committed("e5").unwrap();
    }
}

#[test]
fn recovery_sweeps_orphans_after_the_grace_and_names_missing_files() {
    for (engine, blobs, _dir) in engines("recovery") {
        put(&blobs, "kept", &[("manifest.age", b"1"), ("000.age", b"2")]);
        put(&blobs, "orphan", &[("manifest.age", b"3")]);
        put(&blobs, "short", &[("manifest.age", b"4")]);
        blobs.begin("unfinished").unwrap();
        let expected = vec![
            (
                "kept".to_owned(),
                "kept".to_owned(),
                vec!["manifest.age".to_owned(), "000.age".to_owned()],
            ),
            (
                "short".to_owned(),
                "short".to_owned(),
                vec!["manifest.age".to_owned(), "000.age".to_owned()],
            ),
        ];
        let now = SystemTime::now();
        let report = blobs.recover(&expected, now).unwrap();
        assert_eq!(report.tmp_removed, 1, "{engine}");
        assert_eq!(report.missing, vec!["short".to_owned()], "{engine}");
        if engine == "s3" {
            // Another portal may still be committing it: kept within the grace period.
            assert_eq!(
                (report.orphans_removed, report.orphans_waiting),
                (0, 1),
                "{engine}"
            );
            assert_eq!(read(&blobs, "orphan", "manifest.age"), b"3");
            let later = now + Duration::from_secs(24 * 3600 + 60);
            let report = blobs.recover(&expected, later).unwrap();
            assert_eq!(
                (report.orphans_removed, report.orphans_waiting),
                (1, 0),
                "{engine}"
            );
        } else {
            assert_eq!(report.orphans_removed, 1, "{engine}");
        }
        assert!(
            blobs.open_file("orphan", "manifest.age").is_err(),
            "{engine}"
        );
        assert_eq!(read(&blobs, "kept", "000.age"), b"2", "{engine}");
    }
}

#[test]
fn the_storage_id_is_kept_with_the_ciphertext() {
    for (engine, blobs, _dir) in engines("marker") {
        assert_eq!(blobs.marker().unwrap(), None, "{engine}");
        blobs.set_marker(b"00000000000000ab\n").unwrap();
        assert_eq!(
            blobs.marker().unwrap().as_deref(),
            Some(&b"00000000000000ab\n"[..]),
            "{engine}"
        );
    }
}

#[cfg(feature = "s3")]
#[test]
fn an_unreachable_service_is_unavailable_and_bad_credentials_are_not() {
    let dir = temp_dir();
    let mut storage = s3_storage("unreachable", &dir.0);
    // A port nothing listens on (below the range the kernel hands out).
    storage.s3.endpoint = "http://127.0.0.1:9".into();
    storage.s3.timeout = crate::config::HumanDuration(Duration::from_secs(2));
    match Blobs::open(&storage) {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("object store"), "{why}"),
        other => panic!("{other:?}"),
    }
    let mut storage = s3_storage("credentials", &dir.0.join("c"));
    std::fs::write(&storage.s3.secret_key_file, "wrong\n").unwrap();
    match Blobs::open(&storage) {
        Err(StoreError::Db(why)) => assert!(why.contains("object store"), "{why}"),
        other => panic!("{other:?}"),
    }
    // A secret others may read is refused before any request.
    storage = s3_storage("credentials", &dir.0.join("d"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        &storage.s3.secret_key_file,
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    match Blobs::open(&storage) {
        Err(StoreError::Db(why)) => assert!(why.contains("chmod 600"), "{why}"),
        other => panic!("{other:?}"),
    }
}
