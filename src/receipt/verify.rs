//! Offline verification of a receipt against a portal's published receipt keys: the signature
//! (SSHSIG, receipt namespace), the signing key in the list for the portal's identity, and the
//! key valid at the receipt's received time (what `ssh-keygen -Y verify -O verify-time=` checks).

use super::{ReceiptError, allowed, document, signing};
use jiff::Timestamp;

/// A receipt that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The portal it names.
    pub portal: String,
    /// The case.
    pub case: String,
    /// When it was received (RFC 3339 UTC).
    pub received_at: String,
    /// The identity the key is listed for.
    pub principal: String,
    /// The signing key's fingerprint.
    pub key: String,
}

/// Verifies `text` and its armored `signature` against an allowed-signers `list`. `identity`
/// overrides the principal read from the receipt's `portal:` line.
pub fn verify(
    text: &[u8],
    signature: &str,
    list: &str,
    identity: Option<&str>,
) -> Result<Verified, ReceiptError> {
    let public = signing::verify(text, signature)?;
    let fingerprint = signing::fingerprint_of(&public).unwrap_or_default();
    let text = std::str::from_utf8(text)
        .map_err(|_| ReceiptError::NotAReceipt("it is not UTF-8 text".into()))?;
    let parsed = document::parse(text)?;
    let at: Timestamp = parsed
        .received_at
        .parse()
        .map_err(|_| ReceiptError::NotAReceipt("its received time is not RFC 3339".into()))?;
    let principal = identity
        .map(str::to_owned)
        .unwrap_or_else(|| document::principal(&parsed.portal));
    let listed = allowed::parse(list)?;
    let mut matching = listed
        .iter()
        .filter(|l| l.names(&principal) && l.allows_namespace())
        .filter(|l| signing::same_key(&l.public, &public))
        .peekable();
    let Some(first) = matching.peek().cloned() else {
        return Err(ReceiptError::UnknownKey(fingerprint));
    };
    if !matching.any(|l| l.valid_at(at)) {
        let window = format!(
            "from {} until {}",
            first
                .valid_after
                .map(crate::clock::rfc3339)
                .unwrap_or_else(|| "always".into()),
            first
                .valid_before
                .map(crate::clock::rfc3339)
                .unwrap_or_else(|| "now".into())
        );
        return Err(ReceiptError::OutsideValidity {
            key: fingerprint,
            at: parsed.received_at,
            window,
        });
    }
    Ok(Verified {
        portal: parsed.portal,
        case: parsed.case,
        received_at: parsed.received_at,
        principal,
        key: fingerprint,
    })
}
