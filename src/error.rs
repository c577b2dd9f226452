//! Errors a client can see: each variant has one HTTP status, one stable kebab-case code and a
//! message that says what to do next. Internal detail goes to the log, never to the client.

use crate::config::ByteSize;

/// A request failed for a reason the client is told about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The body is not `multipart/form-data`.
    #[error("Send the form as multipart/form-data (for example with curl -F).")]
    NotMultipart,
    /// The multipart body could not be parsed.
    #[error("The upload was not a well-formed multipart form. Please try again.")]
    MalformedMultipart,
    /// A part's header block is too large.
    #[error("A form part's headers are larger than {0}.")]
    PartHeaderTooLarge(ByteSize),
    /// A form field the portal does not know.
    #[error("The form has a field this portal does not accept here: {0}. Use {1}.")]
    UnknownField(String, &'static str),
    /// A text field was sent twice.
    #[error("The form field \"{0}\" was sent more than once. Send each text field once.")]
    DuplicateField(&'static str),
    /// No category.
    #[error("Choose a category: vulnerability, data-breach or incident.")]
    MissingCategory,
    /// An unknown category.
    #[error("Unknown category. Choose vulnerability, data-breach or incident.")]
    InvalidCategory,
    /// Neither a message nor a file.
    #[error("The submission is empty. Add a message or at least one file.")]
    EmptySubmission,
    /// The message is too long.
    #[error("The message is longer than {0}. Shorten it, or attach the text as a file.")]
    MessageTooLong(ByteSize),
    /// The contact field is too long.
    #[error("The contact details are longer than {0}.")]
    ContactTooLong(ByteSize),
    /// The name to credit is too long.
    #[error("The name to credit is longer than {0}. Give a shorter name or handle.")]
    CreditTooLong(ByteSize),
    /// A text field is not UTF-8.
    #[error("Text fields must be UTF-8 text.")]
    InvalidText,
    /// One file exceeds `max_file_size`.
    #[error(
        "A file is larger than the limit of {0} per file. Split it or compress it, then try again."
    )]
    FileTooLarge(ByteSize),
    /// All files together exceed `max_submission_size`.
    #[error(
        "The files together are larger than the limit of {0}. Send them in several submissions."
    )]
    SubmissionTooLarge(ByteSize),
    /// More files than `max_files`.
    #[error(
        "Too many files: at most {0} per submission. Put them in an archive, or send several submissions."
    )]
    TooManyFiles(usize),
    /// More form parts than the form can have.
    #[error("Too many form parts: at most {0}.")]
    TooManyParts(usize),
    /// The body stalled longer than `body_idle_timeout`.
    #[error("The upload stalled and was stopped. Check your connection and try again.")]
    BodyTimeout,
    /// The client's connection broke mid-upload.
    #[error("The upload was interrupted before it finished. Nothing was stored; please try again.")]
    Incomplete,
    /// `max_concurrent_uploads` reached.
    #[error("The portal is busy with other uploads. Please try again in a minute.")]
    Busy,
    /// Less than `min_free_bytes` would remain.
    #[error(
        "The portal has no room for this upload right now. Nothing was stored; please try again later or contact us by e-mail."
    )]
    InsufficientStorage,
    /// A `Content-Encoding` the portal refuses to inflate.
    #[error("Compressed request bodies are not accepted. Send the form without Content-Encoding.")]
    ContentEncoding,
    /// A form posted from another site.
    #[error("This form can only be sent from this portal's own page.")]
    CrossSite,
    /// No such page or resource.
    #[error("Not found.")]
    NotFound,
    /// A reference that matches no open report: wrong, mistyped or deleted alike.
    #[error(
        "No report matches this reference. Check it against your receipt; the check symbol at the end catches most typos."
    )]
    UnknownReference,
    /// A report of a kind that needs contact details came without them.
    #[error(
        "Please give an e-mail address or phone number, so that we can reach you about this report."
    )]
    ContactRequired,
    /// No reference given where one is needed.
    #[error("Give the reference from your receipt.")]
    MissingReference,
    /// A follow-up sent its files before its reference.
    #[error("Send the reference field before the files.")]
    ReferenceFirst,
    /// A one-time upload link used, expired or unknown.
    #[error(
        "This upload link was already used or has expired. Ask the team for a new one, or use the public form."
    )]
    InviteGone,
    /// Files added to a resolved or rejected case.
    #[error(
        "This case is closed, so no files can be added to it. Please send new findings as a new report."
    )]
    CaseClosed,
    /// Too many new reports from one client.
    #[error(
        "Too many reports from your network in a short time. Please wait {0} seconds, or send everything in one report."
    )]
    TooManySubmissions(u64),
    /// The client already runs `max_uploads_per_client` uploads.
    #[error(
        "You are already sending several uploads. Wait until one has finished, then try again."
    )]
    TooManyUploads,
    /// The body came in slower than `min_upload_rate` on average.
    #[error(
        "The upload came in too slowly (under {0} per second) and was stopped. Nothing was stored; try again on a better connection."
    )]
    UploadTooSlow(ByteSize),
    /// Too many reference lookups from one address.
    #[error("Too many attempts. Please wait {0} seconds and try again.")]
    RateLimited(u64),
    /// Wrong HTTP method.
    #[error("This address does not accept that method.")]
    MethodNotAllowed,
    /// A tus request without `Tus-Resumable: 1.0.0`.
    #[error("Send Tus-Resumable: 1.0.0; this portal speaks tus 1.0.0 only.")]
    TusVersion,
    /// A tus header is missing or not a valid value.
    #[error("The header {0} is missing or invalid. See the tus 1.0 protocol.")]
    TusHeader(&'static str),
    /// A creation without `Upload-Length` (deferred lengths are not offered).
    #[error("Send Upload-Length: the size of the file, in bytes.")]
    UploadLengthRequired,
    /// A PATCH whose body is not `application/offset+octet-stream`.
    #[error("Send the piece as Content-Type: application/offset+octet-stream.")]
    NotOffsetStream,
    /// A PATCH whose `Upload-Offset` is not what the portal has.
    #[error(
        "Upload-Offset does not match what arrived so far. Ask with HEAD, then continue from there."
    )]
    OffsetMismatch,
    /// Another PATCH of the same upload is running.
    #[error(
        "Another request is sending this upload right now. Wait for it to end, then ask with HEAD."
    )]
    UploadLocked,
    /// An upload id that is unknown, expired, finished into a report or terminated.
    #[error("No unfinished upload has this address (it may have expired). Start the upload again.")]
    UploadGone,
    /// More bytes than the declared `Upload-Length`.
    #[error("The upload is longer than its Upload-Length. Start it again with the right length.")]
    BeyondLength,
    /// One PATCH body larger than `max_piece_size`.
    #[error("A piece is larger than {0}. Send smaller pieces.")]
    PieceTooLarge(ByteSize),
    /// More pieces than `max_upload_pieces`.
    #[error("The upload was sent in too many pieces (at most {0}). Send larger pieces.")]
    TooManyPieces(usize),
    /// A PATCH body below `min_piece_size` that does not end the upload.
    #[error("A piece is smaller than {0} without ending the upload. Send larger pieces.")]
    PieceTooSmall(ByteSize),
    /// A report names uploads sealed to different keys (the portal's keys changed between).
    #[error(
        "The portal's keys changed while your files were uploading. Upload the files named in this report again."
    )]
    KeysRotated,
    /// The report's names and texts together exceed what its manifest may hold.
    #[error(
        "The report's file names and texts are too long to be stored together. Send fewer files or shorter names."
    )]
    ReportTooLarge,
    /// The client holds `max_unfinished_uploads_per_client` unfinished uploads.
    #[error(
        "You have too many unfinished uploads. Finish them into a report, or wait until they expire."
    )]
    TooManyUnfinished,
    /// A report names an upload that has not received all its bytes.
    #[error("An upload named in the report is not finished yet. Send the rest of it first.")]
    UploadUnfinished,
    /// `Upload-Checksum` names an algorithm other than sha256.
    #[error("Only the sha256 checksum algorithm is supported.")]
    ChecksumAlgorithm,
    /// The piece did not match its `Upload-Checksum`; it was discarded.
    #[error("The piece did not match its checksum and was discarded. Send it again.")]
    ChecksumMismatch,
    /// Anything else; details are in the server log.
    #[error("Something went wrong on our side. Nothing was stored; please try again later.")]
    Internal,
}

impl ApiError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        use ApiError::*;
        match self {
            NotMultipart | ContentEncoding => 415,
            MalformedMultipart | UnknownField(..) | DuplicateField(_) | MissingCategory
            | InvalidCategory | EmptySubmission | InvalidText | Incomplete => 400,
            PartHeaderTooLarge(_)
            | MessageTooLong(_)
            | ContactTooLong(_)
            | CreditTooLong(_)
            | FileTooLarge(_)
            | SubmissionTooLarge(_)
            | TooManyFiles(_)
            | TooManyParts(_) => 413,
            BodyTimeout | UploadTooSlow(_) => 408,
            TooManySubmissions(_) | TooManyUploads => 429,
            Busy => 503,
            InsufficientStorage => 507,
            CrossSite => 403,
            NotFound | UnknownReference => 404,
            MissingReference | ReferenceFirst | ContactRequired => 400,
            InviteGone => 410,
            CaseClosed => 409,
            RateLimited(_) => 429,
            MethodNotAllowed => 405,
            TusVersion => 412,
            TusHeader(_) | UploadLengthRequired | ChecksumAlgorithm => 400,
            NotOffsetStream => 415,
            OffsetMismatch | UploadUnfinished => 409,
            UploadLocked => 423,
            UploadGone => 404,
            BeyondLength | PieceTooLarge(_) | TooManyPieces(_) | ReportTooLarge => 413,
            PieceTooSmall(_) => 400,
            KeysRotated => 409,
            TooManyUnfinished => 429,
            ChecksumMismatch => 460,
            Internal => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            NotMultipart => "not-multipart",
            MalformedMultipart => "malformed-multipart",
            PartHeaderTooLarge(_) => "part-header-too-large",
            UnknownField(..) => "unknown-field",
            DuplicateField(_) => "duplicate-field",
            MissingCategory => "missing-category",
            InvalidCategory => "invalid-category",
            EmptySubmission => "empty-submission",
            MessageTooLong(_) => "message-too-long",
            ContactTooLong(_) => "contact-too-long",
            CreditTooLong(_) => "credit-too-long",
            InvalidText => "invalid-text",
            FileTooLarge(_) => "file-too-large",
            SubmissionTooLarge(_) => "submission-too-large",
            TooManyFiles(_) => "too-many-files",
            TooManyParts(_) => "too-many-parts",
            BodyTimeout => "body-timeout",
            UploadTooSlow(_) => "upload-too-slow",
            TooManySubmissions(_) => "too-many-submissions",
            TooManyUploads => "too-many-uploads",
            Incomplete => "upload-incomplete",
            Busy => "busy",
            InsufficientStorage => "insufficient-storage",
            ContentEncoding => "content-encoding-not-supported",
            CrossSite => "cross-site-request",
            NotFound | UnknownReference => "not-found",
            MissingReference => "missing-reference",
            ContactRequired => "contact-required",
            ReferenceFirst => "reference-first",
            InviteGone => "invite-gone",
            CaseClosed => "case-closed",
            RateLimited(_) => "too-many-requests",
            MethodNotAllowed => "method-not-allowed",
            TusVersion => "tus-version-unsupported",
            TusHeader(_) => "invalid-tus-header",
            UploadLengthRequired => "upload-length-required",
            NotOffsetStream => "not-offset-octet-stream",
            OffsetMismatch => "upload-offset-mismatch",
            UploadLocked => "upload-locked",
            UploadGone => "upload-not-found",
            BeyondLength => "upload-beyond-length",
            PieceTooLarge(_) => "piece-too-large",
            TooManyPieces(_) => "too-many-pieces",
            PieceTooSmall(_) => "piece-too-small",
            KeysRotated => "keys-rotated",
            ReportTooLarge => "report-too-large",
            TooManyUnfinished => "too-many-unfinished-uploads",
            UploadUnfinished => "upload-unfinished",
            ChecksumAlgorithm => "checksum-algorithm-unsupported",
            ChecksumMismatch => "checksum-mismatch",
            Internal => "internal-error",
        }
    }

    /// Seconds a client should wait before retrying, where that helps.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            ApiError::Busy | ApiError::TooManyUploads | ApiError::UploadLocked => Some(30),
            ApiError::TooManySubmissions(s) => Some(u32::try_from(*s).unwrap_or(u32::MAX)),
            ApiError::InsufficientStorage => Some(600),
            ApiError::RateLimited(s) => Some(u32::try_from(*s).unwrap_or(u32::MAX)),
            _ => None,
        }
    }

    /// The key of this error's human message in the page translations (`e_…`).
    pub fn text_key(&self) -> String {
        match self {
            ApiError::UnknownReference => "e_unknown_reference".into(),
            e => format!("e_{}", e.code().replace('-', "_")),
        }
    }

    /// The value a message mentions (a limit, seconds to wait), if any.
    pub fn param(&self) -> Option<String> {
        use ApiError::*;
        match self {
            PartHeaderTooLarge(b)
            | MessageTooLong(b)
            | ContactTooLong(b)
            | CreditTooLong(b)
            | FileTooLarge(b)
            | SubmissionTooLarge(b)
            | UploadTooSlow(b)
            | PieceTooSmall(b)
            | PieceTooLarge(b) => Some(b.to_string()),
            TooManyFiles(n) | TooManyParts(n) | TooManyPieces(n) => Some(n.to_string()),
            RateLimited(s) | TooManySubmissions(s) => Some(s.to_string()),
            _ => None,
        }
    }

    /// Logs an internal failure (which must not contain reporter data) and hides it.
    pub fn internal(context: &str, detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(context, error = %detail, "internal error");
        ApiError::Internal
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::{Refusal, StoreError};
        match e {
            StoreError::Refused(Refusal::InviteGone) => return ApiError::InviteGone,
            StoreError::Refused(Refusal::ParentClosed | Refusal::Purged) => {
                return ApiError::CaseClosed;
            }
            _ => {}
        }
        if let StoreError::Unavailable(why) = &e {
            tracing::warn!(error = %why, "database unavailable");
            return ApiError::Busy;
        }
        if e.is_disk_full() {
            tracing::warn!(error = %e, "disk full during upload");
            ApiError::InsufficientStorage
        } else {
            ApiError::internal("storage", e)
        }
    }
}

/// A blocking task of the portal that panicked or was cancelled.
#[derive(Debug, thiserror::Error)]
#[error("background task failed: {0}")]
pub struct TaskFailed(pub String);

impl From<TaskFailed> for ApiError {
    fn from(e: TaskFailed) -> Self {
        ApiError::internal("task", e)
    }
}

impl From<crate::seal::SealError> for ApiError {
    fn from(e: crate::seal::SealError) -> Self {
        match &e {
            crate::seal::SealError::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
                tracing::warn!("disk full during upload");
                ApiError::InsufficientStorage
            }
            _ => ApiError::internal("seal", e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_kebab_case_and_every_status_is_an_error() {
        let all = [
            ApiError::NotMultipart,
            ApiError::FileTooLarge(ByteSize(1)),
            ApiError::Busy,
            ApiError::InsufficientStorage,
            ApiError::Internal,
            ApiError::BodyTimeout,
            ApiError::UnknownReference,
            ApiError::InviteGone,
            ApiError::CaseClosed,
            ApiError::RateLimited(3),
            ApiError::ReferenceFirst,
            ApiError::MissingReference,
            ApiError::ContactRequired,
            ApiError::TooManySubmissions(60),
            ApiError::TooManyUploads,
            ApiError::UploadTooSlow(ByteSize(8192)),
            ApiError::TusVersion,
            ApiError::TusHeader("Upload-Offset"),
            ApiError::UploadLengthRequired,
            ApiError::NotOffsetStream,
            ApiError::OffsetMismatch,
            ApiError::UploadLocked,
            ApiError::UploadGone,
            ApiError::BeyondLength,
            ApiError::PieceTooLarge(ByteSize(1)),
            ApiError::TooManyPieces(1),
            ApiError::PieceTooSmall(ByteSize(1)),
            ApiError::KeysRotated,
            ApiError::ReportTooLarge,
            ApiError::TooManyUnfinished,
            ApiError::UploadUnfinished,
            ApiError::ChecksumAlgorithm,
            ApiError::ChecksumMismatch,
        ];
        for e in all {
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '-'));
            assert!(e.status() >= 400);
            assert!(e.to_string().ends_with('.'));
        }
    }
}
