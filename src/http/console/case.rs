//! The case page: state, promises with their due dates, history with who did what, the
//! reporter's timeline as the reporter sees it, the team's messages (never their text), and
//! every action as a form (`act`); the bundle download.

use super::auth::require;
use super::pages::{category_text, clock_state_text, clock_text, failed, read, state_text};
use super::view::{CaseFacts, CasePage, Choice, Frame, HistoryRow, PromiseRow, render};
use super::{lang, page};
use crate::adminapi::op::{Audit, Show};
use crate::adminapi::{CaseView, NoQuery};
use crate::config::Role;
use crate::console::Session;
use crate::deadlines::ClockState;
use crate::i18n::{self, Lang, Texts};
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use crate::record::{AuditEvent, Category, Change, Status};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

/// The case page's query: which action was just done.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CaseQuery {
    done: Option<String>,
}

/// `GET /cases/{case}`: the case page.
pub async fn case(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<CaseQuery>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let session = match require(&req, &portal, Role::Handler) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let t = Texts(lang(&req));
    let notice = q.done.as_ref().map(|_| t["c_done"].to_owned());
    case_page(&req, &portal, &session, &path.into_inner(), notice, None).await
}

/// The case page, with a notice (an action done) or an error (an action refused).
pub(super) async fn case_page(
    req: &HttpRequest,
    portal: &web::Data<Portal>,
    session: &Session,
    case: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String, &'static str)>,
) -> HttpResponse {
    let l = lang(req);
    let (case_name, actor) = (case.to_owned(), session.member.actor());
    let loaded = read(portal, move |p| {
        let view = Show::execute(
            p,
            Call {
                actor: actor.clone(),
                case: Some(case_name.clone()),
                request: NoQuery {},
            },
        )?;
        let audit: Vec<AuditEvent> = Audit::execute(
            p,
            Call {
                actor,
                case: None,
                request: NoQuery {},
            },
        )?
        .into_iter()
        .filter(|e| e.case.as_deref() == Some(view.record.case.as_str()))
        .collect();
        let reporter = p.reporter_view_for_team_blocking(&view.record)?;
        Ok((view, audit, reporter))
    })
    .await;
    let (view, audit, reporter) = match loaded {
        Ok(v) => v,
        Err(e) => return failed(req, portal, session, &e),
    };
    let p = portal.get_ref();
    let c = facts(l, p, view, &audit, &reporter);
    let (status, error, error_code) = match error {
        Some((s, text, code)) => (s, Some(text), Some(code)),
        None => (StatusCode::OK, None, None),
    };
    let body = render(&CasePage {
        frame: Frame::new(l, &p.config().org.name, req.path(), Some(session)),
        t: Texts(l),
        c,
        notice,
        error,
        error_code,
    });
    page(status, body)
}

fn facts(
    l: Lang,
    p: &Portal,
    view: CaseView,
    audit: &[AuditEvent],
    reporter: &crate::workflow::ReporterStatus,
) -> CaseFacts {
    let t = Texts(l);
    let r = &view.record;
    let d = &r.disclosure;
    let none = || t["c_none"].to_owned();
    let local = |at: &str| {
        crate::workflow::parse_ts(at)
            .map(|ts| p.policy().local(ts))
            .unwrap_or_else(|| at.to_owned())
    };
    let credit = match (&d.credit, d.credit_requested) {
        (Some(c), _) => i18n::fill(&t["c_credit_published"], &[("name", &c.name)]),
        (None, true) => t["c_credit_requested"].to_owned(),
        (None, false) => t["c_credit_not_requested"].to_owned(),
    };
    let publication = d.publication.as_ref().map_or_else(none, |pb| {
        format!("{} {}", pb.date, pb.url.clone().unwrap_or_default())
            .trim()
            .to_owned()
    });
    let shares: Vec<String> = r
        .history
        .iter()
        .filter_map(|h| {
            h.shared_with
                .as_ref()
                .map(|w| format!("{w} ({})", local(&h.at)))
        })
        .collect();
    let authority = r.authority.as_ref().map_or_else(none, |a| {
        let what = match a.decision {
            crate::record::AuthorityDecision::Notified => &t["c_decision_notified"],
            crate::record::AuthorityDecision::NotRequired => &t["c_decision_not_required"],
        };
        format!("{what} ({})", local(&a.at))
    });
    let told: Vec<usize> = d
        .events
        .iter()
        .filter_map(|e| match e.change {
            Change::Told { bytes } => Some(bytes),
            _ => None,
        })
        .collect();
    let letters = d
        .letters
        .iter()
        .enumerate()
        .map(|(i, letter)| {
            let size = told.get(i).map_or_else(String::new, |b| {
                i18n::fill(&t["c_bytes"], &[("bytes", &b.to_string())])
            });
            (
                local(&letter.at),
                letter.by.clone().unwrap_or_else(|| "–".into()),
                size,
            )
        })
        .collect();
    let history = audit
        .iter()
        .rev()
        .map(|e| HistoryRow {
            at: local(&e.at),
            who: e.actor.clone().unwrap_or_else(|| "–".into()),
            what: if e.detail.is_empty() {
                e.event.as_str().to_owned()
            } else {
                format!("{}: {}", e.event, e.detail)
            },
        })
        .collect();
    let timeline = reporter
        .timeline
        .iter()
        .map(|e| {
            let row = crate::http::pages::status::timeline_row(l, e);
            (row.local, row.text)
        })
        .collect();
    let promises = view
        .clocks
        .iter()
        .map(|c| PromiseRow {
            what: clock_text(l, c.kind).to_owned(),
            due: c.due_local.clone(),
            state: clock_state_text(l, c.state).to_owned(),
            overdue: c.state == ClockState::Overdue,
        })
        .collect();
    CaseFacts {
        case: r.case.clone(),
        category: category_text(l, r.category),
        state: state_text(l, r.status),
        overdue: view.overdue,
        received: view.received_local.clone(),
        assignee: r.assignee.clone().unwrap_or_else(none),
        assignee_value: r.assignee.clone().unwrap_or_default(),
        phases: crate::record::Phase::ALL
            .iter()
            .map(|p| {
                let at = r.handling.entered(*p, &r.received_at);
                (p.as_str().to_owned(), at.map_or_else(none, |a| local(&a)))
            })
            .collect(),
        next_phases: crate::record::Phase::ALL
            .iter()
            .filter(|p| **p > r.handling.current())
            .map(|p| Choice {
                value: p.as_str().to_owned(),
                label: p.as_str().to_owned(),
                selected: false,
            })
            .collect(),
        coordinator: r
            .handling
            .coordinator
            .as_ref()
            .map_or_else(none, ToString::to_string),
        embargo: r.handling.embargo_until.clone().unwrap_or_else(none),
        embargo_value: r.handling.embargo_until.clone().unwrap_or_default(),
        expected_fix: d.expected_fix.clone().unwrap_or_else(none),
        credit,
        publication,
        shares: if shares.is_empty() {
            none()
        } else {
            shares.join(", ")
        },
        authority,
        files: r.file_count().to_string(),
        keys: r
            .key_ids
            .iter()
            .map(|k| k.0.clone())
            .collect::<Vec<_>>()
            .join(" "),
        breach: r.category == Category::DataBreach,
        purged: r.purged_at.is_some(),
        promises,
        history,
        timeline,
        letters,
        states: Status::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().into(),
                label: state_text(l, *s),
                selected: *s == r.status,
            })
            .collect(),
    }
}

/// `GET /cases/{case}/export`: the case's bundle (ciphertext only), as a download.
pub async fn export(
    req: HttpRequest,
    path: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let session = match require(&req, &portal, Role::Handler) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let case = path.into_inner();
    let actor = session.member.actor();
    let mut res = crate::http::admin::export_case(&case, portal, move || actor).await;
    if res.status().is_success() {
        let name: String = case
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if let Ok(v) =
            header::HeaderValue::from_str(&format!("attachment; filename=\"{name}.tar\""))
        {
            res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
    }
    res
}
