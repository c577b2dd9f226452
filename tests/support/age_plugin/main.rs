//! `age-plugin-sealdroptest`: a software stand-in for a hardware key, built by the test suite
//! only (feature `test-plugin`).
//!
//! It does what age-plugin-yubikey does for the native hardware recipient types, with the key
//! in its identity string instead of on a device, and speaks the real plugin protocol
//! (`identity-v1`) through the `age-plugin` crate:
//! - `p256tag` (`age1tag1…`): HPKE base mode, DHKEM(P-256, HKDF-SHA256);
//! - `mlkem768p256tag` (`age1tagpq1…`): HPKE base mode with the hybrid KEM MLKEM768-P256, whose
//!   decapsulation this file implements from its specification (ML-KEM-768 and P-256 shares
//!   combined with SHA3-256), so that the portal's sealing is checked by a second, independent
//!   implementation.
//!
//! `age-plugin-sealdroptest --generate p256tag|mlkem768p256tag` prints a new identity, with
//! its recipient in a comment, as `age-keygen` does.

#![forbid(unsafe_code)]

use age_core::format::{FileKey, Stanza};
use age_core::primitives::{bech32_encode, hpke_open};
use age_plugin::identity::{self, IdentityPluginV1};
use age_plugin::{Callbacks, PluginHandler, run_state_machine};
use base64::Engine;
use base64::prelude::BASE64_STANDARD_NO_PAD;
use hkdf::Hkdf;
use hpke::Deserializable;
use ml_kem::kem::Decapsulate;
use ml_kem::{EncodedSizeUser, KemCore, MlKem768};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sha3::digest::{ExtendableOutput, Update, XofReader};
use std::collections::HashMap;
use std::convert::Infallible;
use std::io;

const PLUGIN: &str = "sealdroptest";
const P256TAG: &str = "p256tag";
const P256TAG_SALT: &str = "age-encryption.org/p256tag";
const PQTAG: &str = "mlkem768p256tag";
const PQTAG_SALT: &str = "age-encryption.org/mlkem768p256tag";
/// The identity's first byte: which kind of key follows.
const KIND_P256: u8 = 1;
const KIND_PQ: u8 = 2;
/// ML-KEM-768 ciphertext and encapsulation key sizes; P-256 uncompressed point size.
const MLKEM_CT: usize = 1088;
const POINT: usize = 65;
/// HPKE's identifiers: the hybrid KEM, HKDF-SHA256 and ChaCha20Poly1305.
const KEM_PQ: u16 = 0x0050;
const KDF_HKDF_SHA256: u16 = 0x0001;
const AEAD_CHACHA20POLY1305: u16 = 0x0003;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [flag] if flag.starts_with("--age-plugin=") => {
            run_state_machine(&flag["--age-plugin=".len()..], Handler)
        }
        ["--age-plugin", machine] => run_state_machine(machine, Handler),
        ["--generate", kind] => {
            let key = Key::generate(kind).map_err(io::Error::other)?;
            println!("# recipient: {}", key.recipient());
            println!("{}", key.identity());
            Ok(())
        }
        _ => Err(io::Error::other(
            "usage: age-plugin-sealdroptest --generate p256tag|mlkem768p256tag",
        )),
    }
}

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Infallible;
    type IdentityV1 = Identities;

    fn identity_v1(self) -> io::Result<Identities> {
        Ok(Identities(Vec::new()))
    }
}

/// One software "hardware" key (a handful of them live for one run: the size is no matter).
#[allow(clippy::large_enum_variant)]
enum Key {
    P256(p256::SecretKey),
    Pq {
        seed: [u8; 32],
        dk_pq: <MlKem768 as KemCore>::DecapsulationKey,
        ek_pq: <MlKem768 as KemCore>::EncapsulationKey,
        dk_t: p256::SecretKey,
    },
}

impl Key {
    fn generate(kind: &str) -> Result<Key, String> {
        loop {
            let mut seed = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut seed);
            let key = match kind {
                P256TAG => Key::from_bytes(&[&[KIND_P256][..], &seed].concat()),
                PQTAG => Key::from_bytes(&[&[KIND_PQ][..], &seed].concat()),
                other => return Err(format!("unknown key kind {other}")),
            };
            // A P-256 scalar out of range: draw again.
            if let Ok(key) = key {
                return Ok(key);
            }
        }
    }

    fn from_bytes(bytes: &[u8]) -> Result<Key, String> {
        match bytes {
            [KIND_P256, scalar @ ..] if scalar.len() == 32 => p256::SecretKey::from_slice(scalar)
                .map(Key::P256)
                .map_err(|_| "not a P-256 scalar".into()),
            [KIND_PQ, seed @ ..] if seed.len() == 32 => {
                let seed: [u8; 32] = seed.try_into().map_err(|_| "bad seed")?;
                Ok(Key::expand_pq(seed))
            }
            _ => Err("not an identity of this plugin".into()),
        }
    }

    /// MLKEM768-P256's key expansion: SHAKE256 of the seed gives 64 bytes for ML-KEM-768's
    /// (d, z) and 128 bytes from which the first valid P-256 scalar is taken.
    fn expand_pq(seed: [u8; 32]) -> Key {
        let mut xof = sha3::Shake256::default().chain(seed).finalize_xof();
        let mut seed_pq = [0u8; 64];
        let mut seed_t = [0u8; 128];
        xof.read(&mut seed_pq);
        xof.read(&mut seed_t);
        let d: [u8; 32] = seed_pq[..32].try_into().expect("32 bytes");
        let z: [u8; 32] = seed_pq[32..].try_into().expect("32 bytes");
        let (dk_pq, ek_pq) = MlKem768::generate_deterministic(&d.into(), &z.into());
        let dk_t = seed_t
            .chunks_exact(32)
            .find_map(|c| p256::SecretKey::from_slice(c).ok())
            .expect("a valid scalar in 128 random bytes");
        Key::Pq {
            seed,
            dk_pq,
            ek_pq,
            dk_t,
        }
    }

    fn identity(&self) -> String {
        let bytes = match self {
            Key::P256(sk) => [&[KIND_P256][..], &sk.to_bytes()].concat(),
            Key::Pq { seed, .. } => [&[KIND_PQ][..], seed].concat(),
        };
        let hrp = bech32::Hrp::parse(&format!("age-plugin-{PLUGIN}-")).expect("valid HRP");
        bech32_encode(hrp, &bytes).to_uppercase()
    }

    fn recipient(&self) -> String {
        match self {
            Key::P256(sk) => {
                let point = sk.public_key().to_encoded_point(true);
                bech32_encode(bech32::Hrp::parse_unchecked("age1tag"), point.as_bytes())
            }
            Key::Pq { ek_pq, dk_t, .. } => {
                let bytes = [&ek_pq.as_bytes()[..], &uncompressed(dk_t)].concat();
                bech32_encode(bech32::Hrp::parse_unchecked("age1tagpq"), &bytes)
            }
        }
    }

    /// The file key from one stanza, or None where the stanza is not addressed to this key.
    fn unwrap(&self, stanza: &Stanza) -> Option<Result<FileKey, String>> {
        let (salt, static_public) = match (self, stanza.tag.as_str()) {
            (Key::P256(sk), P256TAG) => (
                P256TAG_SALT,
                sk.public_key().to_encoded_point(true).as_bytes().to_vec(),
            ),
            (Key::Pq { dk_t, .. }, PQTAG) => (PQTAG_SALT, uncompressed(dk_t)),
            _ => return None,
        };
        let [tag, enc] = stanza.args.as_slice() else {
            return Some(Err("a stanza needs two arguments".into()));
        };
        let (Ok(tag), Ok(enc)) = (
            BASE64_STANDARD_NO_PAD.decode(tag),
            BASE64_STANDARD_NO_PAD.decode(enc),
        ) else {
            return Some(Err("a stanza argument is not base64".into()));
        };
        // The stanza's tag says, without any secret, whether it is meant for this key.
        let ikm = [&enc[..], &Sha256::digest(&static_public)[..4]].concat();
        let (expected, _) = Hkdf::<Sha256>::extract(Some(salt.as_bytes()), &ikm);
        if tag != expected[..4] {
            return None;
        }
        let key = match self {
            Key::P256(sk) => open_p256(sk, &enc, salt, &stanza.body),
            Key::Pq { dk_pq, dk_t, .. } => open_pq(dk_pq, dk_t, &enc, salt, &stanza.body),
        };
        Some(key.and_then(|k| {
            let k: [u8; 16] = k.try_into().map_err(|_| "a file key is 16 bytes")?;
            Ok(FileKey::new(Box::new(k)))
        }))
    }
}

fn uncompressed(sk: &p256::SecretKey) -> Vec<u8> {
    sk.public_key().to_encoded_point(false).as_bytes().to_vec()
}

/// `p256tag`: HPKE base mode with DHKEM(P-256, HKDF-SHA256), the hpke crate's own.
fn open_p256(sk: &p256::SecretKey, enc: &[u8], info: &str, ct: &[u8]) -> Result<Vec<u8>, String> {
    type Kem = hpke::kem::DhP256HkdfSha256;
    let sk =
        <Kem as hpke::Kem>::PrivateKey::from_bytes(&sk.to_bytes()).map_err(|e| e.to_string())?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|e| e.to_string())?;
    hpke_open::<Kem>(&enc, &sk, info.as_bytes(), ct).map_err(|e| e.to_string())
}

/// `mlkem768p256tag`: decapsulate both shares, combine them, then HPKE's key schedule.
fn open_pq(
    dk_pq: &<MlKem768 as KemCore>::DecapsulationKey,
    dk_t: &p256::SecretKey,
    enc: &[u8],
    info: &str,
    ct: &[u8],
) -> Result<Vec<u8>, String> {
    if enc.len() != MLKEM_CT + POINT {
        return Err(format!("the encapsulated key is {} bytes", enc.len()));
    }
    let (ct_pq, ct_t) = enc.split_at(MLKEM_CT);
    let ct_pq: [u8; MLKEM_CT] = ct_pq.try_into().map_err(|_| "length")?;
    let ss_pq = dk_pq
        .decapsulate(&ct_pq.into())
        .map_err(|()| "ML-KEM decapsulation failed")?;
    if ct_t.first() != Some(&4) {
        return Err("the P-256 share is not an uncompressed point".into());
    }
    let point = p256::PublicKey::from_sec1_bytes(ct_t).map_err(|_| "not a P-256 point")?;
    let ss_t = p256::ecdh::diffie_hellman(dk_t.to_nonzero_scalar(), point.as_affine());
    let mut combiner = sha3::Sha3_256::default();
    for part in [
        &ss_pq[..],
        &ss_t.raw_secret_bytes()[..],
        ct_t,
        &uncompressed(dk_t),
        b"MLKEM768-P256",
    ] {
        sha3::Digest::update(&mut combiner, part);
    }
    let shared = sha3::Digest::finalize(combiner);
    hpke_base_open(KEM_PQ, &shared, info.as_bytes(), ct)
}

/// RFC 9180's key schedule in base mode (no PSK) with HKDF-SHA256 and ChaCha20Poly1305, and
/// the single-shot open of the first message.
fn hpke_base_open(kem: u16, shared: &[u8], info: &[u8], ct: &[u8]) -> Result<Vec<u8>, String> {
    use chacha20poly1305::aead::{Aead, KeyInit};
    let suite: Vec<u8> = [
        &b"HPKE"[..],
        &kem.to_be_bytes(),
        &KDF_HKDF_SHA256.to_be_bytes(),
        &AEAD_CHACHA20POLY1305.to_be_bytes(),
    ]
    .concat();
    let labeled = |label: &[u8], ikm: &[u8]| [&b"HPKE-v1"[..], &suite, label, ikm].concat();
    let extract = |salt: &[u8], label: &[u8], ikm: &[u8]| {
        Hkdf::<Sha256>::extract(Some(salt), &labeled(label, ikm)).0
    };
    let psk_id_hash = extract(b"", b"psk_id_hash", b"");
    let info_hash = extract(b"", b"info_hash", info);
    let context = [&[0u8][..], &psk_id_hash, &info_hash].concat();
    let secret = extract(shared, b"secret", b"");
    let expand = |label: &[u8], len: u16| -> Result<Vec<u8>, String> {
        let hk = Hkdf::<Sha256>::from_prk(&secret).map_err(|e| e.to_string())?;
        let mut out = vec![0u8; usize::from(len)];
        let info = [&len.to_be_bytes()[..], &labeled(label, &context)].concat();
        hk.expand(&info, &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    };
    let key = expand(b"key", 32)?;
    let nonce = expand(b"base_nonce", 12)?;
    chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key)
        .map_err(|e| e.to_string())?
        .decrypt(nonce.as_slice().into(), ct)
        .map_err(|_| "the stanza does not open with this key".into())
}

struct Identities(Vec<Key>);

impl IdentityPluginV1 for Identities {
    fn add_identity(
        &mut self,
        index: usize,
        plugin_name: &str,
        bytes: &[u8],
    ) -> Result<(), identity::Error> {
        let key = if plugin_name == PLUGIN {
            Key::from_bytes(bytes)
        } else {
            Err("not this plugin's identity".into())
        };
        match key {
            Ok(key) => {
                self.0.push(key);
                Ok(())
            }
            Err(message) => Err(identity::Error::Identity { index, message }),
        }
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut keys = HashMap::new();
        for (file, stanzas) in files.iter().enumerate() {
            let mut errors = Vec::new();
            let found = stanzas.iter().enumerate().find_map(|(index, stanza)| {
                self.0
                    .iter()
                    .find_map(|key| key.unwrap(stanza))
                    .and_then(|result| {
                        result
                            .map_err(|message| {
                                errors.push(identity::Error::Stanza {
                                    file_index: file,
                                    stanza_index: index,
                                    message,
                                })
                            })
                            .ok()
                    })
            });
            match found {
                Some(key) => {
                    // As a hardware key asks for a touch: the client shows plugin messages.
                    let _ = callbacks.message("sealdroptest: key used")?;
                    keys.insert(file, Ok(key));
                }
                None if !errors.is_empty() => {
                    keys.insert(file, Err(errors));
                }
                None => {}
            }
        }
        Ok(keys)
    }
}
