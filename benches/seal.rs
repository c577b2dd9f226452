//! Micro-benchmarks of the seal path, so regressions show up: age encryption, SHA-256 (the
//! plaintext fingerprint) and BLAKE3 (the ciphertext digest) alone, one core each, and the
//! whole `Sealer` (encryption on this thread, ciphertext digest and write on its spool thread)
//! writing to a file in memory (/dev/shm) or the temp dir, by chunk size.
//!
//!     cargo bench --bench seal            # SEAL_MIB=256 by default
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sealdrop::keys::KeyRing;
use sealdrop::seal::Sealer;
use sha2::Digest;
use std::io::Write;
use std::time::Instant;

fn main() {
    let total_mib: usize = std::env::var("SEAL_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("sealdrop-seal-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let identity = age::x25519::Identity::generate();
    let ring = KeyRing::parse(&identity.to_public().to_string(), "bench").expect("ring");
    let data: Vec<u8> = (0..(1usize << 20)).map(|i| (i * 31 % 251) as u8).collect();
    let rate = |secs: f64| total_mib as f64 / secs;

    let started = Instant::now();
    let mut h = sha2::Sha256::new();
    for _ in 0..total_mib {
        h.update(&data);
    }
    let _ = h.finalize();
    let sha = rate(started.elapsed().as_secs_f64());

    let started = Instant::now();
    let mut b = blake3::Hasher::new();
    for _ in 0..total_mib {
        b.update(&data);
    }
    let _ = b.finalize();
    let b3 = rate(started.elapsed().as_secs_f64());

    let started = Instant::now();
    let recipient = identity.to_public();
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .unwrap();
    let mut w = enc.wrap_output(std::io::sink()).unwrap();
    for _ in 0..total_mib {
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap();
    let age_only = rate(started.elapsed().as_secs_f64());

    println!("| what ({total_mib} MiB) | MiB/s |");
    println!("|---|---|");
    println!("| SHA-256 alone, one core | {sha:.0} |");
    println!("| BLAKE3 alone, one core | {b3:.0} |");
    println!("| age encryption alone, one core | {age_only:.0} |");
    for chunk in [4usize << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20] {
        let path = dir.join(format!("{chunk}.age"));
        let started = Instant::now();
        let mut sealer = Sealer::create(&ring, &path).expect("sealer");
        for _ in 0..total_mib {
            for piece in data.chunks(chunk) {
                sealer.write(piece).expect("write");
            }
        }
        let sealed = sealer.finish().expect("finish");
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(sealed.plaintext_size, (total_mib as u64) << 20);
        std::fs::remove_file(&path).unwrap();
        println!(
            "| Sealer (encrypt ∥ hash + write + fsync), {} KiB chunks | {:.0} |",
            chunk >> 10,
            rate(secs)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
