//! The CSAF 2.0 document of one revision: what the team gave, checked for its profile, and what
//! the case says (when it came, the credit the reporter agreed to). Nothing else of the case
//! goes in: no reporter data beyond an agreed credit, no message, no file.

use super::{Input, Profile, Refused, Revision, Tlp, score};
use crate::config::Csaf;
use serde_json::{Value, json};

/// The TLP definitions the documents point at.
const TLP_URL: &str = "https://www.first.org/tlp/";

/// What a document says besides the team's input.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The organisation's name (publisher and vendor).
    pub org: &'a str,
    /// The organisation's security contact (an e-mail address).
    pub contact: &'a str,
    /// `[csaf]`.
    pub csaf: &'a Csaf,
    /// The portal's public address, without the final `/`.
    pub base: &'a str,
    /// When the case came in (RFC 3339): the vulnerability's discovery date.
    pub discovered: &'a str,
    /// The reporter's published credit, where the reporter agreed to one.
    pub credit: Option<&'a str>,
}

/// The document with `id` and `history` (oldest first, at least one revision) from `input`
/// (already laid over the earlier revisions'), as pretty JSON with a final newline.
pub fn compose(
    facts: &Facts<'_>,
    id: &str,
    input: &Input,
    history: &[Revision],
) -> Result<String, Refused> {
    let profile = input.profile.ok_or_else(|| {
        Refused::Input(
            "say which profile: --profile security-advisory, incident-response or informational"
                .into(),
        )
    })?;
    let title = required(&input.title, "a title (--title)")?;
    one_line("the title", title)?;
    let summary = required(&input.summary, "a summary for the public (--summary)")?;
    long_text("the summary", summary)?;
    if let Some(r) = &input.remediation {
        long_text("the remediation", r)?;
    }
    let lang = input.lang.as_deref().unwrap_or("en");
    if !language_tag(lang) {
        return Err(Refused::Input(format!(
            "{lang:?} is not a language tag such as en or nl"
        )));
    }
    let tlp = input.tlp.unwrap_or(Tlp::White);
    let (first, last) = match (history.first(), history.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err(Refused::Input("an advisory needs a revision".into())),
    };
    for r in history {
        one_line("the summary of the change", &r.summary)?;
    }

    let mut references = Vec::new();
    if tlp == Tlp::White {
        let path = format!(
            "{}/{}",
            first.date.get(..4).unwrap_or("0000"),
            super::file_name(id)
        );
        references.push(json!({
            "category": "self",
            "summary": "This advisory (CSAF)",
            "url": format!("{}/.well-known/csaf/white/{path}", facts.base),
        }));
    }
    if input.references.len() > super::MAX_REFERENCES {
        return Err(Refused::Input(format!(
            "{} references given; at most {}",
            input.references.len(),
            super::MAX_REFERENCES
        )));
    }
    for given in &input.references {
        references.push(reference(given)?);
    }
    if profile != Profile::SecurityAdvisory {
        let unused = [
            ("--product", &input.product),
            ("--vendor", &input.vendor),
            ("--affected", &input.affected),
            ("--fixed", &input.fixed),
            ("--cvss", &input.cvss),
            ("--cve", &input.cve),
        ];
        if let Some((option, _)) = unused.iter().find(|(_, v)| v.is_some()) {
            return Err(Refused::Input(format!(
                "{option} belongs to --profile security-advisory; this profile has no \
                 vulnerability to carry it (clear it with {option} \"\")"
            )));
        }
    }
    if profile != Profile::SecurityAdvisory && input.references.is_empty() {
        return Err(Refused::Input(
            "this profile needs at least one outside reference (--reference URL): where \
             readers learn more"
                .into(),
        ));
    }

    let mut notes = vec![json!({"category": "summary", "title": "Summary", "text": summary})];
    if profile != Profile::SecurityAdvisory
        && let Some(r) = &input.remediation
    {
        notes.push(json!({"category": "general", "title": "What to do", "text": r}));
    }
    let namespace = if facts.csaf.namespace.is_empty() {
        facts.base
    } else {
        facts.csaf.namespace.as_str()
    };
    let mut document = json!({
        "category": profile.category(),
        "csaf_version": "2.0",
        "title": title,
        "lang": lang,
        "publisher": {
            "category": facts.csaf.publisher_category.as_str(),
            "name": facts.org,
            "namespace": namespace,
            "contact_details": format!("mailto:{} or {}/", facts.contact, facts.base),
        },
        "distribution": {"tlp": {"label": tlp.label(), "url": TLP_URL}},
        "notes": notes,
        "tracking": {
            "id": id,
            "status": "final",
            "version": last.number.to_string(),
            "initial_release_date": first.date,
            "current_release_date": last.date,
            "revision_history": history.iter().map(|r| json!({
                "date": r.date,
                "number": r.number.to_string(),
                "summary": r.summary,
            })).collect::<Vec<_>>(),
            "generator": {
                "date": last.date,
                "engine": {"name": "sealdrop", "version": env!("CARGO_PKG_VERSION")},
            },
        },
    });
    // The schema wants at least one reference where there are any: a TLP:AMBER or RED
    // advisory without outside references has none (it is never in the public folder).
    if !references.is_empty() {
        document["references"] = json!(references);
    }
    if let Some(credit) = facts.credit {
        document["acknowledgments"] = json!([{
            "names": [credit],
            "summary": "reported the problem to the organisation",
        }]);
    }
    let mut doc = json!({ "document": document });
    if profile == Profile::SecurityAdvisory {
        vulnerability(facts, input, title, summary, &mut doc)?;
    }
    let mut text = serde_json::to_string_pretty(&doc)
        .map_err(|e| Refused::Input(format!("the document cannot be written: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// Adds the product tree and the one vulnerability of a security advisory.
fn vulnerability(
    facts: &Facts<'_>,
    input: &Input,
    title: &str,
    summary: &str,
    doc: &mut Value,
) -> Result<(), Refused> {
    let product = required(
        &input.product,
        "the product or service affected (--product)",
    )?;
    one_line("the product", product)?;
    let vendor = match &input.vendor {
        Some(v) => {
            one_line("the vendor", v)?;
            v.as_str()
        }
        None => facts.org,
    };
    let remediation = required(
        &input.remediation,
        "what users should do, or what was done (--remediation)",
    )?;
    let mut leaves = Vec::new();
    let (mut affected, mut fixed) = (Vec::new(), Vec::new());
    if let Some(range) = &input.affected {
        one_line("the affected versions", range)?;
        affected.push("CSAFPID-0001");
        leaves.push(json!({
            "category": "product_version_range",
            "name": range,
            "product": {"product_id": "CSAFPID-0001", "name": format!("{vendor} {product} {range}")},
        }));
    }
    if let Some(version) = &input.fixed {
        one_line("the fixed version", version)?;
        if looks_like_a_range(version) {
            return Err(Refused::Input(format!(
                "--fixed {version:?} looks like a range: give the one first fixed version \
                 (e.g. 2.3.1), and the range in --affected"
            )));
        }
        if input.affected.is_none() {
            return Err(Refused::Input(
                "--fixed needs --affected: the range of versions the problem is in (e.g. \
                 \"<2.3\"), so that users can tell whether theirs is"
                    .into(),
            ));
        }
        fixed.push("CSAFPID-0002");
        leaves.push(json!({
            "category": "product_version",
            "name": version,
            "product": {"product_id": "CSAFPID-0002", "name": format!("{vendor} {product} {version}")},
        }));
    }
    let product_branch = if leaves.is_empty() {
        // A service: one product, fixed where it runs.
        fixed.push("CSAFPID-0001");
        json!({
            "category": "product_name",
            "name": product,
            "product": {"product_id": "CSAFPID-0001", "name": format!("{vendor} {product}")},
        })
    } else {
        json!({"category": "product_name", "name": product, "branches": leaves})
    };
    doc["product_tree"] = json!({"branches": [{
        "category": "vendor",
        "name": vendor,
        "branches": [product_branch],
    }]});
    let concerned: Vec<&str> = if affected.is_empty() {
        fixed.clone()
    } else {
        affected.clone()
    };
    let mut status = serde_json::Map::new();
    if !affected.is_empty() {
        status.insert("known_affected".into(), json!(affected));
    }
    if !fixed.is_empty() {
        status.insert("fixed".into(), json!(fixed));
    }
    let mut v = json!({
        "title": title,
        "discovery_date": facts.discovered,
        "notes": [{"category": "description", "title": "Description", "text": summary}],
        "product_status": status,
        "remediations": [{"category": "vendor_fix", "details": remediation, "product_ids": concerned}],
    });
    if let Some(cve) = &input.cve {
        if !is_cve(cve) {
            return Err(Refused::Input(format!(
                "{cve:?} is not a CVE id such as CVE-2026-12345"
            )));
        }
        v["cve"] = json!(cve);
    }
    if let Some(vector) = &input.cvss {
        v["scores"] = json!([{"cvss_v3": score::cvss_v3(vector)?, "products": concerned}]);
    }
    doc["vulnerabilities"] = json!([v]);
    Ok(())
}

fn required<'a>(value: &'a Option<String>, what: &str) -> Result<&'a str, Refused> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Refused::Input(format!("this profile needs {what}")))
}

fn one_line(what: &str, text: &str) -> Result<(), Refused> {
    if text.trim().is_empty()
        || text.chars().count() > super::MAX_SHORT_CHARS
        || text.chars().any(char::is_control)
    {
        return Err(Refused::Input(format!(
            "{what} must be one line of 1 to {} characters",
            super::MAX_SHORT_CHARS
        )));
    }
    Ok(())
}

fn long_text(what: &str, text: &str) -> Result<(), Refused> {
    if text.trim().is_empty()
        || text.chars().count() > super::MAX_TEXT_CHARS
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Refused::Input(format!(
            "{what} must be text of 1 to {} characters",
            super::MAX_TEXT_CHARS
        )));
    }
    Ok(())
}

/// One reference: `URL` or `URL summary`.
fn reference(given: &str) -> Result<Value, Refused> {
    let given = given.trim();
    let (url, summary) = given
        .split_once(char::is_whitespace)
        .map_or((given, "More information"), |(u, s)| (u, s.trim()));
    if !url.starts_with("https://") || url.chars().any(char::is_control) {
        return Err(Refused::Input(format!(
            "the reference {url:?} must be an https:// address, optionally followed by a summary"
        )));
    }
    if url.len() > crate::config::MAX_URL_CHARS {
        return Err(Refused::Input(format!(
            "a reference is {} characters long; at most {}",
            url.len(),
            crate::config::MAX_URL_CHARS
        )));
    }
    one_line("a reference's summary", summary)?;
    Ok(json!({"category": "external", "summary": summary, "url": url}))
}

/// What CSAF's mandatory test 6.1.31 takes for a version range in a single version's name.
fn looks_like_a_range(version: &str) -> bool {
    let lower = version.to_lowercase();
    lower.contains(['<', '>', '=', '*', ','])
        || lower.starts_with("vers:")
        || lower.split_whitespace().any(|w| {
            [
                "after", "all", "before", "earlier", "later", "prior", "versions",
            ]
            .contains(&w)
        })
}

fn is_cve(text: &str) -> bool {
    let mut parts = text.splitn(3, '-');
    let (Some("CVE"), Some(year), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && n.len() >= 4
        && n.bytes().all(|b| b.is_ascii_digit())
}

fn language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    first_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(csaf: &Csaf) -> Facts<'_> {
        Facts {
            org: "Gemeente Voorbeeld",
            contact: "security@example.org",
            csaf,
            base: "https://meldpunt.example.org",
            discovered: "2026-03-02T09:00:00Z",
            credit: Some("A. Finder"),
        }
    }

    fn history() -> Vec<Revision> {
        vec![Revision {
            number: 1,
            date: "2026-04-01T10:00:00Z".into(),
            summary: "First release".into(),
        }]
    }

    fn advisory_input() -> Input {
        Input {
            profile: Some(Profile::SecurityAdvisory),
            title: Some("Login bypass".into()),
            summary: Some("The login could be bypassed.".into()),
            product: Some("Portal".into()),
            affected: Some("<2.3".into()),
            fixed: Some("2.3".into()),
            remediation: Some("Update to 2.3.".into()),
            cvss: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            cve: Some("CVE-2026-12345".into()),
            ..Input::default()
        }
    }

    #[test]
    fn a_security_advisory_has_its_products_statuses_score_and_credit() {
        let csaf = Csaf::default();
        let text = compose(&facts(&csaf), "ADV-2026-001", &advisory_input(), &history()).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["document"]["category"], "csaf_security_advisory");
        assert_eq!(doc["document"]["tracking"]["version"], "1");
        assert_eq!(
            doc["document"]["references"][0]["url"],
            "https://meldpunt.example.org/.well-known/csaf/white/2026/adv-2026-001.json"
        );
        assert_eq!(
            doc["document"]["acknowledgments"][0]["names"][0],
            "A. Finder"
        );
        let v = &doc["vulnerabilities"][0];
        assert_eq!(v["product_status"]["known_affected"][0], "CSAFPID-0001");
        assert_eq!(v["product_status"]["fixed"][0], "CSAFPID-0002");
        assert_eq!(v["scores"][0]["cvss_v3"]["baseScore"], 9.8);
        assert_eq!(v["remediations"][0]["product_ids"][0], "CSAFPID-0001");
    }

    #[test]
    fn what_a_profile_needs_is_asked_for_by_name() {
        let csaf = Csaf::default();
        let f = facts(&csaf);
        let mut input = advisory_input();
        input.product = None;
        let e = compose(&f, "A-1", &input, &history()).unwrap_err();
        assert!(e.to_string().contains("--product"), "{e}");
        let mut input = advisory_input();
        input.fixed = Some("<= 2.3".into());
        let e = compose(&f, "A-1", &input, &history()).unwrap_err();
        assert!(e.to_string().contains("looks like a range"), "{e}");
        let mut input = advisory_input();
        input.profile = Some(Profile::Informational);
        let e = compose(&f, "A-1", &input, &history()).unwrap_err();
        assert!(e.to_string().contains("--product belongs"), "{e}");
        let bare = Input {
            profile: Some(Profile::Informational),
            title: Some("T".into()),
            summary: Some("S".into()),
            ..Input::default()
        };
        let e = compose(&f, "A-1", &bare, &history()).unwrap_err();
        assert!(e.to_string().contains("--reference"), "{e}");
        let mut input = advisory_input();
        input.affected = None;
        let e = compose(&f, "A-1", &input, &history()).unwrap_err();
        assert!(e.to_string().contains("--fixed needs --affected"), "{e}");
        let mut input = advisory_input();
        input.references = vec!["http://example.org/plain".into()];
        assert!(compose(&f, "A-1", &input, &history()).is_err());
        let mut input = advisory_input();
        input.cve = Some("CVE-26-1".into());
        assert!(compose(&f, "A-1", &input, &history()).is_err());
        let mut input = advisory_input();
        input.references = vec!["ftp://x".into()];
        assert!(compose(&f, "A-1", &input, &history()).is_err());
    }

    #[test]
    fn an_informational_advisory_has_no_vulnerabilities_and_no_credit_unless_agreed() {
        let csaf = Csaf::default();
        let mut f = facts(&csaf);
        f.credit = None;
        let input = Input {
            profile: Some(Profile::Informational),
            title: Some("Phishing mails".into()),
            summary: Some("Mails pretend to come from us.".into()),
            references: vec!["https://example.org/news Our notice".into()],
            ..Input::default()
        };
        let doc: Value =
            serde_json::from_str(&compose(&f, "A-1", &input, &history()).unwrap()).unwrap();
        assert!(doc.get("vulnerabilities").is_none());
        assert!(doc["document"].get("acknowledgments").is_none());
        assert_eq!(doc["document"]["references"][1]["summary"], "Our notice");
    }
}
