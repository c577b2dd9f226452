//! Streaming age encryption to a file, with a BLAKE3 digest of the ciphertext: the only place that
//! writes age. Encryption runs on the caller's (blocking) thread; hashing and writing the
//! ciphertext run on a spool thread of their own, so the two cores share the work.

use crate::digest::{Algo, CtHasher};
use crate::keys::KeyRing;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Ciphertext handed to the spool thread at a time (a multiple of [`ALIGN`]).
const SPOOL_CHUNK: usize = 256 << 10;
/// Chunks in flight to the spool thread (with the one being filled, the memory per file).
const SPOOL_DEPTH: usize = 4;
/// Alignment of buffers, sizes and offsets that direct I/O needs.
const ALIGN: usize = 4096;

/// What one sealed stream produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Bytes written to disk.
    pub ciphertext_size: u64,
    /// Digest of the file on disk (`blake3:<hex>`).
    pub ciphertext_digest: String,
    /// Plaintext bytes encrypted.
    pub plaintext_size: u64,
}

/// Why sealing failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The ring has no usable recipient.
    #[error("cannot encrypt to the current keys: {0}")]
    Encrypt(String),
    /// Writing the ciphertext failed (disk full, I/O error).
    #[error("writing ciphertext failed: {0}")]
    Io(#[from] io::Error),
}

/// A buffer of ciphertext whose contents start at a page-aligned address, so that it can be
/// written with direct I/O. Found inside an over-sized vector: no unsafe allocation needed.
struct Chunk {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl Chunk {
    fn new() -> Chunk {
        let raw = vec![0u8; SPOOL_CHUNK + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN).min(ALIGN);
        Chunk { raw, start, len: 0 }
    }

    fn aligned(&self) -> bool {
        self.start < ALIGN
    }

    /// Copies as much of `data` as fits; returns how much.
    fn fill(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(SPOOL_CHUNK - self.len);
        let at = self.start + self.len;
        self.raw[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    fn bytes(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

enum Spooled {
    Data(Chunk),
    End,
}

/// The spool thread's file: written with direct I/O while it can (ciphertext is read again only
/// by exports and backups, so filling the page cache with it only costs a copy), buffered for an
/// unaligned tail or where the file system refuses direct I/O.
struct Output {
    file: File,
    direct: bool,
}

impl Output {
    fn new(file: File) -> Output {
        let direct = crate::os::set_direct_io(&file, true).unwrap_or(false);
        Output { file, direct }
    }

    fn buffered(&mut self) -> io::Result<()> {
        if self.direct {
            self.direct = false;
            crate::os::set_direct_io(&self.file, false)?;
        }
        Ok(())
    }

    fn write(&mut self, chunk: &Chunk) -> io::Result<()> {
        let data = chunk.bytes();
        let whole = if self.direct && chunk.aligned() {
            data.len() - data.len() % ALIGN
        } else {
            0
        };
        // Counted by hand: after a partial direct write, only the rest may be written again.
        let mut written = 0;
        while written < whole {
            match self.file.write(&data[written..whole]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Refused after all (an odd file system): the rest goes buffered.
                Err(e) if e.kind() == io::ErrorKind::InvalidInput => break,
                Err(e) => return Err(e),
            }
        }
        if written < data.len() {
            self.buffered()?;
            self.file.write_all(&data[written..])?;
        }
        Ok(())
    }
}

/// Buffers ciphertext and passes it to a thread that hashes it, writes it and, at the end,
/// fsyncs the file. Dropped without `finish`, the thread stops without fsync. Buffers come back
/// from the thread to be filled again, so an upload allocates a handful of them, not one per
/// 256 KiB.
pub struct Spool {
    buf: Chunk,
    tx: Option<SyncSender<Spooled>>,
    free: Receiver<Chunk>,
    thread: Option<JoinHandle<io::Result<(String, u64)>>>,
}

impl Spool {
    /// Starts the spool thread for `file`.
    pub fn new(file: File) -> io::Result<Spool> {
        Spool::start(file, true)
    }

    /// Starts the spool thread for `file`, leaving the fsync to whoever keeps the file.
    fn start(file: File, sync: bool) -> io::Result<Spool> {
        let (tx, rx) = sync_channel::<Spooled>(SPOOL_DEPTH);
        let (give_back, free) = sync_channel::<Chunk>(SPOOL_DEPTH + 1);
        let thread = std::thread::Builder::new()
            .name("sealdrop-spool".into())
            .spawn(move || {
                let mut out = Output::new(file);
                let mut hasher = CtHasher::new(Algo::Blake3);
                for msg in rx {
                    match msg {
                        Spooled::Data(mut chunk) => {
                            hasher.update(chunk.bytes());
                            out.write(&chunk)?;
                            chunk.len = 0;
                            let _ = give_back.try_send(chunk);
                        }
                        Spooled::End => {
                            if sync {
                                out.file.sync_all()?;
                            }
                            let (digest, len) = hasher.finish();
                            // What was hashed is exactly what is on disk, or nothing is reported.
                            if out.file.metadata()?.len() != len {
                                return Err(io::Error::other(
                                    "the ciphertext file's length differs from what was written",
                                ));
                            }
                            return Ok((digest, len));
                        }
                    }
                }
                Err(io::Error::other("ciphertext stream abandoned"))
            })?;
        Ok(Spool {
            buf: Chunk::new(),
            tx: Some(tx),
            free,
            thread: Some(thread),
        })
    }

    fn send(&mut self, msg: Spooled) -> io::Result<()> {
        let sent = self
            .tx
            .as_ref()
            .map(|tx| tx.send(msg).is_ok())
            .unwrap_or(false);
        if sent {
            Ok(())
        } else {
            // The thread stopped early: its error is the real one.
            Err(self
                .join()
                .err()
                .unwrap_or_else(|| io::Error::other("spool thread stopped")))
        }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        let next = self.free.try_recv().unwrap_or_else(|_| Chunk::new());
        let full = std::mem::replace(&mut self.buf, next);
        self.send(Spooled::Data(full))
    }

    fn join(&mut self) -> io::Result<(String, u64)> {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("spool thread panicked")),
            None => Err(io::Error::other("spool already finished")),
        }
    }

    /// Sends what is buffered, fsyncs, and returns the ciphertext's digest and size.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        if self.buf.len > 0 {
            self.send_buffer()?;
        }
        self.send(Spooled::End)?;
        self.join()
    }
}

impl Write for Spool {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < data.len() {
            done += self.buf.fill(&data[done..]);
            if self.buf.len == SPOOL_CHUNK {
                self.send_buffer()?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Encrypts one stream to a file: create → write… → `finish` (age finish, spool drained,
/// fsync). Dropped without `finish`, it leaves a truncated file that the caller must delete.
pub struct Sealer {
    writer: age::stream::StreamWriter<Spool>,
    plaintext_len: u64,
}

impl Sealer {
    /// Creates `path` (must not exist, mode 0600) and writes the age header for `ring`.
    pub fn create(ring: &KeyRing, path: &Path) -> Result<Sealer, SealError> {
        Sealer::wrap(ring, create_new(path)?, true)
    }

    /// Like [`Sealer::create`], but `finish` does not fsync: for a resumable upload's piece,
    /// which is fsynced when a report adopts it (`store::Upload::adopt`). An unfinished upload
    /// does not outlive a restart, so a piece needs to be durable only once it is reported,
    /// and a sync per piece would stall every piece boundary.
    pub fn create_unsynced(ring: &KeyRing, path: &Path) -> Result<Sealer, SealError> {
        Sealer::wrap(ring, create_new(path)?, false)
    }

    fn wrap(ring: &KeyRing, file: File, sync: bool) -> Result<Sealer, SealError> {
        let encryptor = age::Encryptor::with_recipients(ring.recipients())
            .map_err(|e| SealError::Encrypt(e.to_string()))?;
        let writer = encryptor.wrap_output(Spool::start(file, sync)?)?;
        Ok(Sealer {
            writer,
            plaintext_len: 0,
        })
    }

    /// Encrypts and writes `data`.
    pub fn write(&mut self, data: &[u8]) -> Result<(), SealError> {
        self.plaintext_len += data.len() as u64;
        self.writer.write_all(data)?;
        Ok(())
    }

    /// Plaintext bytes written so far.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// Finishes the age stream, drains the spool and fsyncs the file.
    pub fn finish(self) -> Result<Sealed, SealError> {
        let spool = self.writer.finish()?;
        let (ciphertext_digest, ciphertext_size) = spool.finish()?;
        Ok(Sealed {
            ciphertext_size,
            ciphertext_digest,
            plaintext_size: self.plaintext_len,
        })
    }
}

/// Creates `path`, which must not exist, mode 0600.
fn create_new(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Seals a small in-memory document (the manifest) to `path`.
pub fn seal_bytes(ring: &KeyRing, data: &[u8], path: &Path) -> Result<Sealed, SealError> {
    let mut sealer = Sealer::create(ring, path)?;
    sealer.write(data)?;
    sealer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn sealed_file_decrypts_and_hashes_match() {
        let dir = std::env::temp_dir().join(format!("sealdrop-seal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.age");
        let _ = std::fs::remove_file(&path);
        let id = age::x25519::Identity::generate();
        let ring = KeyRing::parse(&id.to_public().to_string(), "test").unwrap();
        let data: Vec<u8> = (0..900_000u32).map(|i| (i % 251) as u8).collect();
        let mut s = Sealer::create(&ring, &path).unwrap();
        for chunk in data.chunks(7_000) {
            s.write(chunk).unwrap();
        }
        let sealed = s.finish().unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(sealed.ciphertext_size, on_disk.len() as u64);
        assert_eq!(
            sealed.ciphertext_digest,
            crate::digest::blake3_digest(&on_disk)
        );
        assert_eq!(sealed.plaintext_size, data.len() as u64);
        let dec = age::Decryptor::new(&on_disk[..]).unwrap();
        let mut r = dec
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_abandoned_sealer_never_reports_success() {
        let dir = std::env::temp_dir().join(format!("sealdrop-seal-ab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let id = age::x25519::Identity::generate();
        let ring = KeyRing::parse(&id.to_public().to_string(), "test").unwrap();
        let mut s = Sealer::create(&ring, &dir.join("y.age")).unwrap();
        s.write(&[1u8; 300_000]).unwrap();
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
