//! `POST /api/v1/submissions`: checks the request, walks the multipart parts and hands every
//! byte to the domain's `Intake`. Reads with an idle timeout and never trusts a part's size.

use super::respond;
use crate::config::{ByteSize, Limits};
use crate::error::ApiError;
use crate::gate::Pace;
use crate::intake::{Fields, Intake, Kind, Receipt};
use crate::portal::Portal;
use crate::record::{Category, Record};
use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, mime, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// After a refusal, read at most this much more of the body so the client sees the answer
/// instead of a reset connection.
const DRAIN_MAX: u64 = 8 << 20;
/// How long draining may take.
const DRAIN_TIME: Duration = Duration::from_secs(3);
/// Longest content type kept from a part header.
const MAX_CONTENT_TYPE: usize = 255;
/// The longest `upload` field (a resumable upload's id or its URL).
const MAX_UPLOAD_FIELD: usize = 512;
/// Text parts a form may have besides its files.
const TEXT_FIELDS: usize = 6;

/// What the form may contain, by endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// A new report: category, message, contact, credit, acknowledge, files.
    Report,
    /// More files for a case: reference (first), message, files.
    FollowUp,
}

impl Form {
    fn fields(self) -> &'static str {
        match self {
            Form::Report => "category, message, contact, credit, acknowledge, file and upload",
            Form::FollowUp => "reference, message, file and upload",
        }
    }
}

/// `POST /api/v1/submissions`: a new report.
pub async fn submit(
    req: HttpRequest,
    multipart: Multipart,
    portal: web::Data<Portal>,
) -> HttpResponse {
    handle(req, multipart, portal, Form::Report).await
}

/// `POST /u/{token}`: a new report through a one-time invitation.
pub async fn submit_invited(
    req: HttpRequest,
    token: web::Path<String>,
    multipart: Multipart,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let portal = portal.into_inner();
    let result = async {
        let hash = super::invite::open_invite(&req, &portal, &token).await?;
        let kind = Kind::Invite(hash.0, hash.1);
        receive(&req, multipart, Arc::clone(&portal), Form::Report, kind).await
    }
    .await;
    answer(&req, &portal, result)
}

/// `POST /api/v1/submissions/files`: more files for an existing case.
pub async fn add_files(
    req: HttpRequest,
    multipart: Multipart,
    portal: web::Data<Portal>,
) -> HttpResponse {
    handle(req, multipart, portal, Form::FollowUp).await
}

async fn handle(
    req: HttpRequest,
    multipart: Multipart,
    portal: web::Data<Portal>,
    form: Form,
) -> HttpResponse {
    let portal = portal.into_inner();
    let result = receive(&req, multipart, Arc::clone(&portal), form, Kind::New).await;
    answer(&req, &portal, result)
}

fn answer(req: &HttpRequest, portal: &Portal, result: Result<Receipt, ApiError>) -> HttpResponse {
    match result {
        Ok(receipt) => {
            tracing::info!(files = receipt.files.len(), category = %receipt.category, "submission stored");
            respond::receipt(req, &receipt)
        }
        Err(e) => {
            tracing::info!(code = e.code(), "submission refused");
            portal.metrics().rejected(e.code());
            respond::error(req, &e)
        }
    }
}

/// `multipart` comes from the extractor so that `MultipartConfig` (the part-header bound)
/// applies; it reads nothing until polled.
async fn receive(
    req: &HttpRequest,
    mut multipart: Multipart,
    portal: Arc<Portal>,
    form: Form,
    kind: Kind,
) -> Result<Receipt, ApiError> {
    let declared = check_request(req, &portal.config().limits)?;
    let peer = super::client_ip(req);
    let lang = Some(super::pages::lang_of(req));
    ingest(&mut multipart, portal, declared, form, kind, peer, lang).await
}

/// Reads an admitted multipart body into a new submission and commits it.
async fn ingest(
    multipart: &mut Multipart,
    portal: Arc<Portal>,
    declared: Option<u64>,
    form: Form,
    kind: Kind,
    peer: Option<IpAddr>,
    lang: Option<crate::i18n::Lang>,
) -> Result<Receipt, ApiError> {
    let limits = portal.config().limits.clone();
    let mut intake = Intake::begin(&portal, declared, peer).await?;
    // Counted once admitted: a reporter retrying through 503 or 507 keeps their allowance.
    // Follow-ups count too: each one is a record of its own.
    portal.admit_submission(peer)?;
    intake.set_kind(kind);
    let mut fields = Fields {
        lang,
        ..Fields::default()
    };
    let ctx = Walk {
        limits: &limits,
        form,
        portal: &portal,
        peer,
    };
    let walked = walk(multipart, &mut intake, &mut fields, &ctx).await;
    let walked = walked.and_then(|()| {
        if form == Form::FollowUp && !matches!(intake.kind(), Kind::FollowUp(_)) {
            Err(ApiError::MissingReference)
        } else {
            Ok(())
        }
    });
    match walked {
        Ok(()) => intake.commit(fields).await,
        Err(e) => {
            drop(intake);
            // Refusals of what the body holds: read a bounded rest so the client sees them.
            if matches!(e.status(), 413 | 409) || e.status() == 400 && e != ApiError::Incomplete {
                drain(multipart, declared).await;
            }
            Err(e)
        }
    }
}

/// What `walk` needs besides the body.
struct Walk<'a> {
    limits: &'a Limits,
    form: Form,
    portal: &'a Arc<Portal>,
    peer: Option<IpAddr>,
}

/// Refuses cross-site requests. Fetch Metadata decides when the browser sends it; otherwise a
/// foreign Origin is refused. `Origin: null` alone is not: with `Referrer-Policy: no-referrer`
/// browsers send it for this portal's own plain form posts.
pub(super) fn check_same_site(req: &HttpRequest) -> Result<(), ApiError> {
    let h = req.headers();
    match h.get("sec-fetch-site").map(|v| v.as_bytes()) {
        Some(b"cross-site") => return Err(ApiError::CrossSite),
        Some(_) => {}
        None => {
            if let Some(origin) = h.get(header::ORIGIN).and_then(|o| o.to_str().ok())
                && origin != "null"
            {
                let host = req.connection_info().host().to_owned();
                let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
                if origin_host != host {
                    return Err(ApiError::CrossSite);
                }
            }
        }
    }
    Ok(())
}

/// Refuses before reading the body: compressed bodies, cross-site posts, non-multipart bodies,
/// and a declared length that cannot fit the limits. Returns the declared length.
fn check_request(req: &HttpRequest, limits: &Limits) -> Result<Option<u64>, ApiError> {
    let h = req.headers();
    if let Some(enc) = h.get(header::CONTENT_ENCODING)
        && !enc.as_bytes().eq_ignore_ascii_case(b"identity")
    {
        return Err(ApiError::ContentEncoding);
    }
    check_same_site(req)?;
    // Only the media type decides 415; a broken boundary parameter or body is a malformed
    // multipart form (400), see `multipart_error`.
    let is_form = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("multipart/form-data")
        });
    if !is_form {
        return Err(ApiError::NotMultipart);
    }
    // The same check of the boundary parameter as actix-multipart's, made here: after its own
    // refusal of the header it must not be polled again, so the body could not be drained.
    let boundary = req.mime_type().ok().flatten().is_some_and(|m| {
        m.get_param(mime::BOUNDARY)
            .is_some_and(|b| !b.as_str().is_empty())
    });
    if !boundary {
        return Err(ApiError::MalformedMultipart);
    }
    let declared: Option<u64> = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    if let Some(len) = declared {
        let framing = (limits.max_files + TEXT_FIELDS) as u64 * limits.max_part_header_bytes.0;
        let ceiling = limits
            .max_submission_size
            .0
            .saturating_add(limits.max_message_bytes as u64)
            .saturating_add(limits.max_contact_bytes as u64)
            .saturating_add(limits.max_credit_bytes as u64)
            .saturating_add(framing);
        if len > ceiling {
            return Err(ApiError::SubmissionTooLarge(limits.max_submission_size));
        }
    }
    Ok(declared)
}

/// Reads every part into `intake` (files) or `fields` (text).
async fn walk(
    multipart: &mut Multipart,
    intake: &mut Intake,
    fields: &mut Fields,
    ctx: &Walk<'_>,
) -> Result<(), ApiError> {
    let limits = ctx.limits;
    // The admission's pace: the same idle timeout and minimum rate on every upload path.
    let pace = intake.pace();
    let idle = &*pace;
    let max_parts = limits.max_files + TEXT_FIELDS;
    let header_limit = limits.max_part_header_bytes;
    let mut parts = 0usize;
    let (mut seen_category, mut seen_message, mut seen_contact) = (false, false, false);
    let (mut seen_reference, mut seen_acknowledge, mut seen_credit) = (false, false, false);
    let unknown = |name: &str| {
        let shown: String = name
            .chars()
            .take(32)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        ApiError::UnknownField(format!("\"{shown}\""), ctx.form.fields())
    };
    while let Some(field) = idle.within(multipart.next()).await? {
        // Part headers count towards the rate too (roughly: their size is not exposed).
        idle.count(64);
        let mut field = field.map_err(|e| multipart_error(e, header_limit))?;
        parts += 1;
        if parts > max_parts {
            return Err(ApiError::TooManyParts(max_parts));
        }
        let name = field.name().unwrap_or_default().to_owned();
        match (ctx.form, name.as_str()) {
            (Form::FollowUp, "file") if !seen_reference => return Err(ApiError::ReferenceFirst),
            (Form::FollowUp, "reference") => {
                once(&mut seen_reference, "reference")?;
                let text = read_text(&mut field, 64, idle, header_limit)
                    .await?
                    .ok_or(ApiError::UnknownReference)?;
                let record = follow_up_target(ctx, text).await?;
                intake.set_kind(Kind::FollowUp(Box::new(record)));
            }
            (Form::Report, "acknowledge") => {
                once(&mut seen_acknowledge, "acknowledge")?;
                let text = read_text(&mut field, 16, idle, header_limit).await?;
                fields.acknowledge = text.is_some_and(|t| {
                    matches!(
                        t.trim().to_ascii_lowercase().as_str(),
                        "on" | "yes" | "true" | "1"
                    )
                });
            }
            (_, "file") => {
                // Refuse before the bytes when the form already shows the contact is missing.
                if seen_contact
                    && fields.contact.trim().is_empty()
                    && fields
                        .category
                        .is_some_and(|c| ctx.portal.contact_required(c))
                {
                    return Err(ApiError::ContactRequired);
                }
                // Browsers send `"` in a file name as `%22` (the HTML form encoding).
                let filename = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or_default()
                    .replace("%22", "\"");
                let mut content_type = field
                    .content_type()
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                content_type.truncate(MAX_CONTENT_TYPE);
                let first = next_chunk(&mut field, idle, header_limit).await?;
                // A browser sends an empty, unnamed part for a file input left empty.
                if filename.is_empty() && first.is_none() {
                    continue;
                }
                intake.start_file(&filename, &content_type)?;
                // A field must not be polled again after it ended (actix-multipart panics).
                if let Some(chunk) = first {
                    intake.push(chunk).await?;
                    while let Some(chunk) = next_chunk(&mut field, idle, header_limit).await? {
                        intake.push(chunk).await?;
                    }
                }
                intake.end_file().await?;
            }
            (Form::FollowUp, "upload") if !seen_reference => return Err(ApiError::ReferenceFirst),
            (_, "upload") => {
                // A finished resumable upload, named by its id or by its whole URL.
                let text = read_text(&mut field, MAX_UPLOAD_FIELD, idle, header_limit)
                    .await?
                    .ok_or(ApiError::UploadGone)?;
                let id = text.trim().rsplit('/').next().unwrap_or_default();
                intake.adopt_upload(id).await?;
            }
            (Form::Report, "category") => {
                once(&mut seen_category, "category")?;
                let text = read_text(&mut field, 64, idle, header_limit)
                    .await?
                    .ok_or(ApiError::InvalidCategory)?;
                let text = text.trim();
                fields.category = if text.is_empty() {
                    None
                } else {
                    Some(
                        text.parse::<Category>()
                            .map_err(|()| ApiError::InvalidCategory)?,
                    )
                };
            }
            (_, "message") => {
                once(&mut seen_message, "message")?;
                fields.message =
                    read_text(&mut field, limits.max_message_bytes, idle, header_limit)
                        .await?
                        .ok_or(ApiError::MessageTooLong(ByteSize(
                            limits.max_message_bytes as u64,
                        )))?;
            }
            (Form::Report, "contact") => {
                once(&mut seen_contact, "contact")?;
                fields.contact =
                    read_text(&mut field, limits.max_contact_bytes, idle, header_limit)
                        .await?
                        .ok_or(ApiError::ContactTooLong(ByteSize(
                            limits.max_contact_bytes as u64,
                        )))?;
            }
            (Form::Report, "credit") => {
                once(&mut seen_credit, "credit")?;
                fields.credit = read_text(&mut field, limits.max_credit_bytes, idle, header_limit)
                    .await?
                    .ok_or(ApiError::CreditTooLong(ByteSize(
                        limits.max_credit_bytes as u64,
                    )))?;
            }
            (_, other) => return Err(unknown(other)),
        }
    }
    Ok(())
}

/// The open case a follow-up's reference names, after the rate limit.
async fn follow_up_target(ctx: &Walk<'_>, reference: String) -> Result<Record, ApiError> {
    ctx.portal
        .lookups()
        .check(ctx.peer)
        .map_err(ApiError::RateLimited)?;
    let reference =
        crate::reference::Reference::parse(&reference).map_err(|_| ApiError::UnknownReference)?;
    let record = ctx
        .portal
        .case_by_reference(&reference)
        .await?
        .ok_or(ApiError::UnknownReference)?
        .record;
    if record.status.is_final() {
        return Err(ApiError::CaseClosed);
    }
    Ok(record)
}

fn once(seen: &mut bool, name: &'static str) -> Result<(), ApiError> {
    if std::mem::replace(seen, true) {
        Err(ApiError::DuplicateField(name))
    } else {
        Ok(())
    }
}

async fn next_chunk(
    field: &mut Field,
    idle: &Pace,
    header_limit: ByteSize,
) -> Result<Option<Bytes>, ApiError> {
    match idle.within(field.next()).await? {
        None => Ok(None),
        Some(Ok(b)) => {
            idle.count(b.len());
            Ok(Some(b))
        }
        Some(Err(e)) => Err(multipart_error(e, header_limit)),
    }
}

/// Reads a text field; `None` when it exceeds `max` bytes.
async fn read_text(
    field: &mut Field,
    max: usize,
    idle: &Pace,
    header_limit: ByteSize,
) -> Result<Option<String>, ApiError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = next_chunk(field, idle, header_limit).await? {
        if buf.len() + chunk.len() > max {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf.to_vec())
        .map(Some)
        .map_err(|_| ApiError::InvalidText)
}

fn multipart_error(e: MultipartError, header_limit: ByteSize) -> ApiError {
    use actix_web::error::PayloadError;
    match e {
        MultipartError::Payload(PayloadError::Overflow) => {
            ApiError::PartHeaderTooLarge(header_limit)
        }
        // The connection broke: the body did not arrive.
        MultipartError::Payload(_) => ApiError::Incomplete,
        // The body arrived whole (or the header is wrong) but is no well-formed form: no or an
        // unusable boundary parameter, a body without (or with a damaged) boundary, no final
        // boundary. `check_request` already made sure the media type is multipart/form-data.
        _ => ApiError::MalformedMultipart,
    }
}

/// Reads and discards a bounded rest of the body so a refusal reaches the client.
async fn drain(multipart: &mut Multipart, declared: Option<u64>) {
    if declared.is_some_and(|d| d > DRAIN_MAX * 4) {
        return;
    }
    let deadline = tokio::time::Instant::now() + DRAIN_TIME;
    let mut read = 0u64;
    let _ = tokio::time::timeout_at(deadline, async {
        while let Some(Ok(mut field)) = multipart.next().await {
            while let Some(Ok(chunk)) = field.next().await {
                read += chunk.len() as u64;
                if read > DRAIN_MAX {
                    return;
                }
            }
        }
    })
    .await;
}

/// Fuzzing entry point: runs one raw multipart body (with the given boundary) through the whole
/// upload path, commit included, on a single-threaded runtime.
#[cfg(feature = "fuzzing")]
pub fn fuzz_ingest(
    portal: Arc<Portal>,
    boundary: &str,
    body: Vec<u8>,
) -> Result<Receipt, ApiError> {
    let mut headers = actix_web::http::header::HeaderMap::new();
    let ct = format!("multipart/form-data; boundary={boundary}");
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&ct) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let stream = futures_util::stream::iter(
        body.chunks(4096)
            .map(|c| Ok::<Bytes, actix_web::error::PayloadError>(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    actix_web::rt::System::new().block_on(async move {
        let mut multipart = Multipart::new(&headers, stream);
        ingest(
            &mut multipart,
            portal,
            None,
            Form::Report,
            Kind::New,
            None,
            None,
        )
        .await
    })
}
