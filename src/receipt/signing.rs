//! Ed25519 signatures in the SSH signature format (SSHSIG), and the allowed-signers lines that
//! stock `ssh-keygen -Y verify` reads. The only user of the ssh-key crate.

use super::{NAMESPACE, ReceiptError};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

/// A private receipt key in memory. Its `Debug` never shows the key.
pub struct SigningKey(PrivateKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.fingerprint())
    }
}

impl SigningKey {
    /// A new random Ed25519 key.
    pub fn generate() -> Result<SigningKey, ReceiptError> {
        PrivateKey::random(&mut rand::rngs::OsRng, Algorithm::Ed25519)
            .map(SigningKey)
            .map_err(|e| ReceiptError::Key(format!("cannot generate a key: {e}")))
    }

    /// Reads an unencrypted OpenSSH private key (what [`SigningKey::to_openssh`] wrote).
    pub fn from_openssh(text: &Secret) -> Result<SigningKey, ReceiptError> {
        let key = PrivateKey::from_openssh(text.as_str())
            // Never the key's text, not even in part.
            .map_err(|_| {
                ReceiptError::Key("the receipt key file is not an OpenSSH private key".into())
            })?;
        if key.algorithm() != Algorithm::Ed25519 || key.is_encrypted() {
            return Err(ReceiptError::Key(
                "the receipt key must be an unencrypted Ed25519 key".into(),
            ));
        }
        Ok(SigningKey(key))
    }

    /// The OpenSSH private key file's text.
    pub fn to_openssh(&self) -> Result<Secret, ReceiptError> {
        self.0
            .to_openssh(LineEnding::LF)
            .map(|z| Secret(z.as_str().to_owned()))
            .map_err(|_| ReceiptError::Key("cannot encode the receipt key".into()))
    }

    /// The public half, as one OpenSSH line (`ssh-ed25519 AAAA…`, no comment).
    pub fn public(&self) -> String {
        public_line(self.0.public_key())
    }

    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.0.fingerprint(HashAlg::Sha256).to_string()
    }

    /// Signs `text` in the receipt namespace: the armored signature (`-----BEGIN SSH
    /// SIGNATURE-----`).
    pub fn sign(&self, text: &str) -> Result<String, ReceiptError> {
        self.0
            .sign(NAMESPACE, HashAlg::Sha512, text.as_bytes())
            .and_then(|sig| sig.to_pem(LineEnding::LF))
            .map_err(|e| ReceiptError::Key(format!("cannot sign: {e}")))
    }
}

fn public_line(key: &PublicKey) -> String {
    let mut key = key.clone();
    key.set_comment("");
    key.to_openssh()
        .map(|l| l.trim().to_owned())
        .unwrap_or_default()
}

/// The fingerprint of a public key line, `None` when it is not one.
pub fn fingerprint_of(public: &str) -> Option<String> {
    PublicKey::from_openssh(public.trim())
        .ok()
        .map(|k| k.fingerprint(HashAlg::Sha256).to_string())
}

/// Checks `signature` (armored SSHSIG) over `text` in the receipt namespace; on success, the
/// signing key's public line.
pub fn verify(text: &[u8], signature: &str) -> Result<String, ReceiptError> {
    let sig = SshSig::from_pem(signature.trim())
        .map_err(|_| ReceiptError::BadSignature("the signature is not an SSH signature".into()))?;
    if sig.namespace() != NAMESPACE {
        return Err(ReceiptError::BadSignature(format!(
            "the signature is for namespace {:?}, not {NAMESPACE:?}",
            sig.namespace()
        )));
    }
    let key = PublicKey::from(sig.public_key().clone());
    key.verify(NAMESPACE, text, &sig).map_err(|_| {
        ReceiptError::BadSignature("the signature does not match the receipt's text".into())
    })?;
    Ok(public_line(&key))
}

/// True when two public key lines name the same key (comments ignored).
pub fn same_key(a: &str, b: &str) -> bool {
    match (
        PublicKey::from_openssh(a.trim()),
        PublicKey::from_openssh(b.trim()),
    ) {
        (Ok(a), Ok(b)) => a.key_data() == b.key_data(),
        _ => false,
    }
}

/// Private key text that is never printed: its `Debug` is a placeholder and its bytes are
/// overwritten when it is dropped.
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: String) -> Secret {
        Secret(text)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Overwrite in place (within the capacity: no reallocation) before it is freed.
        let len = self.0.len();
        self.0.clear();
        self.0.extend(std::iter::repeat_n('\0', len));
        std::hint::black_box(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_one_changed_byte_does_not() {
        let key = SigningKey::generate().unwrap();
        let sig = key.sign("case: 2026-0001\n").unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"));
        assert!(same_key(
            &verify(b"case: 2026-0001\n", &sig).unwrap(),
            &key.public()
        ));
        assert!(matches!(
            verify(b"case: 2026-0002\n", &sig),
            Err(ReceiptError::BadSignature(_))
        ));
    }

    #[test]
    fn the_key_survives_its_file_and_never_shows_in_debug() {
        let key = SigningKey::generate().unwrap();
        let text = key.to_openssh().unwrap();
        let again = SigningKey::from_openssh(&text).unwrap();
        assert_eq!(again.public(), key.public());
        let shown = format!("{key:?} {text:?}");
        assert!(!shown.contains("PRIVATE KEY") && shown.contains("SHA256:"));
    }
}
