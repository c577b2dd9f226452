//! A folder and names of its own for a store test, the folder removed when dropped (tests
//! only).

use std::sync::atomic::{AtomicUsize, Ordering};

/// A folder removed when dropped.
pub struct Dir(pub std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new, empty folder under the system's temporary folder, named for `tag`.
pub fn temp_dir(tag: &str) -> Dir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("sealdrop-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

/// A name no other test of any run shares (a schema, a bucket prefix): the process id, a
/// counter and `test` in lower-case letters and digits.
#[cfg(any(feature = "postgres", feature = "s3"))]
pub fn unique_name(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        test.chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect::<String>()
            .to_ascii_lowercase()
    )
}
