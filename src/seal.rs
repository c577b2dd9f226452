//! Streaming age encryption with a SHA-256 of the ciphertext and of the plaintext: the only place
//! that writes age. Runs on blocking threads; callers feed it bytes.

use crate::digest::{Hasher, HashingWriter};
use crate::keys::KeyRing;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Output buffer between age and the file: large writes keep syscalls few.
const WRITE_BUFFER: usize = 256 << 10;

/// What one sealed stream produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Bytes written to disk.
    pub ciphertext_size: u64,
    /// SHA-256 of the file on disk, hex.
    pub ciphertext_sha256: String,
    /// Bytes the reporter sent.
    pub plaintext_size: u64,
    /// SHA-256 of what the reporter sent, hex (goes only into the encrypted manifest).
    pub plaintext_sha256: String,
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

/// Encrypts one stream to a new file: create → write… → `finish` (age finish, flush, fsync).
/// Dropping it without `finish` leaves a truncated file that the caller must delete.
pub struct Sealer {
    writer: age::stream::StreamWriter<HashingWriter<BufWriter<File>>>,
    plaintext: Hasher,
}

impl Sealer {
    /// Creates `path` (must not exist, mode 0600) and writes the age header for `ring`.
    pub fn create(ring: &KeyRing, path: &Path) -> Result<Sealer, SealError> {
        let encryptor = age::Encryptor::with_recipients(ring.recipients())
            .map_err(|e| SealError::Encrypt(e.to_string()))?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        let out = HashingWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file));
        let writer = encryptor.wrap_output(out)?;
        Ok(Sealer {
            writer,
            plaintext: Hasher::default(),
        })
    }

    /// Encrypts and writes `data`.
    pub fn write(&mut self, data: &[u8]) -> Result<(), SealError> {
        self.plaintext.update(data);
        self.writer.write_all(data)?;
        Ok(())
    }

    /// Plaintext bytes written so far.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext.len()
    }

    /// Finishes the age stream, flushes and fsyncs the file.
    pub fn finish(self) -> Result<Sealed, SealError> {
        let hashing = self.writer.finish()?;
        let (buffered, ciphertext_sha256, ciphertext_size) = hashing.into_parts();
        let file = buffered.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let (plaintext_sha256, plaintext_size) = self.plaintext.finish();
        Ok(Sealed {
            ciphertext_size,
            ciphertext_sha256,
            plaintext_size,
            plaintext_sha256,
        })
    }
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
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut s = Sealer::create(&ring, &path).unwrap();
        for chunk in data.chunks(7_000) {
            s.write(chunk).unwrap();
        }
        let sealed = s.finish().unwrap();
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(sealed.ciphertext_size, on_disk.len() as u64);
        assert_eq!(
            sealed.ciphertext_sha256,
            crate::digest::sha256_hex(&on_disk)
        );
        assert_eq!(sealed.plaintext_sha256, crate::digest::sha256_hex(&data));
        let dec = age::Decryptor::new(&on_disk[..]).unwrap();
        let mut r = dec
            .decrypt(std::iter::once(&id as &dyn age::Identity))
            .unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
