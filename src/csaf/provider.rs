//! The provider folder under `/.well-known/csaf/` (CSAF 2.0 §7, the directory-based
//! distribution): `provider-metadata.json`, and in `white/` the year folders, `index.txt`,
//! `changes.csv` and each document's `.sha256`, `.sha512` and `.asc`. Only TLP:WHITE
//! documents are published, so the folder needs no access control.

use super::Advisory;
use crate::config::Csaf;
use serde_json::json;

/// The published folder below `/.well-known/csaf/`.
pub const FOLDER: &str = "white";

/// `provider-metadata.json` for the published `advisories` (at least one), with the
/// organisation's keys' `fingerprints`, each served at `openpgp/FINGERPRINT.asc`. Without a
/// key (its file was removed from the configuration) the portal is a `csaf_provider` only: a
/// trusted provider names its keys.
pub fn metadata(
    advisories: &[Advisory],
    csaf: &Csaf,
    org: &str,
    contact: &str,
    base: &str,
    fingerprints: &[String],
) -> String {
    let last_updated = advisories
        .iter()
        .filter_map(|a| a.published_at.as_deref())
        .max()
        .unwrap_or("1970-01-01T00:00:00Z");
    let namespace = if csaf.namespace.is_empty() {
        base
    } else {
        csaf.namespace.as_str()
    };
    let doc = json!({
        "canonical_url": format!("{base}/.well-known/csaf/provider-metadata.json"),
        "distributions": [{"directory_url": format!("{base}/.well-known/csaf/{FOLDER}/")}],
        "last_updated": last_updated,
        "list_on_CSAF_aggregators": csaf.list_on_aggregators,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": csaf.mirror_on_aggregators,
        "public_openpgp_keys": fingerprints.iter().map(|f| json!({
            "fingerprint": f,
            "url": format!("{base}/.well-known/csaf/openpgp/{f}.asc"),
        })).collect::<Vec<_>>(),
        "publisher": {
            "category": csaf.publisher_category.as_str(),
            "name": org,
            "namespace": namespace,
            "contact_details": format!("mailto:{contact} or {base}/"),
        },
        "role": if fingerprints.is_empty() { "csaf_provider" } else { "csaf_trusted_provider" },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// `index.txt`: every document's path in the folder, one per line, sorted.
pub fn index(advisories: &[Advisory]) -> String {
    let mut paths: Vec<String> = advisories.iter().map(Advisory::path).collect();
    paths.sort();
    paths.into_iter().map(|p| p + "\n").collect()
}

/// `changes.csv`: `"path","current_release_date"` per document, the latest change first.
pub fn changes(advisories: &[Advisory]) -> String {
    let mut rows: Vec<(&str, String)> =
        advisories.iter().map(|a| (a.current(), a.path())).collect();
    rows.sort_by(|a, b| b.0.cmp(a.0).then_with(|| a.1.cmp(&b.1)));
    rows.into_iter()
        .map(|(at, path)| format!("\"{path}\",\"{at}\"\n"))
        .collect()
}

/// The `.sha256` or `.sha512` file of a document, as `sha256sum` writes it.
pub fn digest_file(advisory: &Advisory, sha512: bool) -> String {
    let bytes = advisory.document.as_bytes();
    let hex = if sha512 {
        crate::digest::sha512_hex(bytes)
    } else {
        crate::digest::sha256_hex(bytes)
    };
    format!("{hex}  {}\n", super::file_name(&advisory.id))
}

/// The directory listing of the folder (`year` `None`) or of one year's folder (CSAF 2.0
/// requirement 14): a plain HTML page of links, the file names only.
pub fn listing(advisories: &[Advisory], year: Option<&str>) -> String {
    let mut names: Vec<String> = match year {
        None => {
            let mut years: Vec<String> = advisories
                .iter()
                .map(|a| a.path().split('/').next().unwrap_or_default().to_owned() + "/")
                .collect();
            years.sort();
            years.dedup();
            years.push("changes.csv".into());
            years.push("index.txt".into());
            years
        }
        Some(y) => advisories
            .iter()
            .filter(|a| a.path().starts_with(&format!("{y}/")))
            .flat_map(|a| {
                let f = super::file_name(&a.id);
                let mut parts = vec![f.clone(), format!("{f}.sha256"), format!("{f}.sha512")];
                if a.signature.is_some() {
                    parts.push(format!("{f}.asc"));
                }
                parts
            })
            .collect(),
    };
    names.sort();
    let title = match year {
        None => format!("/.well-known/csaf/{FOLDER}/"),
        Some(y) => format!("/.well-known/csaf/{FOLDER}/{y}/"),
    };
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Index of \
         {title}</title></head><body><h1>Index of {title}</h1><ul>\n"
    );
    for n in names {
        // File names are the CSAF rule's [+\-a-z0-9_.] and year folders digits: nothing to escape.
        html.push_str(&format!("<li><a href=\"{n}\">{n}</a></li>\n"));
    }
    html.push_str("</ul></body></html>\n");
    html
}

/// What a path below `/.well-known/csaf/white/` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<'a> {
    /// The folder's listing (``) or a year's (`YYYY/`, the year).
    Listing(Option<&'a str>),
    /// `index.txt`.
    Index,
    /// `changes.csv`.
    Changes,
    /// `YYYY/file.json` and its companions: the document's path, then which.
    Document(&'a str, Part),
}

/// A document or one of its companion files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The JSON document.
    Json,
    /// `.sha256`.
    Sha256,
    /// `.sha512`.
    Sha512,
    /// `.asc`.
    Signature,
}

/// Reads a path below the folder; `None` for anything else.
pub fn entry(path: &str) -> Option<Entry<'_>> {
    if let Some(year) = path.strip_suffix('/')
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(Entry::Listing(Some(year)));
    }
    match path {
        "" => return Some(Entry::Listing(None)),
        "index.txt" => return Some(Entry::Index),
        "changes.csv" => return Some(Entry::Changes),
        _ => {}
    }
    let (doc, part) = if let Some(d) = path.strip_suffix(".sha256") {
        (d, Part::Sha256)
    } else if let Some(d) = path.strip_suffix(".sha512") {
        (d, Part::Sha512)
    } else if let Some(d) = path.strip_suffix(".asc") {
        (d, Part::Signature)
    } else {
        (path, Part::Json)
    };
    doc.ends_with(".json").then_some(Entry::Document(doc, part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csaf::{Input, Revision};

    fn advisory(id: &str, dates: &[&str]) -> Advisory {
        Advisory {
            id: id.into(),
            case: "2026-0001".into(),
            input: Input::default(),
            history: dates
                .iter()
                .enumerate()
                .map(|(i, d)| Revision {
                    number: i as u32 + 1,
                    date: (*d).into(),
                    summary: "x".into(),
                })
                .collect(),
            credit: None,
            document: "{}\n".into(),
            signature: None,
            signer: None,
            published_at: dates.last().map(|d| (*d).into()),
        }
    }

    #[test]
    fn index_and_changes_list_every_document_in_their_order() {
        let all = [
            advisory(
                "ADV-2025-001",
                &["2025-12-30T10:00:00Z", "2026-02-01T10:00:00Z"],
            ),
            advisory("ADV-2026-001", &["2026-01-15T10:00:00Z"]),
        ];
        assert_eq!(
            index(&all),
            "2025/adv-2025-001.json\n2026/adv-2026-001.json\n"
        );
        assert_eq!(
            changes(&all),
            "\"2025/adv-2025-001.json\",\"2026-02-01T10:00:00Z\"\n\
             \"2026/adv-2026-001.json\",\"2026-01-15T10:00:00Z\"\n"
        );
        let d = digest_file(&all[0], false);
        assert!(
            d.ends_with("  adv-2025-001.json\n") && d.len() == 64 + 2 + 17 + 1,
            "{d}"
        );
    }

    #[test]
    fn without_a_key_the_metadata_claims_no_trusted_role() {
        let all = [advisory("ADV-2026-001", &["2026-01-15T10:00:00Z"])];
        let csaf = Csaf::default();
        let with: serde_json::Value = serde_json::from_str(&metadata(
            &all,
            &csaf,
            "Org",
            "s@example.org",
            "https://p.example.org",
            &["AB12".to_owned()],
        ))
        .unwrap();
        assert_eq!(with["role"], "csaf_trusted_provider");
        assert_eq!(with["last_updated"], "2026-01-15T10:00:00Z");
        assert_eq!(
            with["public_openpgp_keys"][0]["url"],
            "https://p.example.org/.well-known/csaf/openpgp/AB12.asc"
        );
        let without: serde_json::Value = serde_json::from_str(&metadata(
            &all,
            &csaf,
            "Org",
            "s@example.org",
            "https://p.example.org",
            &[],
        ))
        .unwrap();
        assert_eq!(without["role"], "csaf_provider");
        assert_eq!(without["public_openpgp_keys"], serde_json::json!([]));
    }

    #[test]
    fn paths_below_the_folder_are_read_strictly() {
        assert_eq!(entry("index.txt"), Some(Entry::Index));
        assert_eq!(
            entry("2026/a.json.sha512"),
            Some(Entry::Document("2026/a.json", Part::Sha512))
        );
        assert_eq!(
            entry("2026/a.json.asc"),
            Some(Entry::Document("2026/a.json", Part::Signature))
        );
        assert_eq!(entry("2026/a.txt"), None);
        assert_eq!(entry(""), Some(Entry::Listing(None)));
        assert_eq!(entry("2026/"), Some(Entry::Listing(Some("2026"))));
        assert_eq!(entry("../2026/"), None);
        assert_eq!(entry("20x6/"), None);
    }
}
