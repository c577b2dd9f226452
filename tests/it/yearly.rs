//! The yearly account over a simulated year: 24 reports spread over 2026 (and one of 2025 that
//! must not count), each with a planned history; every figure of `admin report --year 2026`
//! checked against the same figures computed here from the plan, independently of the portal.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::{Value, json};

/// Mondays of 2026 in weeks without a Dutch public holiday (09:00Z is 10:00 or 11:00 local).
const MONDAYS: [&str; 7] = [
    "2026-02-02",
    "2026-03-02",
    "2026-06-01",
    "2026-07-06",
    "2026-09-07",
    "2026-10-05",
    "2026-11-02",
];
const CASES: usize = 24;

/// The plan of case `i`: its category, the Monday it came in, after how many days (all working
/// days: Monday to Friday) it was acknowledged and assessed, after how many days it was
/// resolved (if it was), and for a data breach the authority decision and after how many hours.
struct Plan {
    category: &'static str,
    monday: &'static str,
    ack: i64,
    assess: i64,
    resolve: Option<i64>,
    authority: Option<(&'static str, i64)>,
    shared: bool,
    publication: Option<&'static str>,
    /// Deleted: counted as a report, without clocks or times.
    purged: bool,
}

fn plan(i: usize) -> Plan {
    let category = match i {
        0..12 => "vulnerability",
        12..20 => "data-breach",
        _ => "incident",
    };
    let ack = (i % 4) as i64;
    let month = i % MONDAYS.len();
    // Late in the year only short resolutions, so that every stop lies before today.
    let resolve = (!i.is_multiple_of(5)).then(|| if month >= 5 { 10 } else { [10, 45, 95][i % 3] });
    Plan {
        category,
        monday: MONDAYS[month],
        ack,
        assess: (ack + (i % 2) as i64).min(4),
        resolve,
        authority: (category == "data-breach").then(|| {
            let decision = if i.is_multiple_of(2) {
                "notified"
            } else {
                "not-required"
            };
            (decision, if i % 3 == 2 { 80 } else { 24 })
        }),
        shared: i % 6 == 1,
        // One agreed for a date still ahead: not a publication yet.
        publication: (i % 7 == 3).then_some(if i == 10 { "2026-12-31" } else { "2026-12-01" }),
        purged: i == 8,
    }
}

fn at(monday: &str, days: i64, hours: i64) -> String {
    let t: jiff::Timestamp = format!("{monday}T09:00:00Z").parse().unwrap();
    let t = t + jiff::SignedDuration::from_hours(days * 24 + hours);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Rewrites record `r` (case `i`) to its plan.
fn apply(i: usize, r: &mut Value) {
    let p = plan(i);
    r["received_at"] = json!(at(p.monday, 0, 0));
    let mut history = vec![
        json!({"at": at(p.monday, p.ack, 6), "status": "acknowledged"}),
        json!({"at": at(p.monday, p.assess, 6), "status": "assessed"}),
    ];
    if p.shared {
        history.push(
            json!({"at": at(p.monday, p.assess, 7), "status": "assessed", "shared_with": "IBD"}),
        );
    }
    if let Some(d) = p.resolve {
        history.push(json!({"at": at(p.monday, d, 6), "status": "resolved"}));
    }
    r["status"] = json!(if p.resolve.is_some() {
        "resolved"
    } else {
        "assessed"
    });
    r["history"] = json!(history);
    if let Some((decision, hours)) = p.authority {
        r["authority"] = json!({"decision": decision, "at": at(p.monday, 0, hours)});
    }
    if let Some(date) = p.publication {
        r["disclosure"]["publication"] = json!({"date": date});
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| {
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    })
}

fn p90(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| v[((9 * n).div_ceil(10)).max(1) - 1])
}

#[test]
fn the_yearly_account_of_a_simulated_year_matches_figures_computed_from_its_plan() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    for i in 0..=CASES {
        let category = if i == CASES {
            "incident"
        } else {
            plan(i).category
        };
        let mut parts = form(vec![file("a.txt", bytes(10, i as u64))]);
        parts.retain(|p| p.name != "category");
        parts.push(text("category", category));
        let r = post_form(server.addr, &parts, "");
        assert_eq!(r.status, 201, "{}", r.text());
    }
    rewrite_history(&setup, server, |r| {
        let seq: usize = r["case"].as_str().unwrap()[5..].parse().unwrap();
        let i = seq - 1;
        if i == CASES {
            r["received_at"] = json!("2025-12-01T09:00:00Z");
        } else {
            apply(i, r);
        }
    });
    let _server = setup.start();
    // Deleted after the fact: its clocks leave the account.
    let purged = (0..CASES).find(|&i| plan(i).purged).unwrap();
    admin_ok(
        &setup,
        &[
            "purge",
            &format!("2026-{:04}", purged + 1),
            "--reason",
            "spam",
        ],
    );
    let report: Value = serde_json::from_str(&admin_ok(
        &setup,
        &["report", "--year", "2026", "--format", "json"],
    ))
    .unwrap();

    // Reports per month and category.
    for m in report["months"].as_array().unwrap() {
        let month = m["month"].as_str().unwrap();
        for (key, cat) in [
            ("vulnerability", "vulnerability"),
            ("data_breach", "data-breach"),
            ("incident", "incident"),
        ] {
            let want = (0..CASES)
                .filter(|&i| plan(i).category == cat && plan(i).monday.starts_with(month))
                .count();
            assert_eq!(m[key], want, "{month} {cat}");
        }
    }
    // Promises: acknowledgement within 1 working day, assessment within 3, resolution within
    // 90 days, the authority within 72 hours; a case not resolved is broken once 90 days passed.
    let today = jiff::Timestamp::now();
    let mut want = std::collections::BTreeMap::new();
    for i in (0..CASES).filter(|&i| !plan(i).purged) {
        let p = plan(i);
        let mut count = |kind: &str, kept: Option<bool>| {
            let e = want.entry(kind.to_owned()).or_insert((0, 0, 0));
            match kept {
                Some(true) => e.0 += 1,
                Some(false) => e.1 += 1,
                None => e.2 += 1,
            }
        };
        count("acknowledge", Some(p.ack <= 1));
        count("assess", Some(p.assess <= 3));
        let due: jiff::Timestamp = at(p.monday, 90, 0).parse().unwrap();
        count(
            "resolve",
            match p.resolve {
                Some(d) => Some(d <= 90),
                None if today > due => Some(false),
                None => None,
            },
        );
        if let Some((_, hours)) = p.authority {
            count("notify-authority", Some(hours <= 72));
        }
    }
    let promises = report["promises"].as_array().unwrap();
    assert_eq!(promises.len(), want.len());
    for p in promises {
        let (kept, broken, open) = want[p["kind"].as_str().unwrap()];
        assert_eq!(
            (p["kept"].clone(), p["broken"].clone(), p["open"].clone()),
            (json!(kept), json!(broken), json!(open)),
            "{p}"
        );
    }
    let chart_total: u64 = report["promises_by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kept"].as_u64().unwrap() + m["broken"].as_u64().unwrap())
        .sum();
    let total: u64 = want.values().map(|(k, b, _)| k + b).sum();
    assert_eq!(chart_total, total);
    // Times: working days for the working-day promises, calendar days for resolution.
    let plans: Vec<Plan> = (0..CASES).map(plan).filter(|p| !p.purged).collect();
    let acks: Vec<f64> = plans.iter().map(|p| p.ack as f64).collect();
    let assess: Vec<f64> = plans.iter().map(|p| p.assess as f64).collect();
    let resolves: Vec<f64> = plans
        .iter()
        .filter_map(|p| p.resolve.map(|d| ((d as f64 + 0.25) * 10.0).round() / 10.0))
        .collect();
    for (t, values) in report["times"]
        .as_array()
        .unwrap()
        .iter()
        .zip([acks, assess, resolves])
    {
        assert_eq!(t["count"], values.len(), "{t}");
        assert_eq!(t["median"].as_f64(), median(values.clone()), "{t}");
        assert_eq!(t["p90"].as_f64(), p90(values), "{t}");
    }
    // Shares, publications, data breaches.
    let shared = plans.iter().filter(|p| p.shared).count();
    assert_eq!(report["shares"], json!([{"with": "IBD", "count": shared}]));
    let today = today.strftime("%Y-%m-%d").to_string();
    assert_eq!(
        report["publications"],
        plans
            .iter()
            .filter(|p| p.publication.is_some_and(|d| d <= today.as_str()))
            .count()
    );
    let b = &report["breaches"];
    let breach = |d: &str, in_time: bool| {
        plans
            .iter()
            .filter(|p| {
                p.authority
                    .is_some_and(|(x, h)| x == d && (h <= 72) == in_time)
            })
            .count()
    };
    assert_eq!(b["total"], 8);
    assert_eq!(b["notified_in_time"], breach("notified", true));
    assert_eq!(b["notified_late"], breach("notified", false));
    assert_eq!(b["not_required_in_time"], breach("not-required", true));
    assert_eq!(b["not_required_late"], breach("not-required", false));
    assert_eq!(b["undecided"], 0);

    // The same account as text and CSV; a year with nothing in it is all zeros.
    let text = admin_ok(&setup, &["report", "--year", "2026"]);
    assert!(
        text.contains("Account of 2026") && text.contains("Data breaches: 8"),
        "{text}"
    );
    let csv = admin_ok(&setup, &["report", "--year", "2026", "--format", "csv"]);
    assert!(csv.starts_with("section,key,value\r\n"), "{csv}");
    assert!(csv.contains("\r\ndata-breaches,total,8\r\n"), "{csv}");
    let old: Value = serde_json::from_str(&admin_ok(
        &setup,
        &["report", "--year", "2025", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(
        old["months"][11]["incident"], 1,
        "the case of December 2025"
    );
    assert_eq!(old["breaches"]["total"], 0);
    let o = setup.admin(&["report", "--year", "1999"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad-date"));
}

#[test]
fn the_console_shows_the_account_with_a_chart_drawn_on_the_server_and_its_numbers() {
    use crate::console::{Member, console_config, report};
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (case, _) = report(&server, "vulnerability");
    admin_ok(&setup, &["status", &case, "acknowledged"]);
    let year = &show(&setup, &case)["received_at"].as_str().unwrap()[..4].to_owned();
    let m = Member::by_link(&setup, &server, "erin@example.org", "handler");
    let r = m.get(&format!("/report?year={year}&lang=en"));
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    assert!(
        page.contains("<svg") && page.contains("role=\"img\""),
        "{page}"
    );
    assert!(
        page.contains("<title id=\"chart-title\">Promises kept and broken"),
        "{page}"
    );
    assert_eq!(
        page.matches("<rect ").count(),
        24,
        "two bars for each month"
    );
    assert!(
        !page.contains("style="),
        "the strict CSP allows no inline style"
    );
    assert!(!page.contains("<script"), "no script");
    let csp = r
        .header("content-security-policy")
        .unwrap_or_default()
        .to_owned();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // The same figure as `admin report`: one acknowledgement kept this month.
    let account: Value = serde_json::from_str(&admin_ok(
        &setup,
        &["report", "--year", year, "--format", "json"],
    ))
    .unwrap();
    let ack = account["promises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "acknowledge")
        .unwrap()
        .clone();
    assert_eq!(ack["kept"], 1);
    let month = account["promises_by_month"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kept"] == 1)
        .unwrap()["month"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        page.contains(&format!(
            "<tr><th scope=\"row\">{month}</th><td>1</td><td>0</td></tr>"
        )),
        "{page}"
    );
    // Other years are linked; a year out of range is refused with its code.
    assert!(page.contains(&format!(
        "/report?year={}",
        year.parse::<i16>().unwrap() - 1
    )));
    let r = m.get("/report?year=1999");
    assert!(r.text().contains("bad-date"), "{}", r.text());
}
