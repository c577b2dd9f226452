//! The operating-system calls sealdrop needs beyond std: free disk space, and no core dumps.
//! The only user of rustix.

use std::io;
use std::path::Path;

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
