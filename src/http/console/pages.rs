//! The console's pages: the inbox, the case page, the admin's tables (audit trail, keys,
//! invitations) and the downloads (a case's bundle, the register). Every read runs the same
//! typed operation as the CLI, on the blocking pool.

use super::auth::require;
use super::view::{
    CaseFacts, CasePage, Choice, Frame, HistoryRow, InboxPage, InboxRow, PromiseRow, TablePage,
    render,
};
use super::{lang, page};
use crate::adminapi::op::{Audit, Invites, List, Show};
use crate::adminapi::{CaseView, ListFilter, NoQuery};
use crate::config::Role;
use crate::console::Session;
use crate::deadlines::{ClockKind, ClockState};
use crate::i18n::{self, Lang, Texts};
use crate::ops::{Call, Execute};
use crate::portal::{Portal, PortalError};
use crate::record::{AuditEvent, Category, Change, Status};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::Arc;

/// Rows on one page of the inbox.
const PAGE_ROWS: usize = 100;

/// Most audit entries the audit page shows (newest first; `admin audit` has them all).
const AUDIT_ROWS: usize = 500;

pub(super) fn state_text(lang: Lang, s: Status) -> String {
    i18n::t(lang, &format!("state_{}", s.as_str().replace('-', "_")))
}

pub(super) fn category_text(lang: Lang, c: Category) -> String {
    i18n::t(lang, &format!("cat_{}", c.as_str().replace('-', "_")))
}

fn clock_text(lang: Lang, kind: ClockKind) -> &'static str {
    i18n::text(
        lang,
        match kind {
            ClockKind::Acknowledge => "promise_acknowledge",
            ClockKind::Assess => "promise_assess",
            ClockKind::Resolve => "promise_resolve",
            ClockKind::NotifyAuthority => "c_promise_authority",
        },
    )
}

fn clock_state_text(lang: Lang, s: ClockState) -> &'static str {
    i18n::text(
        lang,
        match s {
            ClockState::Met => "c_clock_met",
            ClockState::Late => "c_clock_late",
            ClockState::Running => "c_clock_running",
            ClockState::Overdue => "c_clock_overdue",
        },
    )
}

/// Runs a read for `session`'s member on the blocking pool.
async fn read<T: Send + 'static>(
    portal: &web::Data<Portal>,
    f: impl FnOnce(&Portal) -> Result<T, PortalError> + Send + 'static,
) -> Result<T, PortalError> {
    let p: Arc<Portal> = portal.clone().into_inner();
    p.blocking(f).await
}

/// A failed read as a page (the same codes as the admin protocol).
fn failed(req: &HttpRequest, portal: &Portal, session: &Session, e: &PortalError) -> HttpResponse {
    let code = crate::ops::error::code_of(e);
    let l = lang(req);
    let t = Texts(l);
    let text = match code {
        crate::adminapi::ErrorCode::NotFound => t["c_no_such_case"].to_owned(),
        _ => e.to_string(),
    };
    page(
        StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        render(&super::view::MessagePage {
            frame: Frame::new(l, &portal.config().org.name, req.path(), Some(session)),
            t,
            title: t["c_refused"].to_owned(),
            text,
            error: true,
            code: Some(code.as_str()),
            next: Some((format!("/?lang={l}"), t["c_back_inbox"].to_owned())),
        }),
    )
}

/// The inbox's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct InboxQuery {
    state: Option<String>,
    category: Option<String>,
    assignee: Option<String>,
    case: Option<String>,
    page: Option<usize>,
}

/// `GET /`: the inbox; open cases, the nearest deadline first.
pub async fn inbox(
    req: HttpRequest,
    q: web::Query<InboxQuery>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let session = match require(&req, &portal, Role::Handler) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let q = q.into_inner();
    let l = lang(&req);
    let t = Texts(l);
    let find = q.case.clone().unwrap_or_default().trim().to_owned();
    let mut notice = None;
    if !find.is_empty() {
        let (case, actor) = (find.clone(), session.member.actor());
        let call = Call {
            actor,
            case: Some(case),
            request: NoQuery {},
        };
        match read(&portal, move |p| Show::execute(p, call)).await {
            Ok(v) => {
                return HttpResponse::SeeOther()
                    .insert_header((
                        header::LOCATION,
                        format!("/cases/{}?lang={l}", v.record.case),
                    ))
                    .finish();
            }
            Err(_) => notice = Some(i18n::fill(&t["c_find_none"], &[("case", &find)])),
        }
    }
    let state = q.state.clone().unwrap_or_else(|| "open".into());
    let status: Option<Status> =
        serde_json::from_value(serde_json::Value::String(state.clone())).ok();
    let category: Option<Category> = q
        .category
        .as_deref()
        .and_then(|c| serde_json::from_value(serde_json::Value::String(c.into())).ok());
    let filter = ListFilter {
        status,
        category,
        ..ListFilter::default()
    };
    let call = Call {
        actor: session.member.actor(),
        case: None,
        request: filter,
    };
    let policy_now = read(&portal, move |p| {
        let list = List::execute(p, call)?;
        let now = p.now();
        Ok((list, p.policy().local(now)))
    })
    .await;
    let (mut cases, now_local) = match policy_now {
        Ok(v) => v,
        Err(e) => return failed(&req, &portal, &session, &e),
    };
    let assignee = q.assignee.clone().unwrap_or_default().trim().to_owned();
    cases.retain(|v| {
        let open = !v.record.status.is_final();
        let by_state = match state.as_str() {
            "open" => open,
            "closed" => !open,
            _ => true,
        };
        let by_assignee = assignee.is_empty()
            || v.record
                .assignee
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(&assignee));
        by_state && by_assignee
    });
    cases.sort_by(|a, b| match (&a.next_due, &b.next_due) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.record.received_at.cmp(&a.record.received_at),
    });
    let total = cases.len();
    let overdue = cases.iter().filter(|v| v.overdue).count();
    let page_no = q.page.unwrap_or(0);
    let today = now_local.get(..10).unwrap_or_default().to_owned();
    let p = portal.get_ref();
    let rows: Vec<InboxRow> = cases
        .iter()
        .skip(page_no * PAGE_ROWS)
        .take(PAGE_ROWS)
        .map(|v| inbox_row(l, p, v, &today))
        .collect();
    let more = (total > (page_no + 1) * PAGE_ROWS).then(|| {
        let pairs = [
            ("state", state.clone()),
            ("category", q.category.clone().unwrap_or_default()),
            ("assignee", assignee.clone()),
            ("page", (page_no + 1).to_string()),
            ("lang", l.to_string()),
        ];
        format!(
            "/?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    });
    let mut states = vec![
        Choice {
            value: "open".into(),
            label: t["c_state_open"].to_owned(),
            selected: state == "open",
        },
        Choice {
            value: "closed".into(),
            label: t["c_state_closed"].to_owned(),
            selected: state == "closed",
        },
        Choice {
            value: "all".into(),
            label: t["c_state_all"].to_owned(),
            selected: state == "all",
        },
    ];
    states.extend(Status::ALL.iter().map(|s| Choice {
        value: s.as_str().into(),
        label: state_text(l, *s),
        selected: state == s.as_str(),
    }));
    let mut categories = vec![Choice {
        value: String::new(),
        label: t["c_category_all"].to_owned(),
        selected: category.is_none(),
    }];
    categories.extend(Category::ALL.iter().map(|c| Choice {
        value: c.as_str().into(),
        label: category_text(l, *c),
        selected: category == Some(*c),
    }));
    let heading = if state == "closed" {
        t["c_closed"].to_owned()
    } else {
        t["c_inbox"].to_owned()
    };
    let body = render(&InboxPage {
        frame: Frame::new(l, &p.config().org.name, "/", Some(&session)),
        t,
        caption: heading.clone(),
        heading,
        summary: i18n::fill(
            &t["c_summary"],
            &[
                ("total", &total.to_string()),
                ("overdue", &overdue.to_string()),
            ],
        ),
        notice,
        find,
        assignee,
        states,
        categories,
        rows,
        more,
    });
    page(StatusCode::OK, body)
}

fn inbox_row(l: Lang, p: &Portal, v: &CaseView, today: &str) -> InboxRow {
    let next_due = v
        .next_due
        .as_deref()
        .and_then(crate::workflow::parse_ts)
        .map(|t| p.policy().local(t))
        .unwrap_or_default();
    InboxRow {
        case: v.record.case.clone(),
        category: category_text(l, v.record.category),
        state: state_text(l, v.record.status),
        received: v.received_local.clone(),
        due_today: !v.overdue && !today.is_empty() && next_due.starts_with(today),
        next_due,
        overdue: v.overdue,
        assignee: v.record.assignee.clone().unwrap_or_default(),
    }
}

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
    if let Err(answer) = require(&req, &portal, Role::Handler) {
        return *answer;
    }
    let case = path.into_inner();
    let mut res = crate::http::admin::export_case(&case, portal).await;
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

/// `GET /register.csv`: the register, as a download.
pub async fn register(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Handler) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    match read(&portal, |p| p.register_blocking()).await {
        Ok(rows) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"register.csv\"",
            ))
            .body(crate::workflow::register_csv(&rows)),
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

fn table(
    req: &HttpRequest,
    portal: &Portal,
    session: &Session,
    heading: &'static str,
    intro: &'static str,
    columns: &[&'static str],
    rows: Vec<Vec<String>>,
) -> HttpResponse {
    let l = lang(req);
    let t = Texts(l);
    page(
        StatusCode::OK,
        render(&TablePage {
            frame: Frame::new(l, &portal.config().org.name, req.path(), Some(session)),
            t,
            heading: t[heading].to_owned(),
            intro: t[intro].to_owned(),
            columns: columns.iter().map(|c| t[c].to_owned()).collect(),
            rows,
        }),
    )
}

/// `GET /audit` (admins): the audit trail, newest first.
pub async fn audit(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Admin) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let actor = session.member.actor();
    let events = read(&portal, move |p| {
        Audit::execute(
            p,
            Call {
                actor,
                case: None,
                request: NoQuery {},
            },
        )
    })
    .await;
    match events {
        Ok(events) => {
            let rows = events
                .iter()
                .rev()
                .take(AUDIT_ROWS)
                .map(|e| {
                    vec![
                        e.at.clone(),
                        e.actor.clone().unwrap_or_else(|| "–".into()),
                        e.event.as_str().to_owned(),
                        e.case.clone().unwrap_or_default(),
                        e.key_id.as_ref().map(|k| k.0.clone()).unwrap_or_default(),
                        e.detail.clone(),
                    ]
                })
                .collect();
            table(
                &req,
                &portal,
                &session,
                "c_audit",
                "c_audit_intro",
                &[
                    "c_when",
                    "c_who",
                    "c_what",
                    "c_col_case",
                    "c_key",
                    "c_detail",
                ],
                rows,
            )
        }
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

/// `GET /keys` (admins): the keys and what each reads, read-only.
pub async fn keys(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Admin) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    match read(&portal, |p| p.key_usage_blocking()).await {
        Ok(keys) => {
            let t = Texts(lang(&req));
            let rows = keys
                .iter()
                .map(|k| {
                    vec![
                        k.info.id.0.clone(),
                        k.info.label.clone().unwrap_or_default(),
                        if k.active {
                            t["c_key_active"].to_owned()
                        } else {
                            k.info.retired_at.clone().unwrap_or_default()
                        },
                        k.info.first_seen.clone(),
                        k.readable.to_string(),
                        k.sole.to_string(),
                    ]
                })
                .collect();
            table(
                &req,
                &portal,
                &session,
                "c_keys",
                "c_keys_intro",
                &[
                    "c_key",
                    "c_label",
                    "c_key_state",
                    "c_first_seen",
                    "c_readable",
                    "c_sole",
                ],
                rows,
            )
        }
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

/// `GET /invites` (admins): every one-time upload link (never the link itself).
pub async fn invites(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Admin) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let actor = session.member.actor();
    let all = read(&portal, move |p| {
        Invites::execute(
            p,
            Call {
                actor,
                case: None,
                request: NoQuery {},
            },
        )
    })
    .await;
    match all {
        Ok(list) => {
            let rows = list
                .iter()
                .map(|i| {
                    vec![
                        i.id.clone(),
                        i.created_at.clone(),
                        i.expires_at.clone(),
                        i.consumed_at.clone().unwrap_or_default(),
                        i.case.clone().unwrap_or_default(),
                        i.note.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                &req,
                &portal,
                &session,
                "c_invites",
                "c_invites_intro",
                &[
                    "c_invite",
                    "c_created",
                    "c_expires",
                    "c_used",
                    "c_col_case",
                    "c_note",
                ],
                rows,
            )
        }
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

/// `GET /static/console.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../../../web/console.css"))
}
