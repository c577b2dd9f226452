//! `sealdrop demo`: a throwaway folder with everything needed to try the portal locally, and
//! the restart of such a folder (with a fresh certificate when the old one ran out).

use crate::keys;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl crate::hint::Hint for DemoError {
    fn hint(&self) -> Option<String> {
        Some(
            "pass --dir with a new folder, or with the folder of an earlier demo to restart it"
                .into(),
        )
    }
}

/// Why the demo folder could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file could not be written.
    #[error("cannot prepare demo folder {path}: {problem}")]
    Setup {
        /// Where.
        path: PathBuf,
        /// What failed.
        problem: String,
    },
}

/// The prepared demo.
pub struct Demo {
    /// The folder.
    pub dir: PathBuf,
    /// Its configuration file.
    pub config: PathBuf,
    /// The identity (private key) kept in the folder.
    pub identity: PathBuf,
    /// The URL the portal will serve.
    pub url: String,
    /// Its certificate (PEM), which `sealdrop send --ca-file` trusts.
    pub cert: PathBuf,
    /// What a restart found; `None` for a new demo.
    pub restarted: Option<Restart>,
    /// The team console's URL (a demo made before the console existed has none).
    pub console: Option<String>,
}

/// The console's address of a demo listening on `listen`: the same host, the next port.
fn console_listen(listen: &str) -> Option<String> {
    let addr: std::net::SocketAddr = listen.parse().ok()?;
    let port = addr.port().checked_add(1).filter(|_| addr.port() != 0)?;
    Some(std::net::SocketAddr::new(addr.ip(), port).to_string())
}

/// What restarting an earlier demo did to its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Still valid for more than a day: kept.
    CertificateKept,
    /// Expired, about to (within a day), or not valid yet: replaced with a fresh one.
    CertificateRenewed,
}

/// The files that make a folder an earlier demo's.
const DEMO_FILES: [&str; 5] = [
    "sealdrop.toml",
    "identity.txt",
    "keys/recipients.txt",
    "cert.pem",
    "key.pem",
];

/// Creates the demo folder (which must be new or empty), or restarts an earlier demo's folder.
/// The folder and everything in it are private to the owner (folders 0700, files 0600): it
/// holds the identity and the TLS key.
pub fn prepare(dir: Option<PathBuf>, listen: &str) -> Result<Demo, DemoError> {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "sealdrop-demo-{}",
            jiff::Timestamp::now().as_second()
        ))
    });
    let fail = |path: &Path, problem: String| DemoError::Setup {
        path: path.to_owned(),
        problem,
    };
    if dir.exists()
        && fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        if DEMO_FILES.iter().all(|f| dir.join(f).is_file()) {
            return restart(&dir);
        }
        return Err(fail(
            &dir,
            "it exists, is not empty and holds no earlier demo".into(),
        ));
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.join("keys"))
        .map_err(|e| fail(&dir, e.to_string()))?;
    // An empty folder that was there already keeps its mode unless told otherwise.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| fail(&dir, e.to_string()))?;
    let dir = dir.canonicalize().map_err(|e| fail(&dir, e.to_string()))?;
    let identity = dir.join("identity.txt");
    let recipient = keys::keygen(&identity).map_err(|e| fail(&identity, e.to_string()))?;
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| fail(&p, e.to_string()))
    };
    write(
        "keys/recipients.txt",
        &format!(
            "# DEMO key: its identity lies beside the server in identity.txt.\n\
             # Never use a demo for real reports.\n{recipient}\n"
        ),
    )?;
    let cert = self_signed(cert_names(listen)).map_err(|e| fail(&dir, e.to_string()))?;
    let console = console_listen(listen);
    let console_section = console
        .as_ref()
        .map(|c| format!("\n[console]\nlisten = \"{c}\"\n"))
        .unwrap_or_default();
    write("cert.pem", &cert.cert.pem())?;
    write("key.pem", &cert.signing_key.serialize_pem())?;
    write(
        "sealdrop.toml",
        &format!(
            "# sealdrop demo configuration (paths are relative to this file)\n\
             [server]\nlisten = \"{listen}\"\ntls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n\
             admin_socket = \"data/admin.sock\"\n\n\
             [storage]\ndata_dir = \"data\"\nmin_free_bytes = \"100MiB\"\n\n\
             [keys]\nrecipients_file = \"keys/recipients.txt\"\n\n\
             [org]\nname = \"sealdrop demo\"\ncontact_email = \"security@example.org\"\n\
             {console_section}"
        ),
    )?;
    Ok(Demo {
        config: dir.join("sealdrop.toml"),
        identity,
        url: format!("https://{listen}/"),
        cert: dir.join("cert.pem"),
        restarted: None,
        console: console.map(|c| format!("https://{c}/")),
        dir,
    })
}

/// The names the certificate is for: `localhost` and the host of `listen`.
fn cert_names(listen: &str) -> Vec<String> {
    let host = listen
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or("127.0.0.1");
    vec![
        "localhost".to_owned(),
        host.trim_matches(['[', ']']).to_owned(),
    ]
}

/// Restarts the earlier demo in `dir` on the address in its configuration, with its keys and
/// data. A certificate that expired, expires within a day or is not valid yet is replaced
/// (browsers and `sealdrop send` would refuse it); one that is not a self-signed certificate
/// is left alone.
fn restart(dir: &Path) -> Result<Demo, DemoError> {
    let fail = |path: &Path, problem: String| DemoError::Setup {
        path: path.to_owned(),
        problem,
    };
    let dir = dir.canonicalize().map_err(|e| fail(dir, e.to_string()))?;
    let config_path = dir.join("sealdrop.toml");
    let config = crate::config::Config::load(Some(&config_path), std::iter::empty())
        .map_err(|e| fail(&config_path, e.to_string()))?;
    let server = &config.server;
    let now = SystemTime::now();
    let in_date = |at| crate::http::tls::self_signed_valid_at(&server.tls_cert, at);
    let restarted = match (in_date(now), in_date(now + Duration::from_secs(86_400))) {
        (Ok(true), Ok(true)) | (Err(_), _) | (_, Err(_)) => Restart::CertificateKept,
        _ => {
            let fresh = self_signed(cert_names(&server.listen))
                .map_err(|e| fail(&server.tls_cert, e.to_string()))?;
            // The key first: a crash in between leaves an old, out-of-date certificate, which
            // the next restart replaces again.
            replace_private(&server.tls_key, &fresh.signing_key.serialize_pem())?;
            replace_private(&server.tls_cert, &fresh.cert.pem())?;
            Restart::CertificateRenewed
        }
    };
    Ok(Demo {
        identity: dir.join("identity.txt"),
        url: format!("https://{}/", server.listen),
        cert: server.tls_cert.clone(),
        restarted: Some(restarted),
        console: config
            .console
            .enabled()
            .then(|| format!("https://{}/", config.console.listen)),
        config: config_path,
        dir,
    })
}

/// Replaces `path` with `text` (mode 0600): a new file beside it, fsynced, renamed over it.
fn replace_private(path: &Path, text: &str) -> Result<(), DemoError> {
    let fail = |e: std::io::Error| DemoError::Setup {
        path: path.to_owned(),
        problem: e.to_string(),
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    let tmp = PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    let written = crate::os::create_private_file(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    written.and_then(|()| fs::rename(&tmp, path)).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        fail(e)
    })
}

/// How many days the demo's certificate is valid. TLS scanners refuse a certificate that
/// lives longer than a year, and rcgen's default lives for millennia.
pub const CERT_DAYS: u64 = 90;

/// A self-signed certificate for `names`, valid from a day ago (for clocks that are behind)
/// until [`CERT_DAYS`] from now.
fn self_signed(names: Vec<String>) -> Result<rcgen::CertifiedKey<rcgen::KeyPair>, rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(names)?;
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let now = rcgen::date_time_ymd(1970, 1, 1) + since_epoch;
    params.not_before = now - Duration::from_secs(86_400);
    params.not_after = now + Duration::from_secs(CERT_DAYS * 86_400);
    let signing_key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&signing_key)?;
    Ok(rcgen::CertifiedKey { cert, signing_key })
}

/// The banner printed before the demo starts.
pub fn banner(demo: &Demo, exe: &str) -> String {
    let cfg = demo.config.display();
    let restarted = match demo.restarted {
        None => "",
        Some(Restart::CertificateKept) => "Restarted the earlier demo (its keys and reports).\n\n",
        Some(Restart::CertificateRenewed) => {
            "Restarted the earlier demo (its keys and reports), with a fresh certificate: the \
             old one had run out.\n\n"
        }
    };
    format!(
        "\n\
         ==========================================================================\n\
         \x20 SEALDROP DEMO: NOT FOR REAL REPORTS\n\
         \x20 The private key (identity) lies beside the server in {dir}.\n\
         \x20 Anyone with this folder can read every upload.\n\
         ==========================================================================\n\n\
         {restarted}\
         Portal:   {url}   (self-signed certificate: your browser will warn)\n\
         Folder:   {dir}\n\n\
         Upload from a shell:\n\
         \x20 curl -k -F category=vulnerability -F message='hello' -F contact=me@example.org \\\n\
         \x20      -F file=@/etc/hostname {url}api/v1/submissions\n\n\
         Or with sealdrop itself (resumable; it checks the certificate instead of -k):\n\
         \x20 {exe} send --portal {portal} --ca-file {cert} \\\n\
         \x20      --category vulnerability --contact me@example.org /etc/hostname\n\n\
         Then, in another shell, list, export and decrypt:\n\
         \x20 {exe} admin --config {cfg} list\n\
         \x20 {exe} admin --config {cfg} export CASE -o case.tar\n\
         \x20 {exe} open case.tar -i {id} -o case/\n\n\
         {console}\
         Stop with Ctrl-C; restart with: {exe} demo --dir {dir}\n",
        console = match &demo.console {
            Some(url) => format!(
                "The team's console (the same certificate; sign in with the link printed \
                 below, or make one):\n\x20 {url}\n\x20 {exe} admin --config {cfg} \
                 console-link --as you@example.org --role admin\n\n"
            ),
            None => String::new(),
        },
        dir = demo.dir.display(),
        url = demo.url,
        portal = demo.url.trim_end_matches('/'),
        cert = demo.cert.display(),
        id = demo.identity.display(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::http::tls::self_signed_valid_at;

    #[test]
    fn a_fresh_demo_certificate_is_in_date_until_cert_days_and_not_after() {
        let dir = std::env::temp_dir().join(format!("sealdrop-demo-cert-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cert.pem");
        let pair = self_signed(cert_names("127.0.0.1:8443")).unwrap();
        fs::write(&path, pair.cert.pem()).unwrap();
        let day = Duration::from_secs(86_400);
        let now = SystemTime::now();
        assert!(self_signed_valid_at(&path, now).unwrap());
        assert!(self_signed_valid_at(&path, now + day * (CERT_DAYS as u32 - 1)).unwrap());
        assert!(!self_signed_valid_at(&path, now + day * (CERT_DAYS as u32 + 1)).unwrap());
        assert!(!self_signed_valid_at(&path, now - day * 2).unwrap());
        fs::write(&path, "not a certificate").unwrap();
        assert!(self_signed_valid_at(&path, now).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
