//! The organisation's OpenPGP signatures, made on the team's machine and checked here against
//! its public key: the cleartext signature of a security.txt (RFC 9116 §2.3, `gpg
//! --clearsign`) and the detached signature of a CSAF advisory (`gpg --detach-sign --armor`).
//! The only user of `pgp`; the portal holds no OpenPGP private key.

use pgp::composed::{CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;

const BEGIN: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const BEGIN_SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----";
const END: &str = "-----END PGP SIGNATURE-----";

/// The armoured part of `file` from its `begin` line to the signature's end line, refused
/// (`missing` when there is no `begin` line) when anything but white space stands around it.
fn alone<'a>(
    file: &'a str,
    begin: &str,
    missing: SignatureError,
) -> Result<&'a str, SignatureError> {
    let start = file.find(begin).ok_or(missing)?;
    if !file[..start].trim().is_empty() {
        return Err(SignatureError::Outside("text before"));
    }
    let end = file
        .rfind(END)
        .ok_or_else(|| SignatureError::Malformed("it has no end line".into()))?;
    if !file[end + END.len()..].trim().is_empty() {
        return Err(SignatureError::Outside("data after"));
    }
    Ok(&file[start..])
}

/// Why a signed file was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No cleartext signature at all.
    #[error(
        "it is not signed: an OpenPGP cleartext signature starts with the line \"{BEGIN}\" \
         (make it with `gpg --clearsign`)"
    )]
    NotSigned,
    /// No detached signature at all.
    #[error(
        "it is not a detached signature: an ASCII-armoured one starts with the line \
         \"-----BEGIN PGP SIGNATURE-----\" (make it with `gpg --detach-sign --armor`)"
    )]
    NotDetached,
    /// Text before the signed message or after the signature.
    #[error("it has {0} the signed message: the file must be the signed message alone")]
    Outside(&'static str),
    /// A malformed signed message.
    #[error("its cleartext signature is malformed: {0}")]
    Malformed(String),
    /// The public key file cannot be used.
    #[error("the signing key file holds no usable OpenPGP public key: {0}")]
    BadKey(String),
    /// The signature does not verify.
    #[error(
        "its signature does not verify with the organisation's key {0}: the text was changed \
         after signing, or another key signed it"
    )]
    Invalid(String),
}

/// A verified signed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The text that was signed, with `\n` line ends.
    pub text: String,
    /// The fingerprint of the (sub)key that made the signature, in hex.
    pub signer: String,
}

/// Checks that `file` is exactly one cleartext-signed message, signed by the primary key or a
/// subkey of one of the public keys in `keys` (ASCII armour).
pub fn verify(file: &str, keys: &str) -> Result<Verified, SignatureError> {
    let armoured = alone(file, BEGIN, SignatureError::NotSigned)?;
    let (message, _) = CleartextSignedMessage::from_string(armoured)
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let keys = public_keys(keys)?;
    for key in &keys {
        if message.verify(key).is_ok() {
            return Ok(verified(&message, &key.fingerprint().to_string()));
        }
        for sub in &key.public_subkeys {
            if message.verify(sub).is_ok() {
                return Ok(verified(&message, &sub.fingerprint().to_string()));
            }
        }
    }
    Err(SignatureError::Invalid(fingerprint(&keys[0])))
}

/// Checks that `signature` (ASCII armour) is a detached signature of exactly `content` by the
/// primary key or a subkey of one of the public keys in `keys`; the signer's fingerprint.
pub fn verify_detached(
    content: &[u8],
    signature: &str,
    keys: &str,
) -> Result<String, SignatureError> {
    let armoured = alone(signature, BEGIN_SIGNATURE, SignatureError::NotDetached)?;
    let (sig, _) = DetachedSignature::from_string(armoured)
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let keys = public_keys(keys)?;
    for key in &keys {
        if sig.verify(key, content).is_ok() {
            return Ok(fingerprint(key));
        }
        for sub in &key.public_subkeys {
            if sig.verify(sub, content).is_ok() {
                return Ok(sub.fingerprint().to_string().to_uppercase());
            }
        }
    }
    Err(SignatureError::Invalid(fingerprint(&keys[0])))
}

/// The fingerprint of the first (primary) key in `keys`, upper-case hex.
pub fn primary_fingerprint(keys: &str) -> Result<String, SignatureError> {
    Ok(fingerprint(&public_keys(keys)?[0]))
}

/// The public keys in `keys` (ASCII armour), at least one.
fn public_keys(keys: &str) -> Result<Vec<SignedPublicKey>, SignatureError> {
    let (parsed, _) = SignedPublicKey::from_string_many(keys)
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let keys: Vec<SignedPublicKey> = parsed
        .collect::<Result<_, _>>()
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    if keys.is_empty() {
        return Err(SignatureError::BadKey("it is empty".into()));
    }
    Ok(keys)
}

fn fingerprint(key: &SignedPublicKey) -> String {
    key.fingerprint().to_string().to_uppercase()
}

/// The text an installed (already verified) signed file signs, with `\n` line ends; `None`
/// when it does not parse as a cleartext-signed message.
pub fn signed_text(file: &str) -> Option<String> {
    let start = file.find(BEGIN)?;
    let (message, _) = CleartextSignedMessage::from_string(&file[start..]).ok()?;
    Some(message.signed_text().replace("\r\n", "\n"))
}

fn verified(message: &CleartextSignedMessage, signer: &str) -> Verified {
    Verified {
        text: message.signed_text().replace("\r\n", "\n"),
        signer: signer.to_uppercase(),
    }
}
