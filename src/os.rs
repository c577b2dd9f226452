//! The operating-system calls sealdrop needs beyond std: free disk space, no core dumps, a
//! Unix socket and new files that are private from their first moment, a question on the
//! terminal with its answer unechoed; plus which folders a command is about to create. The only
//! user of rustix.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
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

/// Asks `question` on the controlling terminal (not standard input, which may carry a bundle)
/// and reads one line; with `echo` false the answer is not shown as it is typed (a PIN).
/// `None` without a terminal.
pub fn ask_terminal(question: &str, echo: bool) -> Option<String> {
    use io::{BufRead, Read, Write};
    use rustix::termios::{LocalModes, OptionalActions, SpecialCodeIndex, tcgetattr, tcsetattr};
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let mut out = &tty;
    if echo {
        write!(out, "{question} ").and_then(|()| out.flush()).ok()?;
        let mut line = String::new();
        io::BufReader::new(&tty).read_line(&mut line).ok()?;
        return Some(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    // A secret: no echo, and no signals while it is typed, so that Ctrl-C cancels the question
    // (the terminal gets its echo back) instead of killing the process with echo still off.
    let before = tcgetattr(&tty).ok()?;
    let mut quiet = before.clone();
    quiet
        .local_modes
        .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    // Each read returns as soon as one byte is there.
    quiet.special_codes[SpecialCodeIndex::VMIN] = 1;
    quiet.special_codes[SpecialCodeIndex::VTIME] = 0;
    tcsetattr(&tty, OptionalActions::Now, &quiet).ok()?;
    let asked = write!(out, "{question} ").and_then(|()| out.flush());
    let typed = asked
        .ok()
        .and_then(|()| edit_line(io::BufReader::new(&tty).bytes().map_while(Result::ok)));
    // Echo and signals come back whatever the read did.
    let _ = tcsetattr(&tty, OptionalActions::Now, &before);
    let _ = writeln!(out);
    String::from_utf8(typed?).ok()
}

/// The line typed as `keys` arrive, with the editing a terminal does in canonical mode:
/// Backspace and Delete take back one character, Ctrl-U the whole line, Enter ends it. Ctrl-C,
/// Ctrl-D on an empty line and the end of input cancel (`None`).
fn edit_line(keys: impl Iterator<Item = u8>) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    for key in keys {
        match key {
            b'\r' | b'\n' => return Some(line),
            0x03 => return None,
            0x04 if line.is_empty() => return None,
            0x7f | 0x08 => {
                // One character, however many bytes it took in UTF-8.
                while line.pop().is_some_and(|b| b & 0xc0 == 0x80) {}
            }
            0x15 => line.clear(),
            _ => line.push(key),
        }
    }
    None
}

#[cfg(test)]
mod line_tests {
    use super::edit_line;

    #[test]
    fn a_secret_line_is_edited_as_a_terminal_would_and_ctrl_c_cancels() {
        let typed = |keys: &[u8]| edit_line(keys.iter().copied());
        assert_eq!(typed(b"1234\r"), Some(b"1234".to_vec()));
        assert_eq!(typed(b"12x\x7f34\n"), Some(b"1234".to_vec()));
        assert_eq!(typed("pä\x7f\x7fq\n".as_bytes()), Some(b"q".to_vec()));
        assert_eq!(typed(b"wrong\x15right\n"), Some(b"right".to_vec()));
        assert_eq!(typed(b"12\x03"), None);
        assert_eq!(typed(b"\x04"), None);
        assert_eq!(typed(b"no end"), None);
    }
}

/// Switches direct I/O (`O_DIRECT`: writes bypass the page cache) on or off for `file`.
/// `Ok(false)` when the file system does not support it (tmpfs, for one).
pub fn set_direct_io(file: &std::fs::File, on: bool) -> io::Result<bool> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    let wanted = if on {
        flags | OFlags::DIRECT
    } else {
        flags - OFlags::DIRECT
    };
    match fcntl_setfl(file, wanted) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::INVAL) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Bytes available to this (unprivileged) process on the file system holding `path`.
pub fn free_bytes(path: &Path) -> io::Result<u64> {
    let st = rustix::fs::statvfs(path)?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Reads the text file `path`; with `secret`, only when no one but its owner may read or
/// change it (a password or key the portal is given). The error says what to do.
pub fn read_private_text(path: &Path, secret: bool) -> Result<String, String> {
    if secret {
        let mode = std::fs::metadata(path)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "may be read by others (mode {:o}): chmod 600 it",
                mode & 0o777
            ));
        }
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// Creates the new file `path` (never overwriting) with mode 0600 whatever the umask: the mode
/// asked for at creation can only be narrowed by the umask, and the explicit `fchmod` after it
/// undoes a umask that took the owner's bits too. For what the CLI writes for a person (bundles,
/// backups, receipts), which must not be readable by others even under `umask 000`.
pub fn create_private_file(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// The name of local user `uid` from the password database (`/etc/passwd`), or `uid-N` when it
/// has none there.
pub fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut f = line.split(':');
                let name = f.next()?;
                let id = f.nth(1)?.parse::<u32>().ok()?;
                (id == uid).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid-{uid}"))
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

/// The permission bits of `dir` when users other than its owner may enter it (a group or other
/// search bit is set), `None` when only the owner can.
pub fn enterable_by_others(dir: &Path) -> io::Result<Option<u32>> {
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
    Ok((mode & 0o011 != 0).then_some(mode))
}

/// Binds a Unix socket at `path` that is owner-only (0600) from the moment it exists. A stale
/// socket of an earlier run is replaced; a socket a server still answers on, or a file that is
/// not a socket, is left alone and is an error.
pub fn bind_private_socket(path: &Path) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            ));
        }
        Ok(_) if UnixStream::connect(path).is_ok() => {
            return Err(io::Error::from(io::ErrorKind::AddrInUse));
        }
        Ok(_) => std::fs::remove_file(path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // bind() creates the socket file with 0777 less the umask, so binding under umask 0177
    // creates it 0600 with no moment in which others could connect (a chmod after the bind
    // leaves one). The umask is the process's: a file another thread created in between would
    // be owner-only too, which only narrows it; this runs at start-up, before the server takes
    // requests (so before any upload creates folders, which would lack their search bit).
    let previous = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let bound = UnixListener::bind(path);
    rustix::process::umask(previous);
    bound
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

    #[test]
    fn a_private_file_is_0600_and_never_replaces_an_existing_one() {
        let dir = std::env::temp_dir().join(format!("sealdrop-os-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        drop(create_private_file(&path).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            create_private_file(&path).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_private_socket_is_owner_only_and_replaces_only_a_stale_socket() {
        let dir = std::env::temp_dir().join(format!("sealdrop-os-sock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let live = bind_private_socket(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            bind_private_socket(&path).unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        drop(live);
        drop(bind_private_socket(&path).unwrap());
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"keep me").unwrap();
        assert!(bind_private_socket(&path).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
