//! The bundle readers behind `sealdrop open` and `sealdrop inspect`: hostile tar input never
//! panics and never writes outside the output folder. Uses the test-only identity in fuzz/identity.txt, so seeds made
//! for it get past decryption.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdrop::keys::Identities;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

fn setup() -> &'static (Identities, PathBuf) {
    static S: OnceLock<(Identities, PathBuf)> = OnceLock::new();
    S.get_or_init(|| {
        let id = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("identity.txt");
        let ids = Identities::load(&[id]).expect("fuzz/identity.txt");
        let base =
            std::env::temp_dir().join(format!("sealdrop-fuzz-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&base).expect("temp dir");
        (ids, base)
    })
}

fuzz_target!(|data: &[u8]| {
    static N: AtomicU64 = AtomicU64::new(0);
    let (ids, base) = setup();
    let out = base
        .join("out")
        .join(N.fetch_add(1, Ordering::Relaxed).to_string());
    let _ = sealdrop::open::open_reader(data, ids, &out);
    let _ = sealdrop::inspect::inspect_reader("fuzz", "fuzz.age", data, &[]);
    let _ = std::fs::remove_dir_all(&out);
    let entries = std::fs::read_dir(base).map(|d| d.count()).unwrap_or(0);
    assert!(entries <= 1, "open wrote outside its output folder");
});
