//! One-time invitations on the public side: `GET /u/{token}` shows the upload form bound to the
//! invitation; the matching `POST` is `upload::submit_invited`. Used, expired and unknown links
//! all answer 410 alike.

use super::{pages, respond};
use crate::error::ApiError;
use crate::portal::Portal;
use crate::reference::InviteToken;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::Arc;

/// Checks the rate limit and the token; returns (token hash, invitation id) of an open
/// invitation.
pub async fn open_invite(
    req: &HttpRequest,
    portal: &Arc<Portal>,
    token: &str,
) -> Result<([u8; 32], String), ApiError> {
    portal
        .lookups
        .check(super::client_ip(req))
        .map_err(ApiError::RateLimited)?;
    let token = InviteToken::parse(token).ok_or(ApiError::InviteGone)?;
    let p = Arc::clone(portal);
    let t = token.clone();
    let invite = tokio::task::spawn_blocking(move || p.open_invite_blocking(&t))
        .await
        .map_err(|e| ApiError::internal("invite", e))??
        .ok_or(ApiError::InviteGone)?;
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
        Ok(_) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(pages::upload_form(
                &req,
                &portal,
                &format!("/u/{}", token.as_str()),
                "<p class=\"invite\">{{t.invite_banner}}</p>\n",
            )),
        Err(e) => {
            portal.metrics.rejected(e.code());
            respond::error(&req, &e)
        }
    }
}
