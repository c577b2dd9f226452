//! One-time invitations on the public side: `GET /u/{token}` shows the upload form bound to the
//! invitation; the matching `POST` is `upload::submit_invited`. Used, expired and unknown links
//! all answer 410 alike.

use super::{pages, respond};
use crate::error::ApiError;
use crate::portal::Portal;
use crate::reference::InviteToken;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::Arc;

/// Checks the token (misses are rate-limited); returns (token hash, invitation id) of an open
/// invitation.
pub async fn open_invite(
    req: &HttpRequest,
    portal: &Arc<Portal>,
    token: &str,
) -> Result<([u8; 32], String), ApiError> {
    // Only misses count against the limit: a valid 160-bit link cannot be guessed, and a
    // reporter reloading their own link must not be locked out.
    let miss = || match portal.lookups().check(super::client_ip(req)) {
        Ok(()) => ApiError::InviteGone,
        Err(wait) => ApiError::RateLimited(wait),
    };
    let token = InviteToken::parse(token).ok_or_else(miss)?;
    let t = token.clone();
    let invite = portal
        .blocking(move |p| p.open_invite_blocking(&t).map_err(ApiError::from))
        .await?
        .ok_or_else(miss)?;
    Ok((token.hash(), invite.id))
}

/// `GET /u/{token}`
pub async fn page(
    req: HttpRequest,
    token: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let portal = portal.into_inner();
    match open_invite(&req, &portal, &token).await {
        Ok(_) => pages::html(pages::upload_form(
            &req,
            &format!("/u/{}", token.as_str()),
            true,
        )),
        Err(e) => {
            portal.metrics().rejected(e.code());
            respond::error(&req, &e)
        }
    }
}
