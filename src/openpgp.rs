//! The organisation's OpenPGP signatures, made on the team's machine and checked here against
//! its public key: the cleartext signature of a security.txt (RFC 9116 §2.3, `gpg
//! --clearsign`) and the detached signature of a CSAF advisory (`gpg --detach-sign --armor`).
//! The only user of `pgp`; the portal holds no OpenPGP private key.

use pgp::composed::SignedPublicSubKey;
use pgp::composed::{CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey};
use pgp::packet::SignatureType;
use pgp::types::KeyDetails;

const BEGIN: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const BEGIN_SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----";
const END: &str = "-----END PGP SIGNATURE-----";

/// The armoured part of `file` from its `begin` line to the signature's end line, refused
/// (`missing` when there is no `begin` line) when anything but white space stands around it.
/// `what` names the file's kind in the refusals ("signed message", "signature").
fn alone<'a>(
    file: &'a str,
    begin: &str,
    what: &'static str,
    missing: SignatureError,
) -> Result<&'a str, SignatureError> {
    let start = file.find(begin).ok_or(missing)?;
    if !file[..start].trim().is_empty() {
        return Err(SignatureError::Outside("text before", what));
    }
    let end = file
        .rfind(END)
        .ok_or_else(|| SignatureError::Malformed(what, "it has no end line".into()))?;
    if !file[end + END.len()..].trim().is_empty() {
        return Err(SignatureError::Outside("data after", what));
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
    /// Text before the signed message (or signature) or after the signature.
    #[error("it has {0} the {1}: the file must be the {1} alone")]
    Outside(&'static str, &'static str),
    /// A malformed signed message or signature.
    #[error("its {0} is malformed: {1}")]
    Malformed(&'static str, String),
    /// The public key file cannot be used.
    #[error("the signing key file holds no usable OpenPGP public key: {0}")]
    BadKey(String),
    /// The key that made the signature is revoked or expired.
    #[error(
        "it was signed with the key {0}, which is revoked or has expired: sign with a key in \
         force, and put its public key in the key file"
    )]
    NotInForce(String),
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
pub fn verify(file: &str, keys: &str, now: jiff::Timestamp) -> Result<Verified, SignatureError> {
    let armoured = alone(file, BEGIN, "signed message", SignatureError::NotSigned)?;
    let (message, _) = CleartextSignedMessage::from_string(armoured)
        .map_err(|e| SignatureError::Malformed("signed message", e.to_string()))?;
    let keys = public_keys(keys)?;
    let signer = signer_of(
        &keys,
        now,
        |k| message.verify(k).is_ok(),
        |s| message.verify(s).is_ok(),
    )?;
    Ok(verified(&message, &signer))
}

/// Checks that `signature` (ASCII armour) is a detached signature of exactly `content` by the
/// primary key or a subkey of one of the public keys in `keys`; the signer's fingerprint.
pub fn verify_detached(
    content: &[u8],
    signature: &str,
    keys: &str,
    now: jiff::Timestamp,
) -> Result<String, SignatureError> {
    let armoured = alone(
        signature,
        BEGIN_SIGNATURE,
        "signature",
        SignatureError::NotDetached,
    )?;
    let (sig, _) = DetachedSignature::from_string(armoured)
        .map_err(|e| SignatureError::Malformed("signature", e.to_string()))?;
    let keys = public_keys(keys)?;
    signer_of(
        &keys,
        now,
        |k| sig.verify(k, content).is_ok(),
        |s| sig.verify(s, content).is_ok(),
    )
}

/// The fingerprint of the key in force at `now` (a primary key, or a signing subkey) that
/// `by_key`/`by_sub` say made the signature. A signature by a revoked or expired key is
/// refused as such; one by no key as not verifying.
fn signer_of(
    keys: &[SignedPublicKey],
    now: jiff::Timestamp,
    by_key: impl Fn(&SignedPublicKey) -> bool,
    by_sub: impl Fn(&SignedPublicSubKey) -> bool,
) -> Result<String, SignatureError> {
    let now = now.as_second();
    let mut out_of_force = None;
    for key in keys {
        let key_ok = in_force(key, now);
        if by_key(key) {
            if key_ok {
                return Ok(fingerprint(key));
            }
            out_of_force = Some(fingerprint(key));
        }
        for sub in key.public_subkeys.iter().filter(|s| signs(s)) {
            if by_sub(sub) {
                let fpr = sub.fingerprint().to_string().to_uppercase();
                if key_ok && sub_in_force(sub, now) {
                    return Ok(fpr);
                }
                out_of_force = Some(fpr);
            }
        }
    }
    Err(match out_of_force {
        Some(fpr) => SignatureError::NotInForce(fpr),
        None => SignatureError::Invalid(fingerprint(&keys[0])),
    })
}

/// Whether a primary key is in force at `now` (Unix seconds): no revocation, and not past the
/// expiry its newest self-signature sets.
fn in_force(key: &SignedPublicKey, now: i64) -> bool {
    if !key.details.revocation_signatures.is_empty() {
        return false;
    }
    let newest = key
        .details
        .users
        .iter()
        .flat_map(|u| &u.signatures)
        .chain(&key.details.direct_signatures)
        .max_by_key(|s| s.created().map_or(0, |t| t.as_secs()));
    not_expired(
        key.primary_key.created_at().as_secs(),
        newest.and_then(|s| s.key_expiration_time()),
        now,
    )
}

/// Whether a subkey is in force at `now`: no revocation, and not past the expiry its newest
/// binding sets.
fn sub_in_force(sub: &SignedPublicSubKey, now: i64) -> bool {
    if sub
        .signatures
        .iter()
        .any(|s| s.typ() == Some(SignatureType::SubkeyRevocation))
    {
        return false;
    }
    let newest = sub
        .signatures
        .iter()
        .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding))
        .max_by_key(|s| s.created().map_or(0, |t| t.as_secs()));
    not_expired(
        sub.key.created_at().as_secs(),
        newest.and_then(|s| s.key_expiration_time()),
        now,
    )
}

/// A key created at `created` with the expiry `after` (none or zero: never) is still valid at
/// `now`.
fn not_expired(created: u32, after: Option<pgp::types::Duration>, now: i64) -> bool {
    after
        .map(|d| d.as_secs())
        .filter(|d| *d > 0)
        .is_none_or(|d| i64::from(created) + i64::from(d) > now)
}

/// The organisation's public keys as the portal publishes them: each primary key's fingerprint
/// (upper-case hex) and the keys re-armoured from what was parsed, so that nothing else in the
/// file (a private key pasted after them, comments) is ever served.
pub fn public_keys_to_serve(keys: &str) -> Result<(Vec<String>, String), SignatureError> {
    let parsed = public_keys(keys)?;
    let mut armour = String::new();
    for key in &parsed {
        armour.push_str(
            &key.to_armored_string(Default::default())
                .map_err(|e| SignatureError::BadKey(e.to_string()))?,
        );
    }
    Ok((parsed.iter().map(fingerprint).collect(), armour))
}

/// The public keys in `keys` (ASCII armour) whose self-signatures and subkey bindings verify,
/// at least one. A file that holds a private key is refused: the portal must never hold one.
fn public_keys(keys: &str) -> Result<Vec<SignedPublicKey>, SignatureError> {
    if keys.contains("PRIVATE KEY BLOCK") {
        return Err(SignatureError::BadKey(
            "it holds a private key: put only the public key there (`gpg --armor --export \
             KEY`), and keep the private key on the team's machine"
                .into(),
        ));
    }
    let (parsed, _) = SignedPublicKey::from_string_many(keys)
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let keys: Vec<SignedPublicKey> = parsed
        .collect::<Result<_, _>>()
        .map_err(|e| SignatureError::BadKey(e.to_string()))?;
    let count = keys.len();
    let keys: Vec<SignedPublicKey> = keys
        .into_iter()
        .filter(|k| k.verify_bindings().is_ok())
        .collect();
    if keys.is_empty() {
        return Err(SignatureError::BadKey(if count == 0 {
            "it is empty".into()
        } else {
            "no key in it carries valid self-signatures".into()
        }));
    }
    Ok(keys)
}

/// Whether a subkey's binding allows signing (an encryption subkey never makes a signature
/// the portal accepts).
fn signs(sub: &pgp::composed::SignedPublicSubKey) -> bool {
    sub.signatures.iter().any(|s| s.key_flags().sign())
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
