//! The whole upload path (multipart parsing, limits, sealing, commit) on arbitrary bodies with
//! the boundary `fuzzboundary`: never panics, and every accepted body becomes a complete
//! submission.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdrop::config::Config;
use sealdrop::portal::Portal;
use std::sync::{Arc, OnceLock};

fn portal() -> Arc<Portal> {
    static P: OnceLock<Arc<Portal>> = OnceLock::new();
    Arc::clone(P.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let root = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = root.join(format!("sealdrop-fuzz-upload-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("keys")).expect("temp dir");
        let recipient = sealdrop::keys::keygen(&dir.join("identity.txt")).expect("keygen");
        std::fs::write(dir.join("keys/recipients.txt"), recipient).expect("recipients");
        let env = [
            (
                "SEALDROP_STORAGE_DATA_DIR",
                dir.join("data").display().to_string(),
            ),
            ("SEALDROP_STORAGE_MIN_FREE_BYTES", "0".into()),
            (
                "SEALDROP_KEYS_RECIPIENTS_FILE",
                dir.join("keys/recipients.txt").display().to_string(),
            ),
            (
                "SEALDROP_SERVER_ADMIN_SOCKET",
                dir.join("admin.sock").display().to_string(),
            ),
            ("SEALDROP_LIMITS_MAX_FILE_SIZE", "65536".into()),
            ("SEALDROP_LIMITS_MAX_FILES", "4".into()),
            ("SEALDROP_LIMITS_MAX_PART_HEADER_BYTES", "4KiB".into()),
            ("SEALDROP_LIMITS_BODY_IDLE_TIMEOUT", "1s".into()),
            // Every input comes from the same (absent) address.
            ("SEALDROP_LIMITS_SUBMISSIONS_PER_HOUR", "1000000000".into()),
            // The corpus predates the contact rule; keep it reaching the commit path.
            ("SEALDROP_ORG_CONTACT_REQUIRED_FOR", "[]".into()),
        ];
        let config = Config::load(None, env.map(|(k, v)| (k.to_owned(), v))).expect("config");
        Arc::new(Portal::open(config).expect("portal"))
    }))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(receipt) =
        sealdrop::http::upload::fuzz_ingest(portal(), "fuzzboundary", data.to_vec())
    {
        assert!(receipt.files.len() <= 4);
        assert_eq!(receipt.reference.as_deref().map(str::len), Some(21));
    }
});
