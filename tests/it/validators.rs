//! Outside validators against the running portal: `sectxt` (RFC 9116) on the served
//! security.txt, and `sslyze` against the HTTPS listener with Mozilla's "intermediate"
//! configuration, using a short-lived certificate from a throwaway CA. Both come from PyPI;
//! `.ci/run` installs them.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::process::Command;

fn tls_setup() -> (Setup, std::path::PathBuf) {
    let setup = Setup::new(1, "");
    let (ca, cert, key) = crate::smtp_support::make_certs(setup.dir.path());
    let cfg = std::fs::read_to_string(&setup.config).unwrap().replacen(
        "[server]\n",
        &format!(
            "[server]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            cert.display(),
            key.display()
        ),
        1,
    );
    std::fs::write(&setup.config, cfg).unwrap();
    (setup, ca)
}

#[test]
fn the_served_security_txt_passes_sectxt_without_errors() {
    // As deployed: behind a TLS proxy with its public address, or with TLS of its own.
    let setup = Setup::new(1, "");
    let server = Server::start(
        &setup,
        &[("SEALDROP_SERVER_PUBLIC_URL", "https://portal.example.org")],
    );
    let r = get(server.addr, "/.well-known/security.txt", "");
    assert_eq!(r.status, 200);
    let file = setup.dir.path().join("security.txt");
    std::fs::write(&file, &r.body).unwrap();
    let out = Command::new("sectxt")
        .arg(&file)
        .output()
        .expect("sectxt is needed for this test (pip install sectxt; .ci/run installs it)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sectxt found errors: {report}");
    assert!(report.contains("No issues were detected"), "{report}");
}

#[test]
fn the_https_listener_is_compliant_with_mozillas_intermediate_configuration() {
    let (setup, ca) = tls_setup();
    let server = setup.start();
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let out = Command::new("sslyze")
        .arg("--mozilla_config=intermediate")
        .arg("--certinfo_ca_file")
        .arg(&ca)
        .arg(server.addr.to_string())
        .output()
        .expect("sslyze is needed for this test (pip install sslyze; .ci/run installs it)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "not compliant:\n{report}");
    assert!(report.contains("OK - Compliant"), "{report}");
}
