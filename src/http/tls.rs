//! TLS from PEM files with one explicit crypto provider (ring), and a certificate store that can
//! be swapped while connections stay open; plus two questions about certificates asked elsewhere
//! (is the demo's still in date, what did a client refuse in a portal's). The only module that
//! uses rustls.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(pub String);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The current certificate and key; new handshakes use whatever is installed, open connections
/// keep theirs.
#[derive(Debug)]
pub struct CertStore {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertStore {
    /// Loads the PEM files.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<CertStore>, TlsError> {
        let loaded = load_pair(cert, key)?;
        Ok(Arc::new(CertStore {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(loaded),
        }))
    }

    /// Reads the files again; on any error the old pair stays installed.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load_pair(&self.cert, &self.key)?;
        match self.current.write() {
            Ok(mut g) => *g = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// The rustls server configuration that resolves through this store.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let g = match self.current.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        Some(Arc::clone(&g))
    }
}

/// What a TLS client refused in a server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateProblem {
    /// No authority the client trusts signed it (self-signed, or a private CA).
    Untrusted,
    /// Expired, or not valid yet.
    OutOfDate,
    /// Issued for another host name.
    WrongName,
    /// Anything else the verifier refused.
    Refused,
}

/// The certificate problem behind a TLS client's error (a rustls error, also one carried inside
/// an `io::Error`), or `None` when the error is not about the certificate.
pub fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<CertificateProblem> {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        let inner: &(dyn std::error::Error + 'static) = io.get_ref()?;
        return certificate_problem(inner);
    }
    let rustls::Error::InvalidCertificate(c) = e.downcast_ref::<rustls::Error>()? else {
        return None;
    };
    use rustls::CertificateError as C;
    Some(match c {
        C::UnknownIssuer => CertificateProblem::Untrusted,
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
            CertificateProblem::OutOfDate
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => CertificateProblem::WrongName,
        _ => CertificateProblem::Refused,
    })
}

/// Whether `at` lies within the validity of the self-signed certificate in the PEM file `cert`
/// (the first one in it). rustls's own verifier decides, with the certificate as its only root,
/// so no date is parsed here. An error when the file holds no such certificate.
pub fn self_signed_valid_at(cert: &Path, at: SystemTime) -> Result<bool, TlsError> {
    use rustls::client::danger::ServerCertVerifier;
    let der = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError(format!("cannot read certificate {}: {e}", cert.display())))?
        .next()
        .ok_or_else(|| TlsError(format!("no certificate found in {}", cert.display())))?
        .map_err(|e| TlsError(format!("bad certificate PEM in {}: {e}", cert.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(der.clone())
        .map_err(|e| TlsError(format!("{}: {e}", cert.display())))?;
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| TlsError(e.to_string()))?;
    let at = rustls::pki_types::UnixTime::since_unix_epoch(
        at.duration_since(UNIX_EPOCH).unwrap_or_default(),
    );
    // Any name will do: the dates are checked before the name.
    let name = rustls::pki_types::ServerName::try_from("localhost")
        .map_err(|e| TlsError(e.to_string()))?;
    match verifier.verify_server_cert(&der, &[], &name, &[], at) {
        Ok(_) => Ok(true),
        Err(e) => match certificate_problem(&e) {
            Some(CertificateProblem::OutOfDate) => Ok(false),
            Some(CertificateProblem::WrongName) => Ok(true),
            _ => Err(TlsError(format!(
                "{} is not a usable self-signed certificate: {e}",
                cert.display()
            ))),
        },
    }
}

fn load_pair(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError(format!("cannot read certificate {}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError(format!("bad certificate PEM in {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "no certificate found in {}",
            cert.display()
        )));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError(format!("cannot read private key {}: {e}", key.display())))?;
    let pair = CertifiedKey::from_der(certs, key_der, &provider())
        .map_err(|e| TlsError(format!("certificate and key do not fit together: {e}")))?;
    Ok(Arc::new(pair))
}
