//! The header check in front of the tar crate: refuses, before the tar crate reads them, the
//! archive entries it would read whole into memory.

use super::shown;
use std::io::{self, Read};

/// Largest GNU long-name or long-link entry a reader accepts: a path of `PATH_MAX` bytes. What
/// sealdrop writes (backup paths over 100 bytes) is far shorter.
const MAX_LONG_NAME_BYTES: u64 = 4096;
/// The tar block size: every header is one block, every entry's data is padded to whole blocks.
const BLOCK: usize = 512;

/// An archive refused by [`HeaderGuard`] before the tar crate saw the header.
#[derive(Debug)]
pub(super) struct Refused(pub(super) String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl Refused {
    fn error(message: String) -> io::Error {
        io::Error::other(Refused(message))
    }

    pub(super) fn of(e: &io::Error) -> Option<&Refused> {
        e.get_ref()?.downcast_ref()
    }
}

// The tar crate reads a GNU long-name or long-link entry ('L'/'K') and a PAX extension ('x')
// whole into memory before it yields the entry they describe, so one header declaring gigabytes
// would exhaust memory before any check of ours ran. `HeaderGuard` sits between the input and
// the tar crate and follows the archive's simple layout itself (a 512-byte header, then the
// entry's data padded to whole blocks): it reads each header block completely and checks it
// before handing any byte of it on. It refuses a long name or link over MAX_LONG_NAME_BYTES, and
// every PAX ('x'/'g') and GNU sparse ('S') header: sealdrop never writes them, and they change
// how the tar crate reads what follows (a PAX `size` record overrides the next header's size, a
// sparse header is followed by extra header blocks), so without them the guard's idea of where
// the next header starts is always the tar crate's. Sizes are read with the tar crate's own
// parser for the same reason.
/// Passes a tar stream on, checking each header block before the tar crate gets it.
pub(super) struct HeaderGuard<R> {
    inner: R,
    /// Entry data (with padding) still to pass on before the next header.
    data_left: u64,
    /// The last header block read and checked.
    header: [u8; BLOCK],
    /// How much of `header` was read, and how much of that was handed on.
    filled: usize,
    passed: usize,
}

impl<R: Read> HeaderGuard<R> {
    pub(super) fn new(inner: R) -> Self {
        HeaderGuard {
            inner,
            data_left: 0,
            header: [0; BLOCK],
            filled: 0,
            passed: 0,
        }
    }

    /// Reads the next header block whole (or what is left of the input, which the tar crate
    /// then calls the end or a truncated archive) and checks it.
    fn next_header(&mut self) -> io::Result<()> {
        self.filled = 0;
        self.passed = 0;
        while self.filled < BLOCK {
            match self.inner.read(&mut self.header[self.filled..]) {
                Ok(0) => break,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.filled == BLOCK {
            self.data_left = check_header(&self.header)?;
        }
        Ok(())
    }
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.passed == self.filled && self.data_left > 0 {
            let len = buf
                .len()
                .min(usize::try_from(self.data_left).unwrap_or(usize::MAX));
            let n = self.inner.read(&mut buf[..len])?;
            self.data_left -= n as u64;
            return Ok(n);
        }
        if self.passed == self.filled {
            self.next_header()?;
        }
        let n = buf.len().min(self.filled - self.passed);
        buf[..n].copy_from_slice(&self.header[self.passed..self.passed + n]);
        self.passed += n;
        Ok(n)
    }
}

/// Checks one header block; returns the bytes of data (padded) that follow it.
fn check_header(block: &[u8; BLOCK]) -> io::Result<u64> {
    if block.iter().all(|&b| b == 0) {
        return Ok(0);
    }
    let header = tar::Header::from_byte_slice(block);
    let name = shown(&String::from_utf8_lossy(&header.path_bytes()));
    let size = header.entry_size()?;
    let what = match header.entry_type() {
        tar::EntryType::GNULongName | tar::EntryType::GNULongLink if size > MAX_LONG_NAME_BYTES => {
            Some(format!(
                "a GNU long name of {} (at most {} are accepted)",
                crate::config::ByteSize(size),
                crate::config::ByteSize(MAX_LONG_NAME_BYTES)
            ))
        }
        tar::EntryType::XHeader | tar::EntryType::XGlobalHeader => Some(format!(
            "a PAX extension header of {}",
            crate::config::ByteSize(size)
        )),
        tar::EntryType::GNUSparse => Some("a GNU sparse file".to_owned()),
        _ => None,
    };
    if let Some(what) = what {
        return Err(Refused::error(format!(
            "archive entry \"{name}\" is {what}; sealdrop archives hold only plain files \
             with short names, so it was refused unread"
        )));
    }
    size.checked_next_multiple_of(BLOCK as u64)
        .ok_or_else(|| io::Error::other(format!("archive entry \"{name}\" has an impossible size")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::BundleError;
    use crate::bundle::{TarWriter, read_regular};

    /// One ustar header of `kind` declaring `size` bytes (`size` may be far more than follows).
    fn header_block(name: &str, kind: u8, size: u64) -> Vec<u8> {
        let mut h = tar::Header::new_ustar();
        h.as_mut_bytes()[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(size);
        h.set_mode(0o600);
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    /// A header followed by an endless stream of bytes, counting what was read of it; it fails
    /// after 1 MiB so that a reader that trusts the header fails the test instead of the machine.
    struct Endless {
        head: Vec<u8>,
        served: usize,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.served > 1 << 20 {
                return Err(io::Error::other("read far beyond the header"));
            }
            let n = buf.len().min(64 << 10);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = self.head.get(self.served + i).copied().unwrap_or(b'a');
            }
            self.served += n;
            Ok(n)
        }
    }

    fn refusal(kind: u8) -> (String, usize) {
        let mut input = Endless {
            head: header_block("x", kind, 4 << 30),
            served: 0,
        };
        let started = std::time::Instant::now();
        let result = read_regular(&mut input, |_, _, _| -> Result<(), BundleError> { Ok(()) });
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        (
            result.expect_err("a 4 GiB extension header was accepted").0,
            input.served,
        )
    }

    #[test]
    fn a_four_gib_pax_header_is_refused_before_its_data_is_read() {
        for kind in [b'x', b'g'] {
            let (err, served) = refusal(kind);
            assert!(err.contains("PAX extension header of 4 GiB"), "{err}");
            assert!(served <= 64 << 10, "read {served} bytes");
        }
    }

    #[test]
    fn a_four_gib_gnu_long_name_or_link_is_refused_before_its_data_is_read() {
        for kind in [b'L', b'K'] {
            let (err, served) = refusal(kind);
            assert!(err.contains("GNU long name of 4 GiB"), "{err}");
            assert!(served <= 64 << 10, "read {served} bytes");
        }
    }

    #[test]
    fn a_gnu_sparse_header_is_refused() {
        let (err, _) = refusal(b'S');
        assert!(err.contains("GNU sparse"), "{err}");
    }

    #[test]
    fn long_names_and_odd_sizes_still_read_back_in_step() {
        let long = format!("blobs/{}/000.age", "d".repeat(150));
        let mut w = TarWriter::new(Vec::new());
        let entries: Vec<(String, Vec<u8>)> = vec![
            ("backup.json".into(), b"{}".to_vec()),
            (long, vec![7; 1000]),
            ("a".into(), Vec::new()),
            ("b".into(), vec![1; 512]),
            ("c".into(), vec![2; 513]),
        ];
        for (name, data) in &entries {
            w.append(name, data.len() as u64, data.as_slice()).unwrap();
        }
        let raw = w.finish().unwrap();
        let mut seen = Vec::new();
        read_regular(raw.as_slice(), |name, size, r| -> Result<(), BundleError> {
            let mut data = Vec::new();
            // Leave some unread: the tar crate skips it, through the guard.
            r.take(size / 2)
                .read_to_end(&mut data)
                .map_err(|e| BundleError(e.to_string()))?;
            seen.push((name.to_owned(), size));
            Ok(())
        })
        .unwrap();
        let want: Vec<(String, u64)> = entries
            .iter()
            .map(|(n, d)| (n.clone(), d.len() as u64))
            .collect();
        assert_eq!(seen, want);
    }
}
