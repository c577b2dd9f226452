//! The OpenID providers of the console's tests, run under Node on loopback: `provider.mjs`, the
//! certified `oidc-provider`, and `forge.mjs`, a provider whose ID tokens carry one chosen
//! defect. Both print `issuer URL` once they listen; they are killed when dropped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::common::repo;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The client the providers register for sealdrop.
pub const CLIENT_ID: &str = "sealdrop-console";
/// Its secret.
pub const CLIENT_SECRET: &str = "console-secret-for-tests-only";

/// A provider process.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Provider {
    /// Starts `script` (`provider.mjs` or `forge.mjs`) for a console whose callback is
    /// `redirect`, with extra environment.
    pub fn start(script: &str, redirect: &str, env: &[(&str, &str)]) -> Provider {
        let mut cmd = Command::new("node");
        cmd.arg(repo(&format!("tests/support/oidc/{script}")))
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URI", redirect)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .expect("node is needed for the OpenID provider (Debian package nodejs)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("issuer ") {
                    let _ = tx.send(issuer.to_owned());
                }
            }
        });
        let issuer = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "the OpenID provider {script} did not start: are its packages installed \
                 (npm install --prefix target/oidc-node, see .ci/run)?"
                )
            });
        Provider { child, issuer }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `[console]` section for a console on `port` signing in at `issuer`, with `members`
/// (TOML array-of-tables lines) and extra lines.
pub fn console_section(port: u16, issuer: &str, members: &str, extra: &str) -> String {
    format!(
        "[console]\nlisten = \"127.0.0.1:{port}\"\noidc_issuer = \"{issuer}\"\n\
         oidc_client_id = \"{CLIENT_ID}\"\noidc_client_secret = \"{CLIENT_SECRET}\"\n\
         oidc_scopes = [\"email\", \"profile\", \"groups\"]\n{extra}\n{members}\n"
    )
}
