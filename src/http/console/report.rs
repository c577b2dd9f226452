//! `GET /report?year=2026`: the yearly account (`op::Report`, the same figures as `admin
//! report`), with a chart of the promises kept and broken per month drawn on the server as SVG
//! (no script; the numbers stand beside it in a table).

use super::auth::require;
use super::pages::{failed, read};
use super::view::{Frame, ReportPage, render};
use super::{lang, page};
use crate::adminapi::op::Report;
use crate::adminapi::{YearQuery, YearReport};
use crate::config::Role;
use crate::i18n::Texts;
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::fmt::Write;

/// The query of the page.
#[derive(Debug, serde::Deserialize)]
pub struct ReportQuery {
    /// The year; default this year.
    pub year: Option<i16>,
}

/// The chart's size and bars (SVG user units).
const WIDTH: u32 = 720;
const HEIGHT: u32 = 240;
const TOP: u32 = 20;
const BOTTOM: u32 = 40;
const LEFT: u32 = 40;

/// `GET /report`
pub async fn report(
    req: HttpRequest,
    query: web::Query<ReportQuery>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let session = match require(&req, &portal, Role::Handler) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let year = query
        .year
        .unwrap_or_else(|| portal.policy().calendar.local_month(portal.now()).0);
    let actor = session.member.actor();
    let result = read(&portal, move |p| {
        Report::execute(
            p,
            Call {
                actor,
                case: None,
                request: YearQuery { year },
            },
        )
    })
    .await;
    match result {
        Ok(r) => {
            let l = lang(&req);
            let t = Texts(l);
            page(
                StatusCode::OK,
                render(&ReportPage {
                    frame: Frame::new(l, &portal.config().org.name, req.path(), Some(&session)),
                    t,
                    chart: chart(&r, &t["c_report_chart_title"]),
                    previous: year - 1,
                    next: year + 1,
                    report: r,
                }),
            )
        }
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

/// Bars of kept (green) and broken (red) promises per month, with an accessible name; every
/// attribute a presentation attribute, so the strict CSP (no inline style) holds.
pub fn chart(r: &YearReport, title: &str) -> String {
    let max = r
        .promises_by_month
        .iter()
        .map(|m| m.kept.max(m.broken))
        .max()
        .unwrap_or(0)
        .max(1);
    let plot = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / 12;
    let bar = slot / 3;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"100%\" role=\"img\" aria-labelledby=\"chart-title\">\
         <title id=\"chart-title\">{}</title>",
        title
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    );
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{}\" x2=\"{WIDTH}\" y2=\"{}\" stroke=\"#555\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">{max}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">0</text>",
        TOP + plot,
        TOP + plot,
        LEFT - 6,
        TOP + 12,
        LEFT - 6,
        TOP + plot
    );
    for (i, m) in r.promises_by_month.iter().enumerate() {
        let x = LEFT + slot * i as u32 + slot / 6;
        for (n, (value, colour)) in [(m.kept, "#1b7f3b"), (m.broken, "#b3261e")]
            .into_iter()
            .enumerate()
        {
            let h = plot * value / max;
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{bar}\" height=\"{h}\" fill=\"{colour}\"/>",
                x + bar * n as u32,
                TOP + plot - h
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\">{}</text>",
            x + bar,
            HEIGHT - BOTTOM + 16,
            m.month.get(5..).unwrap_or_default()
        );
    }
    svg.push_str("</svg>");
    svg
}
