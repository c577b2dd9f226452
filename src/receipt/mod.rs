//! Signed receipts: the small canonical text a reporter keeps as proof of what they disclosed
//! and when, signed with the portal's receipt key (Ed25519, SSH signature format, namespace
//! [`NAMESPACE`]) so that stock `ssh-keygen -Y verify` checks it.
//!
//! The text never holds the reference: a receipt can be shown to a lawyer without giving away
//! access to the case. The receipt key signs; it cannot decrypt anything.

pub mod allowed;
pub mod document;
pub mod keystore;
pub mod signing;
pub mod verify;

pub use document::Document;
pub use keystore::ReceiptKeys;

use serde::{Deserialize, Serialize};

/// The SSHSIG namespace of every receipt signature (`ssh-keygen -Y verify -n`).
pub const NAMESPACE: &str = "sealdrop-receipt";

/// A receipt as the reporter takes it home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReceipt {
    /// The signed text (save it byte for byte, e.g. as `receipt.txt`).
    pub text: String,
    /// The armored SSH signature of `text` (`receipt.txt.sig`).
    pub signature: String,
    /// The signing key's allowed-signers line (also published at
    /// `/.well-known/sealdrop-receipt-keys`).
    pub key: String,
}

/// Why a receipt could not be signed or verified.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The receipt key could not be made, read or used (never shows the key).
    #[error("receipt key: {0}")]
    Key(String),
    /// The receipt key's folder or file failed.
    #[error("receipt key {path}: {source}")]
    Io {
        /// The file or folder.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The signature is malformed, for another namespace, or does not match.
    #[error("the receipt's signature is not valid: {0}")]
    BadSignature(String),
    /// The signature is good, but no published key of this portal made it.
    #[error("the receipt was signed by {0}, which is not among the given receipt keys")]
    UnknownKey(String),
    /// The signing key was not valid when the receipt says it was received.
    #[error("the receipt key {key} was not valid at {at} (valid {window})")]
    OutsideValidity {
        /// The key's fingerprint.
        key: String,
        /// The receipt's received time.
        at: String,
        /// The key's validity period.
        window: String,
    },
    /// The receipt's text is not a sealdrop receipt.
    #[error("not a sealdrop receipt: {0}")]
    NotAReceipt(String),
    /// The allowed-signers list could not be read.
    #[error("the receipt keys list is unusable: {0}")]
    BadList(String),
}

impl ReceiptError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ReceiptError::Key(_) | ReceiptError::Io { .. } => "receipt-key-unusable",
            ReceiptError::BadSignature(_) => "receipt-signature-invalid",
            ReceiptError::UnknownKey(_) => "receipt-key-unknown",
            ReceiptError::OutsideValidity { .. } => "receipt-key-not-valid-then",
            ReceiptError::NotAReceipt(_) => "not-a-receipt",
            ReceiptError::BadList(_) => "receipt-keys-unusable",
        }
    }
}

impl crate::hint::Hint for ReceiptError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            ReceiptError::Key(_) | ReceiptError::Io { .. } => {
                "the receipt key lives in storage.data_dir/receipt-key/ (mode 0600); move a \
                 broken signing.key away and restart to make a new one (`sealdrop admin \
                 receipt-key` lists the published keys)"
                    .into()
            }
            ReceiptError::BadSignature(_) => {
                "the receipt or its signature was changed, or they do not belong together: use \
                 the two files exactly as the portal gave them"
                    .into()
            }
            ReceiptError::UnknownKey(_) => {
                "fetch the portal's keys from /.well-known/sealdrop-receipt-keys (or `sealdrop \
                 admin receipt-key`) and pass them with --allowed-signers"
                    .into()
            }
            ReceiptError::OutsideValidity { .. } => {
                "a receipt signed outside its key's validity period is not one the portal gave; \
                 ask the portal's security team"
                    .into()
            }
            ReceiptError::NotAReceipt(_) => {
                "pass the receipt's text file (receipt-CASE.txt), not its signature".into()
            }
            ReceiptError::BadList(_) => {
                "pass the allowed-signers file as the portal publishes it at \
                 /.well-known/sealdrop-receipt-keys"
                    .into()
            }
        })
    }
}
