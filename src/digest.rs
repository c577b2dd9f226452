//! Hashing, key derivation and hex encoding: the only user of `sha2`, `hkdf`, `blake3` and
//! `argon2`.
//!
//! Plaintext is hashed with SHA-256: it is what a reporter can check with `sha256sum`, and it
//! is only ever kept inside the encrypted manifest and shown on the receipt. Ciphertext — what
//! the server stores and anyone can check without a key — is hashed with BLAKE3 (several times
//! faster than SHA-256, one fewer expensive pass on the upload path; `b3sum` checks it). Records
//! from before keep their SHA-256: a digest is written `blake3:<hex>`, or as bare hex for
//! SHA-256, and is always verified with the algorithm it names.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Bytes of a hex string, or `None` when it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// SHA-256 of `data` as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex SHA-512 of `data` (the `.sha512` file of a CSAF advisory).
pub fn sha512_hex(data: &[u8]) -> String {
    hex(&sha2::Sha512::digest(data))
}

/// HKDF-SHA-256 (RFC 5869) of `secret` with `salt` and `info`: 32 bytes of derived key.
pub fn hkdf_sha256(salt: &[u8], secret: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA-256's limit of 255 blocks, so expanding cannot fail.
    hkdf::Hkdf::<Sha256>::new(Some(salt), secret)
        .expand(info, &mut out)
        .unwrap_or_else(|_| unreachable!("HKDF output of 32 bytes"));
    out
}

/// HKDF-SHA-256's extract step alone (RFC 5869): the pseudorandom key of `ikm` under `salt`.
pub fn hkdf_extract_sha256(salt: &[u8], ikm: &[u8]) -> [u8; 32] {
    hkdf::Hkdf::<Sha256>::extract(Some(salt), ikm).0.into()
}

/// Memory of one Argon2id computation, in KiB: 4 MiB, one pass, one lane (about 1.2 ms on one
/// core, in memory kept between calls). What it hashes is a random 80-bit reference, not a
/// password: the work only has to take the fast hash away from whoever holds a copy of the
/// database, so every guess costs 4 MiB of memory for its whole computation. The settings for
/// passwords (19 MiB, two passes: 25 ms here) would cap new reports near 80 a second on two
/// cores for no gain against 80 random bits; each new report and each lookup pays this once.
pub const ARGON2_MEMORY_KIB: u32 = 4 * 1024;
/// Passes of one Argon2id computation.
pub const ARGON2_PASSES: u32 = 1;

fn argon2_params() -> argon2::Params {
    argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, Some(32))
        .unwrap_or_else(|_| unreachable!("fixed Argon2 parameters are valid"))
}

/// The working memory of one Argon2id computation, kept to be used again: a derivation then
/// allocates nothing (no page faults per call, no allocator arenas that keep 4 MiB each).
pub struct Argon2Memory(Vec<argon2::Block>);

impl Argon2Memory {
    /// Memory for one computation at a time.
    pub fn new() -> Argon2Memory {
        Argon2Memory(vec![argon2::Block::new(); argon2_params().block_count()])
    }
}

impl Default for Argon2Memory {
    fn default() -> Self {
        Argon2Memory::new()
    }
}

/// Argon2id (RFC 9106) of `secret` with `salt` (at least 8 bytes) in `memory`: 32 bytes.
/// Memory-hard, so that checking guesses against a stolen copy costs memory and time for every
/// guess.
pub fn argon2id(secret: &[u8], salt: &[u8], memory: &mut Argon2Memory) -> [u8; 32] {
    let mut out = [0u8; 32];
    argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2_params(),
    )
    .hash_password_into_with_memory(secret, salt, &mut out, &mut memory.0)
    .unwrap_or_else(|_| unreachable!("a salt of at least 8 bytes and 32 bytes of output"));
    out
}

/// SHA-256 of `data` as raw bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// An incremental SHA-256 that also counts bytes.
#[derive(Default, Clone)]
pub struct Hasher {
    inner: Sha256,
    len: u64,
}

impl Hasher {
    /// Adds `data` to the hash.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }

    /// The hex digest and byte count.
    pub fn finish(self) -> (String, u64) {
        (hex(&self.inner.finalize()), self.len)
    }
}

/// A ciphertext digest's algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// SHA-256, written as bare hex (records and bundles from before BLAKE3).
    Sha256,
    /// BLAKE3, written `blake3:<hex>`: what new ciphertext gets.
    Blake3,
}

/// The prefix of a BLAKE3 digest.
pub const BLAKE3_PREFIX: &str = "blake3:";

/// The algorithm of a written digest, `None` when it is malformed.
pub fn algo_of(digest: &str) -> Option<Algo> {
    let (algo, hex_part) = match digest.strip_prefix(BLAKE3_PREFIX) {
        Some(rest) => (Algo::Blake3, rest),
        None => (Algo::Sha256, digest),
    };
    let lower_hex = hex_part
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (hex_part.len() == 64 && lower_hex).then_some(algo)
}

/// An incremental ciphertext digest of either algorithm that also counts bytes.
#[derive(Clone)]
pub struct CtHasher {
    inner: CtInner,
    len: u64,
}

#[derive(Clone)]
enum CtInner {
    Sha256(Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl CtHasher {
    /// A new digest with `algo`.
    pub fn new(algo: Algo) -> CtHasher {
        CtHasher {
            inner: match algo {
                Algo::Sha256 => CtInner::Sha256(Sha256::default()),
                Algo::Blake3 => CtInner::Blake3(Box::default()),
            },
            len: 0,
        }
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            CtInner::Sha256(h) => h.update(data),
            CtInner::Blake3(h) => {
                h.update(data);
            }
        }
        self.len += data.len() as u64;
    }

    /// The written digest (`blake3:<hex>` or bare SHA-256 hex) and the byte count.
    pub fn finish(self) -> (String, u64) {
        let digest = match self.inner {
            CtInner::Sha256(h) => hex(&h.finalize()),
            CtInner::Blake3(h) => format!("{BLAKE3_PREFIX}{}", h.finalize().to_hex()),
        };
        (digest, self.len)
    }
}

/// The written BLAKE3 digest of `data` (tests compare stored files with it).
#[cfg(test)]
pub fn blake3_digest(data: &[u8]) -> String {
    format!("{BLAKE3_PREFIX}{}", blake3::hash(data).to_hex())
}

/// A reader that computes a ciphertext digest (of the algorithm of the digest it is checked
/// against) and counts everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: CtHasher,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`, hashing with the algorithm `expected` names (SHA-256 when it is
    /// malformed: the comparison then fails).
    pub fn for_digest(inner: R, expected: &str) -> Self {
        Self {
            inner,
            hasher: CtHasher::new(algo_of(expected).unwrap_or(Algo::Sha256)),
        }
    }

    /// Reads what is left, then returns the written digest and byte count.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(self.hasher.finish())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input_is_the_known_value() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn blake3_digests_are_tagged_and_checked_with_their_own_algorithm() {
        // The BLAKE3 test vector for empty input.
        let empty = "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
        assert_eq!(blake3_digest(b""), empty);
        assert_eq!(algo_of(empty), Some(Algo::Blake3));
        assert_eq!(algo_of(&sha256_hex(b"")), Some(Algo::Sha256));
        for bad in ["", "blake3:", "blake3:ABCD", "md5:00", &"a".repeat(63)] {
            assert_eq!(algo_of(bad), None, "{bad}");
        }
        let mut h = CtHasher::new(Algo::Blake3);
        h.update(b"ab");
        h.update(b"c");
        assert_eq!(h.finish(), (blake3_digest(b"abc"), 3));
        let r = HashingReader::for_digest(&b"abc"[..], &sha256_hex(b"x"));
        assert_eq!(r.finish().unwrap().0, sha256_hex(b"abc"));
    }

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        assert_eq!(
            unhex(&hex(&[0, 1, 0xab, 0xff])),
            Some(vec![0, 1, 0xab, 0xff])
        );
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
