//! The one mapping from the server's domain errors to the admin protocol's stable codes and
//! error body (`adminapi::ErrorBody`): the protocol module knows no server type.

use crate::adminapi::{ErrorBody, ErrorCode, INTERNAL_MESSAGE};
use crate::hint::Hint;
use crate::keys::KeyError;
use crate::portal::PortalError;
use crate::store::{Refusal, StoreError};
use crate::workflow::{DisclosureError, WorkflowError};

/// The code of a domain error: the one place that decides it, variant by variant.
pub fn code_of(e: &PortalError) -> ErrorCode {
    match e {
        PortalError::NoSuchCase(_) => ErrorCode::NotFound,
        PortalError::ConsoleOff => ErrorCode::ConsoleOff,
        PortalError::SecurityTxt(_) => ErrorCode::SecurityTxtRefused,
        PortalError::Advisory(_) => ErrorCode::AdvisoryRefused,
        PortalError::Keys(k) => match k {
            KeyError::NoActiveKey(_) | KeyError::SameKeys(_) => ErrorCode::ImportRefused,
            KeyError::Read { .. }
            | KeyError::BadLine { .. }
            | KeyError::Empty { .. }
            | KeyError::MixedClasses { .. }
            | KeyError::Exists(_)
            | KeyError::Write { .. }
            | KeyError::Refused(_)
            | KeyError::MultiLineReason
            | KeyError::Identity { .. } => ErrorCode::KeysRefused,
        },
        PortalError::Import(_) => ErrorCode::ImportRefused,
        PortalError::Workflow(w) => match w {
            WorkflowError::Purged { .. } => ErrorCode::Purged,
            WorkflowError::BadNote => ErrorCode::BadNote,
            WorkflowError::InviteValidity => ErrorCode::InviteValidityOutOfRange,
            WorkflowError::BadTime(_) => ErrorCode::BadDate,
            WorkflowError::BadCoordinator(_) => ErrorCode::BadRequest,
            WorkflowError::Final { .. }
            | WorkflowError::Backwards { .. }
            | WorkflowError::Same { .. }
            | WorkflowError::BreachUndecided(_)
            | WorkflowError::NotABreach(_)
            | WorkflowError::AlreadyDecided { .. }
            | WorkflowError::Addendum { .. }
            | WorkflowError::PhaseOrder { .. } => ErrorCode::WorkflowRefused,
            WorkflowError::Disclosure(d) => match d {
                DisclosureError::BadDate(_) | DisclosureError::PastDate(_) => ErrorCode::BadDate,
                DisclosureError::BadUrl => ErrorCode::BadUrl,
                DisclosureError::BadCreditName(_) => ErrorCode::BadCreditName,
                DisclosureError::NoLetterbox(_) => ErrorCode::NoLetterbox,
                DisclosureError::LetterTooLong(_) => ErrorCode::LetterTooLong,
                DisclosureError::TooManyLetters { .. } => ErrorCode::TooManyLetters,
                DisclosureError::CreditNotRequested(_) => ErrorCode::CreditNotRequested,
                DisclosureError::EmptyLetter => ErrorCode::BadRequest,
                DisclosureError::Closed(_)
                | DisclosureError::NotResolved { .. }
                | DisclosureError::NoCredit(_)
                | DisclosureError::PurgedCredit(_) => ErrorCode::WorkflowRefused,
            },
        },
        PortalError::Store(s) => match s {
            StoreError::Refused(r) => match r {
                Refusal::Purged | Refusal::Replaced => ErrorCode::ChangedMeanwhile,
                Refusal::InviteGone => ErrorCode::InviteGone,
                Refusal::ParentClosed => ErrorCode::CaseClosed,
                Refusal::Corrupt => ErrorCode::Internal,
            },
            StoreError::Full => ErrorCode::InsufficientStorage,
            StoreError::Unavailable(_) => ErrorCode::Unavailable,
            StoreError::Io { .. } if s.is_disk_full() => ErrorCode::InsufficientStorage,
            StoreError::Io { .. }
            | StoreError::Open { .. }
            | StoreError::Db(_)
            | StoreError::Corrupt { .. } => ErrorCode::Internal,
        },
        PortalError::Receipt(_) => ErrorCode::ReceiptKeyUnusable,
        PortalError::Config(_) | PortalError::Export(_) | PortalError::Task(_) => {
            ErrorCode::Internal
        }
    }
}

/// The answer to a domain error; internal ones say only [`INTERNAL_MESSAGE`].
pub fn body_of(e: &PortalError) -> ErrorBody {
    match code_of(e) {
        ErrorCode::Internal => ErrorBody::new(ErrorCode::Internal, INTERNAL_MESSAGE, None),
        code => ErrorBody::new(code, e.to_string(), e.hint()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_detail_out_of_the_answer() {
        let e = PortalError::Export("disk on fire at /srv/data/blobs/x".into());
        let body = body_of(&e);
        assert_eq!(body.error.code, ErrorCode::Internal);
        assert!(!body.error.message.contains("/srv"));
        let e = PortalError::NoSuchCase("2026-0001".into());
        let body = body_of(&e);
        assert_eq!(
            (body.error.code.status(), body.error.code),
            (404, ErrorCode::NotFound)
        );
        assert!(body.error.hint.is_some());
    }
}
