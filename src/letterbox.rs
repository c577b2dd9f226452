//! The reporter's letterbox: messages from the team that only the reporter's reference opens.
//!
//! At submission time, while the new reference is still in memory, an age X25519 identity is
//! derived from it (Argon2id with the portal's salt, then HKDF-SHA-256: `Reference::derive`)
//! and only its recipient (public key) is kept in the record. Cases from before that
//! derivation keep their fixed-salt HKDF letterbox (`Letterbox::legacy`).
//! `sealdrop admin tell` seals each message to that recipient (standard age, base64 in the
//! record); when the reporter presents the reference on `/status`, the identity is derived
//! again, in memory, and the messages are opened for that one answer. The server can write to a
//! letterbox but never read it without the reference, which it does not keep (only a key derived
//! from it, independent of the letterbox's). Uses `age`, `bech32` and `base64`.

use crate::reference::Reference;
use base64::Engine;
use std::io::{Read, Write};
use std::str::FromStr;

/// HKDF salt: names this derivation, so the key is unrelated to the stored reference hash.
const SALT: &[u8] = b"sealdrop-letterbox/1";
/// HKDF info.
const INFO: &[u8] = b"age x25519 identity";

/// Why a letter cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    /// The record's recipient is not an age X25519 recipient.
    #[error("the case's letterbox key is not an age recipient")]
    BadRecipient,
    /// The stored letter is not base64 age, or encryption failed.
    #[error("cannot seal or read a letter: {0}")]
    Format(String),
    /// The reference does not open the letter (a different case's reference).
    #[error("this reference does not open the letter")]
    WrongReference,
}

/// The identity derived from a reference: opens that case's letters. Lives in memory only.
pub struct Letterbox(age::x25519::Identity);

impl Letterbox {
    /// The letterbox of a case stored before references were derived with the portal's salt
    /// (HKDF of the reference with a fixed salt).
    pub fn legacy(reference: &Reference) -> Letterbox {
        Letterbox::from_secret(crate::digest::hkdf_sha256(
            SALT,
            reference.canonical().as_bytes(),
            INFO,
        ))
    }

    /// The letterbox whose seed was derived from the reference (`Reference::derive`).
    pub fn from_seed(seed: &[u8; 32]) -> Letterbox {
        Letterbox::from_secret(crate::digest::hkdf_sha256(
            b"sealdrop-letterbox/2",
            seed,
            INFO,
        ))
    }

    fn from_secret(secret: [u8; 32]) -> Letterbox {
        // The secret goes through age's own text form: the one public way to build an identity.
        let hrp = bech32::Hrp::parse_unchecked("age-secret-key-");
        let text = bech32::encode::<bech32::Bech32>(hrp, &secret)
            .map(|s| s.to_uppercase())
            .unwrap_or_default();
        let identity = age::x25519::Identity::from_str(&text)
            .unwrap_or_else(|_| unreachable!("32 bytes in Bech32 are an age identity"));
        Letterbox(identity)
    }

    /// The recipient the record keeps (`age1…`).
    pub fn recipient(&self) -> String {
        self.0.to_public().to_string()
    }

    /// Opens a letter sealed to this letterbox.
    pub fn open(&self, sealed: &str) -> Result<String, LetterError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|e| LetterError::Format(e.to_string()))?;
        let dec =
            age::Decryptor::new(&bytes[..]).map_err(|e| LetterError::Format(e.to_string()))?;
        let mut reader = dec
            .decrypt(std::iter::once(&self.0 as &dyn age::Identity))
            .map_err(|_| LetterError::WrongReference)?;
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|e| LetterError::Format(e.to_string()))?;
        Ok(text)
    }
}

/// Seals `text` to the letterbox `recipient` (`age1…`): base64 of a standard age file.
pub fn seal(recipient: &str, text: &str) -> Result<String, LetterError> {
    let recipient =
        age::x25519::Recipient::from_str(recipient).map_err(|_| LetterError::BadRecipient)?;
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .map_err(|e| LetterError::Format(e.to_string()))?;
    let mut out = Vec::with_capacity(text.len() + 256);
    let mut writer = enc
        .wrap_output(&mut out)
        .map_err(|e| LetterError::Format(e.to_string()))?;
    writer
        .write_all(text.as_bytes())
        .and_then(|()| writer.finish().map(drop))
        .map_err(|e| LetterError::Format(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_reference_always_gives_the_same_letterbox() {
        let r = Reference::generate();
        let again = Reference::parse(&r.to_string().to_lowercase()).unwrap();
        assert_eq!(
            Letterbox::legacy(&r).recipient(),
            Letterbox::legacy(&again).recipient()
        );
        assert!(Letterbox::legacy(&r).recipient().starts_with("age1"));
        assert_ne!(
            Letterbox::legacy(&r).recipient(),
            Letterbox::legacy(&Reference::generate()).recipient()
        );
    }

    #[test]
    fn a_letter_opens_with_its_reference_and_not_with_another() {
        let r = Reference::generate();
        let sealed = seal(
            &Letterbox::legacy(&r).recipient(),
            "We fixed it on 3 March.",
        )
        .unwrap();
        assert!(!sealed.contains("fixed"));
        assert_eq!(
            Letterbox::legacy(&r).open(&sealed).unwrap(),
            "We fixed it on 3 March."
        );
        let wrong = Letterbox::legacy(&Reference::generate()).open(&sealed);
        assert!(
            matches!(wrong, Err(LetterError::WrongReference)),
            "{wrong:?}"
        );
    }

    #[test]
    fn a_sealed_letter_is_a_standard_age_file() {
        let r = Reference::generate();
        let sealed = seal(&Letterbox::legacy(&r).recipient(), "hello").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .unwrap();
        assert!(bytes.starts_with(b"age-encryption.org/v1\n-> X25519 "));
    }

    #[test]
    fn a_bad_recipient_is_refused() {
        assert!(matches!(
            seal("ssh-ed25519 AAAA", "x"),
            Err(LetterError::BadRecipient)
        ));
    }
}
