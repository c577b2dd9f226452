//! The operating-system calls sealdrop needs beyond std: free disk space, and no core dumps;
//! plus which folders a command is about to create. The only user of rustix.

use std::io;
use std::path::{Path, PathBuf};

/// The outermost folder that creating `path` (with its parents) would create: `path` itself or
/// one of its ancestors, or `None` when `path` exists. Removing it undoes the creation.
pub fn first_missing_ancestor(path: &Path) -> Option<PathBuf> {
    let mut missing = None;
    for p in path.ancestors() {
        if p.as_os_str().is_empty() || p.symlink_metadata().is_ok() {
            break;
        }
        missing = Some(p.to_owned());
    }
    missing
}

/// Bytes available to this (unprivileged) process on the file system holding `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let st = rustix::fs::statvfs(path)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Sets the core-dump size limit to zero (soft and hard): a core dump of a server that holds
/// plaintext chunks in memory would be plaintext at rest.
pub fn disable_core_dumps() -> io::Result<()> {
    rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_missing_ancestor_is_the_outermost_folder_that_would_be_created() {
        let base = std::env::temp_dir();
        let new = base.join(format!("sealdrop-os-test-{}", std::process::id()));
        assert_eq!(first_missing_ancestor(&new.join("a/b")), Some(new.clone()));
        assert_eq!(first_missing_ancestor(&base), None);
        assert_eq!(
            first_missing_ancestor(Path::new("surely-missing-x/y")),
            Some(PathBuf::from("surely-missing-x"))
        );
    }
}
