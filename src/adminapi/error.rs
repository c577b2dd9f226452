//! The one error body of the admin socket and its stable codes with their HTTP statuses (the
//! server decides which domain error gets which code: `ops::error`).

use super::PartState;
use serde::{Deserialize, Serialize};

/// The stable code of an admin error; each has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// No such case, key or route.
    NotFound,
    /// The route does not take that method (`Allow` says which it takes).
    MethodNotAllowed,
    /// The query, path or JSON body does not fit the route.
    BadRequest,
    /// A note that is not one short line.
    BadNote,
    /// An invitation validity outside 1 second to 90 days.
    InviteValidityOutOfRange,
    /// A recipients file edit or key was refused.
    KeysRefused,
    /// A re-keyed bundle was refused.
    ImportRefused,
    /// A reload was refused in part or in whole (`keys` and `tls` say which).
    ReloadRefused,
    /// The workflow does not allow that change.
    WorkflowRefused,
    /// The case's ciphertext was deleted.
    Purged,
    /// The case changed while the request ran.
    ChangedMeanwhile,
    /// The invitation was used or expired.
    InviteGone,
    /// The case is closed.
    CaseClosed,
    /// The data file system is (nearly) full.
    InsufficientStorage,
    /// The database cannot be reached now; try again shortly.
    Unavailable,
    /// Not a date, or one before the case was received.
    BadDate,
    /// Not an absolute http(s) link.
    BadUrl,
    /// A name to credit that is empty, too long or not one line.
    BadCreditName,
    /// The case has no letterbox (received before messages to reporters existed).
    NoLetterbox,
    /// A message to the reporter over `limits.max_letter_bytes`.
    LetterTooLong,
    /// The case has `limits.max_letters` messages already.
    TooManyLetters,
    /// The reporter did not ask to be credited.
    CreditNotRequested,
    /// The receipt key could not be made, read or rotated.
    ReceiptKeyUnusable,
    /// The console is not configured (`[console] listen`).
    ConsoleOff,
    /// A signed security.txt was not installed (signature, fields or `Expires`), or one could
    /// not be rendered with the `Expires` asked for.
    SecurityTxtRefused,
    /// A CSAF advisory was not drafted or published (what the team gave, the case's state,
    /// the label, the signature); or no such advisory.
    AdvisoryRefused,
    /// Anything else; the details are in the server log.
    #[serde(rename = "internal-error")]
    Internal,
    /// A code this client does not know (from a newer server).
    #[serde(other)]
    Unrecognised,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::BadNote
            | ErrorCode::InviteValidityOutOfRange
            | ErrorCode::BadDate
            | ErrorCode::BadUrl
            | ErrorCode::BadCreditName => 400,
            ErrorCode::LetterTooLong => 413,
            ErrorCode::NoLetterbox | ErrorCode::TooManyLetters | ErrorCode::CreditNotRequested => {
                409
            }
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::WorkflowRefused
            | ErrorCode::ChangedMeanwhile
            | ErrorCode::CaseClosed
            | ErrorCode::ConsoleOff => 409,
            ErrorCode::Purged | ErrorCode::InviteGone => 410,
            ErrorCode::KeysRefused
            | ErrorCode::ImportRefused
            | ErrorCode::ReloadRefused
            | ErrorCode::SecurityTxtRefused
            | ErrorCode::AdvisoryRefused => 422,
            ErrorCode::InsufficientStorage => 507,
            ErrorCode::Unavailable => 503,
            ErrorCode::ReceiptKeyUnusable | ErrorCode::Internal | ErrorCode::Unrecognised => 500,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not-found",
            ErrorCode::MethodNotAllowed => "method-not-allowed",
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::BadNote => "bad-note",
            ErrorCode::InviteValidityOutOfRange => "invite-validity-out-of-range",
            ErrorCode::KeysRefused => "keys-refused",
            ErrorCode::ImportRefused => "import-refused",
            ErrorCode::ReloadRefused => "reload-refused",
            ErrorCode::WorkflowRefused => "workflow-refused",
            ErrorCode::Purged => "purged",
            ErrorCode::ChangedMeanwhile => "changed-meanwhile",
            ErrorCode::InviteGone => "invite-gone",
            ErrorCode::CaseClosed => "case-closed",
            ErrorCode::InsufficientStorage => "insufficient-storage",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::BadDate => "bad-date",
            ErrorCode::BadUrl => "bad-url",
            ErrorCode::BadCreditName => "bad-credit-name",
            ErrorCode::NoLetterbox => "no-letterbox",
            ErrorCode::LetterTooLong => "letter-too-long",
            ErrorCode::TooManyLetters => "too-many-letters",
            ErrorCode::CreditNotRequested => "credit-not-requested",
            ErrorCode::ReceiptKeyUnusable => "receipt-key-unusable",
            ErrorCode::ConsoleOff => "console-off",
            ErrorCode::SecurityTxtRefused => "security-txt-refused",
            ErrorCode::AdvisoryRefused => "advisory-refused",
            ErrorCode::Internal => "internal-error",
            ErrorCode::Unrecognised => "unrecognised",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every admin error answer: `{"error": {"code", "message", "hint"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error of an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable code.
    pub code: ErrorCode,
    /// What happened.
    pub message: String,
    /// What to do next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Of a refused reload: what became of the keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<PartState>,
    /// Of a refused reload: what became of the TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<PartState>,
}

/// The message of every internal error (the detail is logged, never sent).
pub const INTERNAL_MESSAGE: &str = "something went wrong in the server; its log has the details";

impl ErrorBody {
    /// An error with a message and maybe a hint.
    pub fn new(code: ErrorCode, message: impl Into<String>, hint: Option<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
                hint,
                keys: None,
                tls: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_itself_and_an_unknown_one_is_unrecognised() {
        let all = [
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::BadRequest,
            ErrorCode::BadNote,
            ErrorCode::InviteValidityOutOfRange,
            ErrorCode::KeysRefused,
            ErrorCode::ImportRefused,
            ErrorCode::ReloadRefused,
            ErrorCode::WorkflowRefused,
            ErrorCode::Purged,
            ErrorCode::ChangedMeanwhile,
            ErrorCode::InviteGone,
            ErrorCode::CaseClosed,
            ErrorCode::InsufficientStorage,
            ErrorCode::Unavailable,
            ErrorCode::BadDate,
            ErrorCode::BadUrl,
            ErrorCode::BadCreditName,
            ErrorCode::NoLetterbox,
            ErrorCode::LetterTooLong,
            ErrorCode::TooManyLetters,
            ErrorCode::CreditNotRequested,
            ErrorCode::ConsoleOff,
            ErrorCode::SecurityTxtRefused,
            ErrorCode::AdvisoryRefused,
            ErrorCode::Internal,
        ];
        for code in all {
            let text = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(text, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&text).unwrap_or(ErrorCode::Unrecognised);
            assert_eq!(back, code);
            assert!((400..600).contains(&code.status()));
        }
        let future: ErrorCode =
            serde_json::from_str("\"quota-exceeded\"").unwrap_or(ErrorCode::NotFound);
        assert_eq!(future, ErrorCode::Unrecognised);
    }
}
