//! `sealdrop demo`: a throwaway folder with everything needed to try the portal locally.

use crate::keys;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl crate::hint::Hint for DemoError {
    fn hint(&self) -> Option<String> {
        Some(
            "pass --dir with a new folder; to restart an existing demo, run \
             `sealdrop serve --config DIR/sealdrop.toml`"
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
}

/// Creates the demo folder (which must be new or empty). The folder and everything in it are
/// private to the owner (folders 0700, files 0600): it holds the identity and the TLS key.
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
        return Err(fail(&dir, "it exists and is not empty".into()));
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
    let host = listen
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or("127.0.0.1");
    let cert = self_signed(vec![
        "localhost".to_owned(),
        host.trim_matches(['[', ']']).to_owned(),
    ])
    .map_err(|e| fail(&dir, e.to_string()))?;
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
             [org]\nname = \"sealdrop demo\"\ncontact_email = \"security@example.org\"\n"
        ),
    )?;
    Ok(Demo {
        config: dir.join("sealdrop.toml"),
        identity,
        url: format!("https://{listen}/"),
        dir,
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
    format!(
        "\n\
         ==========================================================================\n\
         \x20 SEALDROP DEMO: NOT FOR REAL REPORTS\n\
         \x20 The private key (identity) lies beside the server in {dir}.\n\
         \x20 Anyone with this folder can read every upload.\n\
         ==========================================================================\n\n\
         Portal:   {url}   (self-signed certificate: your browser will warn)\n\
         Folder:   {dir}\n\n\
         Upload from a shell:\n\
         \x20 curl -k -F category=vulnerability -F message='hello' -F contact=me@example.org \\\n\
         \x20      -F file=@/etc/hostname {url}api/v1/submissions\n\n\
         Then, in another shell, list, export and decrypt:\n\
         \x20 {exe} admin --config {cfg} list\n\
         \x20 {exe} admin --config {cfg} export CASE -o case.tar\n\
         \x20 {exe} open case.tar -i {id} -o case/\n\n\
         Stop with Ctrl-C.\n",
        dir = demo.dir.display(),
        url = demo.url,
        id = demo.identity.display(),
    )
}
