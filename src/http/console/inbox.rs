//! The inbox: open cases, the nearest deadline first, overdue and due-today marked; filters
//! for state, category and assignee; find by case number; closed cases one click away.

use super::auth::require;
use super::pages::{category_text, failed, read, state_text};
use super::view::{Choice, Frame, InboxPage, InboxRow, render};
use super::{lang, page};
use crate::adminapi::op::{List, Show};
use crate::adminapi::{CaseView, ListFilter, NoQuery};
use crate::config::Role;
use crate::i18n::{self, Lang, Texts};
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use crate::record::{Category, Status};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

/// Rows on one page of the inbox.
const PAGE_ROWS: usize = 100;

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
