//! Test support shared by the SMTP tests: a throwaway CA and server certificate (openssl CLI)
//! and Python's aiosmtpd (tests/support/smtp_server.py) on loopback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI is needed to make test certificates");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A CA and a server certificate for localhost and 127.0.0.1 signed by it: (ca, cert, key).
/// Not self-signed, because webpki refuses a CA certificate as the server's own.
pub fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=sealdrop test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=localhost"];
    csr.extend(ec);
    csr.extend(["-keyout", "key.pem", "-out", "leaf.csr"]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         authorityKeyIdentifier=keyid\n\
         subjectKeyIdentifier=hash\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "cert.pem",
        ],
    );
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

/// The aiosmtpd script, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub maildir: PathBuf,
}

impl Server {
    /// A server with a certificate of its own (made in `dir` by [`make_certs`]) and `extra`
    /// options; returns the CA certificate that signed it, for the client to trust.
    pub fn start_tls(dir: &Path, extra: &[&str]) -> (PathBuf, Server) {
        let (ca, cert, key) = make_certs(dir);
        let mut args = vec![
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        (ca, Server::start(dir, &args))
    }

    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let maildir = dir.join("mail");
        // aiosmtpd logs a traceback for every refused handshake: keep that out of the test
        // output, but at hand when the server does not start.
        let log = dir.join("smtp_server.log");
        let mut child = Command::new("python3")
            .arg(SCRIPT)
            .args(["--port", "0", "--maildir"])
            .arg(&maildir)
            .args(extra)
            // A pipe we never close: the script exits when this test process does.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("python3 is needed for the SMTP tests");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = match line.trim().strip_prefix("READY ") {
            Some(p) => p.parse().unwrap(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "smtp_server.py did not start (is aiosmtpd installed? pip install aiosmtpd); \
                     it printed {line:?} and logged:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Server {
            child,
            port,
            maildir,
        }
    }

    /// The messages received, as (raw .eml text, .json metadata), in order.
    pub fn received(&self) -> Vec<(String, serde_json::Value)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.maildir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|eml| {
                let json = std::fs::read(eml.with_extension("json")).unwrap();
                (
                    std::fs::read_to_string(&eml).unwrap(),
                    serde_json::from_slice(&json).unwrap(),
                )
            })
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
