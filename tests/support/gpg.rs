//! A throwaway GnuPG home with one Ed25519 signing key: the organisation's OpenPGP key as the
//! team keeps it on its own machine (Debian `gnupg`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::common::TempDir;
use std::path::Path;
use std::process::Command;

/// A throwaway GnuPG home with one Ed25519 signing key.
pub struct Gpg {
    home: TempDir,
}

impl Gpg {
    pub fn new(uid: &str) -> Gpg {
        Gpg::expiring(uid, "1y")
    }

    /// A key that expires after `expire` (`1d`, `1y`…).
    pub fn expiring(uid: &str, expire: &str) -> Gpg {
        let home = TempDir::new("gpg");
        std::fs::set_permissions(
            home.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let gpg = Gpg { home };
        gpg.run(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            uid,
            "ed25519",
            "sign",
            expire,
        ]);
        gpg
    }

    pub fn run(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--yes", "--pinentry-mode", "loopback"])
            .args(args)
            .output()
            .expect("gpg is needed for this test (Debian gnupg; .ci/run installs it)");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    pub fn export(&self, to: &Path) {
        std::fs::write(to, self.run(&["--armor", "--export"])).unwrap();
    }

    /// `gpg --clearsign` of `text`, as the team does offline.
    pub fn clearsign(&self, text: &str) -> String {
        let input = self.home.path().join("in.txt");
        let output = self.home.path().join("in.txt.asc");
        std::fs::write(&input, text).unwrap();
        self.run(&[
            "--passphrase",
            "",
            "--clearsign",
            "-o",
            output.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        std::fs::read_to_string(output).unwrap()
    }

    /// `gpg --detach-sign --armor` of the file `path`, as the team signs an advisory offline:
    /// the `.asc` it wrote.
    pub fn detach_sign(&self, path: &Path) -> std::path::PathBuf {
        let asc = path.with_extension("json.asc");
        self.run(&[
            "--passphrase",
            "",
            "--detach-sign",
            "--armor",
            "-o",
            asc.to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        asc
    }

    /// Revokes the key with the certificate gpg made at its creation, as a team does after a
    /// compromise.
    pub fn revoke(&self) {
        let fpr = self.fingerprint();
        let cert = self.home.path().join(format!("openpgp-revocs.d/{fpr}.rev"));
        // gpg writes the certificate with its armour line defused by a leading ':'.
        let text = std::fs::read_to_string(&cert).unwrap().replace(
            ":-----BEGIN PGP PUBLIC KEY BLOCK-----",
            "-----BEGIN PGP PUBLIC KEY BLOCK-----",
        );
        let armed = self.home.path().join("revoke.asc");
        std::fs::write(&armed, text).unwrap();
        self.run(&["--import", armed.to_str().unwrap()]);
    }

    /// The secret key, ASCII-armoured (what must never reach the portal).
    pub fn export_secret(&self) -> Vec<u8> {
        self.run(&["--passphrase", "", "--armor", "--export-secret-keys"])
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        let listing = String::from_utf8(self.run(&["--with-colons", "--list-keys"])).unwrap();
        listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:::::::::"))
            .unwrap()
            .trim_end_matches(':')
            .to_owned()
    }

    /// `gpg --verify SIGNATURE DATA`: whether the stock tool accepts it.
    pub fn verifies(&self, signature: &Path, data: &Path) -> bool {
        Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--verify"])
            .arg(signature)
            .arg(data)
            .output()
            .unwrap()
            .status
            .success()
    }
}

/// Whether stock `gpg`, knowing only the public key `key` (imported into a fresh home),
/// verifies `signature` over `data`: what a CSAF consumer does with the served key.
pub fn verifies_with(key: &[u8], signature: &Path, data: &Path) -> bool {
    let home = TempDir::new("gpg-consumer");
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let key_file = home.path().join("key.asc");
    std::fs::write(&key_file, key).unwrap();
    let gpg = |args: &[&std::ffi::OsStr]| {
        let ok = Command::new("gpg")
            .arg("--homedir")
            .arg(home.path())
            .arg("--batch")
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(home.path())
            .args(["--kill", "gpg-agent"])
            .output();
        ok
    };
    gpg(&["--import".as_ref(), key_file.as_os_str()])
        && gpg(&["--verify".as_ref(), signature.as_os_str(), data.as_os_str()])
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}
