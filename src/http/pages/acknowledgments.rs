//! `GET /acknowledgments`: the reporters who asked to be named and whose credit the team
//! published, by month of publication (newest first).

use super::{Ctx, Layout, html, render};
use crate::cases::PublishedCredit;
use crate::http::i18n::Texts;
use crate::portal::Portal;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

/// `web/acknowledgments.html`
#[derive(Template)]
#[template(path = "acknowledgments.html")]
pub(super) struct AcknowledgmentsPage<'a> {
    pub(super) t: Texts,
    pub(super) layout: Layout<'a>,
    /// Months, newest first, each with its names in publication order.
    pub(super) months: Vec<(String, Vec<String>)>,
}

/// Groups credits (already newest month first) by month.
pub(super) fn by_month(credits: &[PublishedCredit]) -> Vec<(String, Vec<String>)> {
    let mut months: Vec<(String, Vec<String>)> = Vec::new();
    for c in credits {
        match months.last_mut() {
            Some((m, names)) if *m == c.month => names.push(c.name.clone()),
            _ => months.push((c.month.clone(), vec![c.name.clone()])),
        }
    }
    months
}

/// `GET /acknowledgments`
pub async fn acknowledgments(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let credits = portal
        .into_inner()
        .blocking(|p| {
            p.published_credits_blocking()
                .map_err(crate::error::ApiError::from)
        })
        .await;
    match credits {
        Ok(credits) => {
            let ctx = Ctx::of(&req);
            html(render(&AcknowledgmentsPage {
                t: Texts(ctx.lang),
                layout: ctx.layout(true),
                months: by_month(&credits),
            }))
        }
        Err(e) => super::page_error(&req, &e),
    }
}
