//! The OpenPGP cleartext signature of a security.txt (RFC 9116 §2.3 recommends one, made with
//! `gpg --clearsign` on the team's machine): parsed and checked against the organisation's
//! public key. The only user of `pgp`; the portal holds no OpenPGP private key.

use pgp::composed::{CleartextSignedMessage, Deserializable, SignedPublicKey};
use pgp::types::KeyDetails;

const BEGIN: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const END: &str = "-----END PGP SIGNATURE-----";

/// Why a signed file was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No cleartext signature at all.
    #[error(
        "it is not signed: an OpenPGP cleartext signature starts with the line \"{BEGIN}\" \
         (make it with `gpg --clearsign`)"
    )]
    NotSigned,
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
    let start = file.find(BEGIN).ok_or(SignatureError::NotSigned)?;
    if !file[..start].trim().is_empty() {
        return Err(SignatureError::Outside("text before"));
    }
    let end = file
        .rfind(END)
        .ok_or_else(|| SignatureError::Malformed("it has no end line".into()))?;
    if !file[end + END.len()..].trim().is_empty() {
        return Err(SignatureError::Outside("data after"));
    }
    let (message, _) = CleartextSignedMessage::from_string(&file[start..])
        .map_err(|e| SignatureError::Malformed(e.to_string()))?;
    let (parsed, _) = SignedPublicKey::from_string_many(keys)
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let keys: Vec<SignedPublicKey> = parsed
        .collect::<Result<_, _>>()
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let primary = keys
        .first()
        .ok_or_else(|| SignatureError::BadKey("it is empty".into()))?;
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
    Err(SignatureError::Invalid(
        primary.fingerprint().to_string().to_uppercase(),
    ))
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
