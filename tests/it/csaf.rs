//! CSAF 2.0 advisories against the real server, a real OpenPGP key (GnuPG) and the BSI's
//! validator (`@secvisogram/csaf-validator-lib`, its schema and every mandatory test): the team
//! drafts an advisory of each profile for resolved cases, signs each offline with `gpg
//! --detach-sign --armor`, publishes it, and the provider folder serves the documents with
//! digests `sha256sum`/`sha512sum` accept and signatures `gpg --verify` accepts; a revision keeps
//! the id and grows the history; security.txt names the provider metadata.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::gpg::{Gpg, verifies_with};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const PUBLIC: &str = "https://portal.example.org";
const VECTOR: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N";

/// Runs the BSI validator on `files`: one result per file (`isValid`, the failed tests).
fn validate(files: &[PathBuf]) -> Vec<Value> {
    let out = Command::new("node")
        .arg(repo("tests/support/csaf/validate.mjs"))
        .args(files)
        .output()
        .expect("node is needed for the CSAF validator (Debian nodejs)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "the validator did not run: are its packages installed (npm install --prefix \
         target/csaf-node, see .ci/run)? {stderr}"
    );
    let results: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), files.len(), "{stderr}");
    for r in &results {
        assert!(r["tests"].as_u64().unwrap() > 30, "{r}");
    }
    results
}

fn assert_valid(files: &[PathBuf]) {
    for r in validate(files) {
        assert_eq!(r["isValid"], true, "the BSI validator refuses: {r:#}");
        assert_eq!(r["failed"], serde_json::json!([]), "{r:#}");
    }
}

fn setup(extra: &str) -> (Setup, Gpg, Server) {
    let setup = Setup::new(
        1,
        &format!(
            "[org]\nname = \"Gemeente Voorbeeld\"\nsecurity_txt_signing_key = \
             \"keys/openpgp.asc\"\n\n[csaf]\nid_prefix = \"GV\"\n{extra}"
        ),
    );
    let gpg = Gpg::new("Gemeente Voorbeeld CERT <security@example.org>");
    gpg.export(&setup.dir.path().join("keys/openpgp.asc"));
    let server = Server::start(&setup, &[("SEALDROP_SERVER_PUBLIC_URL", PUBLIC)]);
    (setup, gpg, server)
}

/// A resolved vulnerability case whose reporter asked for credit as `credit`, if any.
fn resolved_case(setup: &Setup, server: &Server, credit: Option<&str>) -> String {
    let mut parts = vec![
        text("category", "vulnerability"),
        text("message", "the login form leaks"),
        text("contact", "finder@example.org"),
        file("poc.txt", bytes(300, 5)),
    ];
    if credit.is_some() {
        parts.push(text("credit", "yes"));
    }
    let r = post_form(server.addr, &parts, "");
    assert_eq!(r.status, 201, "{}", r.text());
    let case = r.json()["case"].as_str().unwrap().to_owned();
    admin_ok(setup, &["status", &case, "resolved"]);
    if let Some(name) = credit {
        admin_ok(setup, &["credit", &case, "--as", name]);
    }
    case
}

/// `admin advisory draft CASE ARGS… -o FILE`: the file written.
fn draft(setup: &Setup, case: &str, args: &[&str], name: &str) -> PathBuf {
    let path = setup.dir.path().join(name);
    let mut all = vec!["advisory", "draft", case];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", path.to_str().unwrap()]);
    let o = setup.admin(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("gpg --detach-sign --armor"),
        "{o:?}"
    );
    path
}

fn publish(setup: &Setup, gpg: &Gpg, draft: &Path) -> String {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(draft).unwrap()).unwrap();
    let id = doc["document"]["tracking"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asc = gpg.detach_sign(draft);
    admin_ok(
        setup,
        &[
            "advisory",
            "publish",
            &id,
            "--signature",
            asc.to_str().unwrap(),
        ],
    );
    id
}

/// The local date `days` from today, as `date` gives it (`YYYY-MM-DD`).
fn day_in(days: u32) -> String {
    let o = Command::new("date")
        .arg(format!("--date=+{days} days"))
        .arg("+%F")
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// The year of a drafted document's first release.
fn year_of(draft: &Path) -> String {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(draft).unwrap()).unwrap();
    doc["document"]["tracking"]["initial_release_date"]
        .as_str()
        .unwrap()[..4]
        .to_owned()
}

/// GETs `path` below the portal; status and body.
fn fetch(server: &Server, path: &str) -> Response {
    get(server.addr, path, "")
}

#[test]
fn advisories_of_every_profile_pass_the_bsi_validator_and_the_provider_folder_checks_out() {
    let (setup, gpg, server) = setup("");
    let credited = resolved_case(&setup, &server, Some("Z. Quibblesworth"));
    let incident = resolved_case(&setup, &server, None);
    let info = resolved_case(&setup, &server, None);

    // Nothing is served before the first publication.
    assert_eq!(
        fetch(&server, "/.well-known/csaf/provider-metadata.json").status,
        404
    );
    let security_txt = fetch(&server, "/.well-known/security.txt").text();
    assert!(!security_txt.contains("CSAF:"), "{security_txt}");

    let a = draft(
        &setup,
        &credited,
        &[
            "--profile",
            "security-advisory",
            "--title",
            "Login form discloses account existence",
            "--summary",
            "The login form told apart unknown and known accounts.",
            "--product",
            "Burgerportaal",
            "--vendor",
            "Acme Software BV",
            "--affected",
            "<2.3",
            "--fixed",
            "2.3",
            "--remediation",
            "Update to 2.3; the hosted service was fixed on 2 March.",
            "--cvss",
            VECTOR,
            "--cve",
            "CVE-2026-40001",
            "--reference",
            "https://example.org/news/2026-03 The municipality's notice",
        ],
        "a.json",
    );
    let b = draft(
        &setup,
        &incident,
        &[
            "--profile",
            "incident-response",
            "--title",
            "Mail server misused for phishing",
            "--summary",
            "A mailbox was taken over and sent phishing mail for two hours.",
            "--remediation",
            "Delete mails from the address below; do not open their links.",
            "--reference",
            "https://example.org/news/2026-04",
        ],
        "b.json",
    );
    let c = draft(
        &setup,
        &info,
        &[
            "--profile",
            "informational",
            "--title",
            "Fake letters about parking fines",
            "--summary",
            "Letters in our name ask for payment of parking fines.",
            "--reference",
            "https://example.org/news/2026-05 How to recognise them",
            "--lang",
            "nl",
        ],
        "c.json",
    );
    // Each draft passes the BSI validator before anyone signs it.
    assert_valid(&[a.clone(), b.clone(), c.clone()]);
    let list = admin_ok(&setup, &["advisory", "list"]);
    assert_eq!(list.matches("  draft  ").count(), 3, "{list}");
    assert_eq!(
        fetch(&server, "/.well-known/csaf/provider-metadata.json").status,
        404
    );

    // Ids count up per year of first release (the test runs in any year).
    let y = year_of(&a);
    assert_eq!(publish(&setup, &gpg, &a), format!("GV-{y}-001"));
    assert_eq!(publish(&setup, &gpg, &b), format!("GV-{y}-002"));
    assert_eq!(publish(&setup, &gpg, &c), format!("GV-{y}-003"));

    // The documents: the case's facts and the team's words, the credit only where agreed.
    let doc_a: Value = serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    let doc_b: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    assert_eq!(doc_a["document"]["category"], "csaf_security_advisory");
    assert_eq!(
        doc_b["document"]["category"],
        "csaf_security_incident_response"
    );
    assert_eq!(
        doc_a["document"]["acknowledgments"][0]["names"][0],
        "Z. Quibblesworth"
    );
    assert!(
        doc_b["document"].get("acknowledgments").is_none(),
        "{doc_b}"
    );
    // The supplier makes the product; the organisation publishes.
    assert_eq!(
        doc_a["product_tree"]["branches"][0]["name"],
        "Acme Software BV"
    );
    assert_eq!(doc_a["document"]["publisher"]["name"], "Gemeente Voorbeeld");
    let score = &doc_a["vulnerabilities"][0]["scores"][0]["cvss_v3"];
    assert_eq!(score["baseScore"], 8.2, "{score}");
    assert_eq!(score["baseSeverity"], "HIGH");
    let raw_a = std::fs::read_to_string(&a).unwrap();
    for private in ["finder@example.org", "the login form leaks", "poc.txt"] {
        assert!(
            !raw_a.contains(private),
            "{private} leaked into the advisory"
        );
    }

    // The provider metadata.
    let r = fetch(&server, "/.well-known/csaf/provider-metadata.json");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let meta: Value = r.json();
    assert_eq!(
        meta["canonical_url"],
        format!("{PUBLIC}/.well-known/csaf/provider-metadata.json")
    );
    assert_eq!(meta["metadata_version"], "2.0");
    assert_eq!(meta["role"], "csaf_trusted_provider");
    assert_eq!(meta["publisher"]["name"], "Gemeente Voorbeeld");
    let dir_url = meta["distributions"][0]["directory_url"].as_str().unwrap();
    assert_eq!(dir_url, format!("{PUBLIC}/.well-known/csaf/white/"));
    let key = &meta["public_openpgp_keys"][0];
    assert_eq!(key["fingerprint"], gpg.fingerprint());
    let key_path = key["url"].as_str().unwrap().strip_prefix(PUBLIC).unwrap();
    let served_key = fetch(&server, key_path);
    assert_eq!(served_key.status, 200);
    assert!(
        served_key
            .text()
            .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    );
    let lower = key_path.replace(&gpg.fingerprint(), &gpg.fingerprint().to_lowercase());
    assert_eq!(fetch(&server, &lower).status, 404);

    // The folder: every indexed document, byte-identical to what was signed, with digests the
    // stock tools accept and a signature gpg verifies.
    let index = fetch(&server, "/.well-known/csaf/white/index.txt").text();
    let paths: Vec<&str> = index.lines().collect();
    let expected: Vec<String> = (1..=3).map(|n| format!("{y}/gv-{y}-{n:03}.json")).collect();
    assert_eq!(paths, expected);
    let check = TempDir::new("csaf-folder");
    let mut served_files = Vec::new();
    for (path, signed) in paths.iter().zip([&a, &b, &c]) {
        let name = path.rsplit('/').next().unwrap();
        let doc = fetch(&server, &format!("/.well-known/csaf/white/{path}"));
        assert_eq!(doc.status, 200);
        assert_eq!(doc.body, std::fs::read(signed).unwrap(), "{path}");
        let local = check.path().join(name);
        std::fs::write(&local, &doc.body).unwrap();
        for (ext, tool) in [("sha256", "sha256sum"), ("sha512", "sha512sum")] {
            let digest = fetch(&server, &format!("/.well-known/csaf/white/{path}.{ext}"));
            assert_eq!(digest.status, 200);
            let file = check.path().join(format!("{name}.{ext}"));
            std::fs::write(&file, &digest.body).unwrap();
            let o = Command::new(tool)
                .arg("-c")
                .arg(&file)
                .current_dir(check.path())
                .output()
                .unwrap();
            assert!(o.status.success(), "{tool} -c {name}.{ext}: {o:?}");
        }
        let asc = fetch(&server, &format!("/.well-known/csaf/white/{path}.asc"));
        assert_eq!(asc.status, 200);
        let asc_file = check.path().join(format!("{name}.asc"));
        std::fs::write(&asc_file, &asc.body).unwrap();
        assert!(gpg.verifies(&asc_file, &local), "gpg --verify {name}.asc");
        assert!(
            verifies_with(&served_key.body, &asc_file, &local),
            "a consumer with only the served key verifies {name}.asc"
        );
        served_files.push(local);
    }
    assert_valid(&served_files);
    // The directory listings (requirement 14).
    let listing = fetch(&server, "/.well-known/csaf/white/");
    assert_eq!(listing.status, 200);
    assert!(
        listing
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    for link in [format!("{y}/"), "index.txt".into(), "changes.csv".into()] {
        assert!(
            listing.text().contains(&format!("href=\"{link}\"")),
            "{}",
            listing.text()
        );
    }
    let year = fetch(&server, &format!("/.well-known/csaf/white/{y}/")).text();
    for ext in ["", ".sha256", ".sha512", ".asc"] {
        assert!(
            year.contains(&format!("href=\"gv-{y}-002.json{ext}\"")),
            "{year}"
        );
    }
    assert_eq!(fetch(&server, "/.well-known/csaf/white/1999/").status, 404);
    let changes = fetch(&server, "/.well-known/csaf/white/changes.csv");
    assert!(
        changes
            .header("content-type")
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(changes.text().lines().count(), 3, "{}", changes.text());
    assert_eq!(
        fetch(
            &server,
            &format!("/.well-known/csaf/white/{y}/nothing.json")
        )
        .status,
        404
    );

    // security.txt names the provider metadata, and a signed one still draws nothing from
    // sectxt.
    let rendered = admin_ok(&setup, &["securitytxt", "render"]);
    let line = format!("CSAF: {PUBLIC}/.well-known/csaf/provider-metadata.json");
    assert!(rendered.contains(&line), "{rendered}");
    let signed = gpg.clearsign(&rendered);
    let file = setup.dir.path().join("security.txt.asc");
    std::fs::write(&file, &signed).unwrap();
    admin_ok(&setup, &["securitytxt", "install", file.to_str().unwrap()]);
    let served = fetch(&server, "/.well-known/security.txt");
    assert_eq!(served.body, signed.as_bytes());
    let (valid, findings) = crate::security_txt::sectxt(setup.dir.path(), &served.body);
    assert!(valid && findings.is_empty(), "{findings:?}");

    // A revision: the same id, version 2, the history grown, the first date kept; the folder
    // serves version 1 until version 2 is signed and published.
    let o = setup.admin(&["advisory", "draft", &credited, "--fixed", "2.3.1"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--change") && err.contains("advisory-refused"),
        "{err}"
    );
    draft(
        &setup,
        &credited,
        &[
            "--affected",
            "<2.3.1",
            "--fixed",
            "2.3.1",
            "--change",
            "The fix is in 2.3.1, not 2.3",
        ],
        "a2-first.json",
    );
    // Drafting the pending revision again keeps what the first try changed.
    let a2 = draft(
        &setup,
        &credited,
        &[
            "--title",
            "Login form discloses whether an account exists",
            "--change",
            "The fix is in 2.3.1, not 2.3",
        ],
        "a2.json",
    );
    let doc_a2: Value = serde_json::from_str(&std::fs::read_to_string(&a2).unwrap()).unwrap();
    let tracking = &doc_a2["document"]["tracking"];
    assert_eq!(tracking["id"], format!("GV-{y}-001"));
    assert_eq!(tracking["version"], "2");
    assert_eq!(tracking["revision_history"].as_array().unwrap().len(), 2);
    assert_eq!(
        tracking["initial_release_date"],
        doc_a["document"]["tracking"]["initial_release_date"]
    );
    assert_eq!(
        doc_a2["document"]["title"],
        "Login form discloses whether an account exists"
    );
    let branches = doc_a2["product_tree"]["branches"][0]["branches"][0]["branches"].to_string();
    assert!(
        branches.contains("\"2.3.1\"") && branches.contains("<2.3.1"),
        "{branches}"
    );
    let first = format!("/.well-known/csaf/white/{y}/gv-{y}-001.json");
    let served = fetch(&server, &first);
    assert_eq!(
        served.body,
        raw_a.as_bytes(),
        "version 1 until version 2 is published"
    );
    publish(&setup, &gpg, &a2);
    let served = fetch(&server, &first);
    assert_eq!(served.body, std::fs::read(&a2).unwrap());
    assert_valid(std::slice::from_ref(&a2));
    let changes = fetch(&server, "/.well-known/csaf/white/changes.csv").text();
    assert!(
        changes.starts_with(&format!("\"{y}/gv-{y}-001.json\"")),
        "the latest change first: {changes}"
    );
    assert_eq!(
        fetch(&server, "/.well-known/csaf/white/index.txt").text(),
        index
    );

    // The yearly account counts them: three first releases and one revision.
    let report: Value = serde_json::from_str(&admin_ok(
        &setup,
        &["report", "--year", &y, "--format", "json"],
    ))
    .unwrap();
    assert_eq!(report["advisories"]["published"], 3, "{report}");
    assert_eq!(report["advisories"]["revisions"], 1, "{report}");
    let csv = admin_ok(&setup, &["report", "--year", &y, "--format", "csv"]);
    assert!(csv.contains("advisories,published,3"), "{csv}");

    // The audit trail names who did what.
    let audit = admin_ok(&setup, &["audit"]);
    assert_eq!(audit.matches("advisory-drafted").count(), 5, "{audit}");
    assert_eq!(audit.matches("advisory-published").count(), 4, "{audit}");
    assert!(
        audit.contains(&format!("GV-{y}-001 version 2, signed by")),
        "{audit}"
    );

    // A credit withdrawn after publication: the list says the served version still names the
    // person; a revision without it clears that.
    admin_ok(&setup, &["credit", &credited, "--withdraw"]);
    let list = admin_ok(&setup, &["advisory", "list"]);
    assert!(list.contains("no longer agrees to"), "{list}");
    let a3 = draft(
        &setup,
        &credited,
        &["--change", "Credit removed"],
        "a3.json",
    );
    publish(&setup, &gpg, &a3);
    let served = fetch(&server, &first).text();
    assert!(!served.contains("Quibblesworth"), "{served}");
    assert!(!admin_ok(&setup, &["advisory", "list"]).contains("attention"));

    // The validator is live: it refuses a document whose version and history disagree.
    let broken = setup.dir.path().join("broken.json");
    std::fs::write(
        &broken,
        raw_a.replace("\"version\": \"1\"", "\"version\": \"7\""),
    )
    .unwrap();
    assert_eq!(validate(&[broken])[0]["isValid"], false);

    // A backup carries the advisories.
    let backup = setup.dir.path().join("backup.tar");
    admin_ok(&setup, &["backup", "-o", backup.to_str().unwrap()]);
    drop(server);
    let restored = Setup::new(1, "");
    restore_into(&backup, &restored);
    let server = Server::start(&restored, &[("SEALDROP_SERVER_PUBLIC_URL", PUBLIC)]);
    assert_eq!(
        fetch(&server, "/.well-known/csaf/white/index.txt").text(),
        index
    );
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn the_sample_advisory_in_the_docs_passes_the_bsi_validator() {
    assert_valid(&[repo("docs/csaf-sample-advisory.json")]);
}

#[test]
fn drafts_and_publications_that_cannot_stand_are_refused_with_what_is_wrong() {
    let (setup, gpg, server) = setup("");
    let refused = |args: &[&str], why: &str| {
        let o = setup.admin(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert!(err.contains(why), "wanted {why:?} in: {err}");
        assert!(err.contains("advisory-refused"), "{err}");
    };
    let base = [
        "--profile",
        "security-advisory",
        "--title",
        "T",
        "--summary",
        "S",
        "--product",
        "P",
        "--remediation",
        "R",
    ];

    // A case still open.
    let r = post_form(
        server.addr,
        &[text("category", "incident"), text("message", "m")],
        "",
    );
    let open = r.json()["case"].as_str().unwrap().to_owned();
    let mut args = vec!["advisory", "draft", open.as_str()];
    args.extend_from_slice(&base);
    refused(&args, "resolved");
    admin_ok(&setup, &["status", &open, "resolved"]);

    // What a profile needs, named; values CSAF cannot carry.
    let draft_args = |extra: &[&'static str]| {
        let mut a: Vec<&str> = vec!["advisory", "draft", &open];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let with_base = |extra: &[&'static str]| -> Vec<&'static str> {
        base.iter().chain(extra).copied().collect()
    };
    let info = [
        "--profile",
        "informational",
        "--title",
        "T",
        "--summary",
        "S",
    ];
    let info_with = |extra: &[&'static str]| -> Vec<&'static str> {
        info.iter().chain(extra).copied().collect()
    };
    let cases: [(Vec<&'static str>, &str); 8] = [
        (base[..6].to_vec(), "--product"),
        (info.to_vec(), "--reference"),
        (vec!["--title", "T"], "--profile"),
        (with_base(&["--cvss", "CVSS:3.1/AV:N"]), "CVSS"),
        (with_base(&["--fixed", "before 2.0"]), "looks like a range"),
        (with_base(&["--fixed", "2.0"]), "--fixed needs --affected"),
        (
            info_with(&[
                "--reference",
                "https://example.org/n",
                "--cve",
                "CVE-2026-1234",
            ]),
            "--cve belongs to --profile security-advisory",
        ),
        (
            with_base(&["--reference", "javascript:alert(1)"]),
            "https://",
        ),
    ];
    for (extra, why) in cases {
        let a = draft_args(&extra);
        refused(&refs(&a), why);
    }
    let untitled: Vec<&'static str> = base
        .iter()
        .copied()
        .filter(|a| *a != "--title" && *a != "T")
        .collect();
    let mut a = draft_args(&untitled);
    a.extend(["--title".to_string(), "t".repeat(201)]);
    refused(&refs(&a), "1 to 200 characters");
    let mut a = draft_args(&untitled);
    a.extend(["--title".to_string(), "t".repeat(200)]);
    let o = setup.admin(&refs(&a));
    assert!(o.status.success(), "200 characters pass: {o:?}");

    // Signatures: another key, a changed document, no signature, an unknown id.
    let path = draft(&setup, &open, &[], "d.json");
    let id_text = format!("GV-{}-001", year_of(&path));
    let id = id_text.as_str();
    let publish_refused = |id: &str, signature: &str, why: &str| {
        refused(&["advisory", "publish", id, "--signature", signature], why)
    };
    let other = Gpg::new("Someone Else <else@example.net>");
    let asc = other.detach_sign(&path);
    publish_refused(id, asc.to_str().unwrap(), "does not verify");
    let changed = setup.dir.path().join("changed.json");
    let original = std::fs::read_to_string(&path).unwrap();
    let altered = original.replace("\"text\": \"S\"", "\"text\": \"X\"");
    assert_ne!(altered, original);
    std::fs::write(&changed, altered).unwrap();
    let asc = gpg.detach_sign(&changed);
    publish_refused(id, asc.to_str().unwrap(), "does not verify");
    publish_refused(id, path.to_str().unwrap(), "gpg --detach-sign --armor");
    let asc = gpg.detach_sign(&path);
    publish_refused("GV-1999-999", asc.to_str().unwrap(), "no draft");
    assert_eq!(
        fetch(&server, "/.well-known/csaf/provider-metadata.json").status,
        404
    );

    // Only TLP:WHITE goes into the public folder.
    let amber = draft(&setup, &open, &["--tlp", "AMBER"], "amber.json");
    let asc = gpg.detach_sign(&amber);
    publish_refused(id, asc.to_str().unwrap(), "only TLP:WHITE");
    assert_valid(&[amber]);
    assert_eq!(
        fetch(&server, "/.well-known/csaf/white/index.txt").status,
        404
    );

    // An embargo still running holds publication back.
    let white = draft(&setup, &open, &["--tlp", "WHITE"], "white.json");
    let asc = gpg.detach_sign(&white);
    let in_ten_days = day_in(10);
    admin_ok(&setup, &["coordinate", &open, "--embargo", &in_ten_days]);
    publish_refused(id, asc.to_str().unwrap(), "under embargo until");
    admin_ok(&setup, &["coordinate", &open, "--embargo", "none"]);

    // csaf.max_draft_age at its edge: a draft a day old (the default) is stale.
    drop(server);
    let server = Server::start(
        &setup,
        &[
            ("SEALDROP_SERVER_PUBLIC_URL", PUBLIC),
            ("SEALDROPTEST_CLOCK_SHIFT", "24h2m"),
        ],
    );
    publish_refused(id, asc.to_str().unwrap(), "csaf.max_draft_age");
    drop(server);
    let server = Server::start(
        &setup,
        &[
            ("SEALDROP_SERVER_PUBLIC_URL", PUBLIC),
            ("SEALDROPTEST_CLOCK_SHIFT", "23h58m"),
        ],
    );
    admin_ok(
        &setup,
        &[
            "advisory",
            "publish",
            id,
            "--signature",
            asc.to_str().unwrap(),
        ],
    );
    assert_eq!(
        fetch(&server, "/.well-known/csaf/white/index.txt").status,
        200
    );

    // A key file with a private key in it is refused; the portal must never hold one.
    drop(server);
    let leaky = setup.dir.path().join("keys/leaky.asc");
    let mut key_text = std::fs::read(setup.dir.path().join("keys/openpgp.asc")).unwrap();
    key_text.extend(gpg.export_secret());
    std::fs::write(&leaky, key_text).unwrap();
    let server = Server::start(
        &setup,
        &[
            ("SEALDROP_SERVER_PUBLIC_URL", PUBLIC),
            (
                "SEALDROP_ORG_SECURITY_TXT_SIGNING_KEY",
                leaky.to_str().unwrap(),
            ),
        ],
    );
    refused(
        &["advisory", "draft", &open, "--change", "x"],
        "holds a private key",
    );
    let key_url = format!("/.well-known/csaf/openpgp/{}.asc", gpg.fingerprint());
    assert_eq!(fetch(&server, &key_url).status, 404);

    // Without the organisation's key, nothing is drafted.
    drop(server);
    let bare = Setup::new(1, "");
    let server = bare.start();
    let r = post_form(
        server.addr,
        &[text("category", "incident"), text("message", "m")],
        "",
    );
    let case = r.json()["case"].as_str().unwrap().to_owned();
    admin_ok(&bare, &["status", &case, "resolved"]);
    let o = bare.admin(&["advisory", "draft", &case, "--title", "T"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("org.security_txt_signing_key") && err.contains("hint:"),
        "{err}"
    );
}
