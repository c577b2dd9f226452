//! The outbound transport: TCP connect with timeouts, the rustls client configuration (ring only,
//! system CA bundle plus an optional extra CA file) and a stream that is plain or TLS. The only
//! outbound file that touches rustls.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConnection, RootCertStore, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use rustls::ClientConfig;

/// Debian's and Ubuntu's bundle of the system's trusted CAs (also present on Alpine and Arch).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Why no TLS client configuration could be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsClientError {
    /// A CA file could not be read or is not valid PEM.
    #[error(
        "cannot read the CA certificates in {path}: {source}; check that the file exists, is readable and holds PEM certificates"
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: rustls::pki_types::pem::Error,
    },
    /// The extra CA file holds no certificate.
    #[error(
        "{path} holds no certificate; give a PEM file with at least one \"-----BEGIN CERTIFICATE-----\" block"
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A certificate in the extra CA file cannot serve as a trust anchor.
    #[error("certificate {index} in {path} cannot be used as a CA: {source}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// Position of the certificate in the file, from 1.
        index: usize,
        /// Why it was refused.
        source: rustls::Error,
    },
    /// Neither the system bundle nor an extra CA file gave a single trusted CA.
    #[error(
        "no trusted CA certificates: {SYSTEM_BUNDLE} is missing or empty and no CA file is set; install the ca-certificates package or set the CA file option"
    )]
    NoRoots,
    /// rustls refused the protocol versions (only with a broken crypto provider).
    #[error("TLS setup failed: {0}")]
    Setup(rustls::Error),
}

/// A client configuration that trusts the system CA bundle (if present) plus every certificate
/// in `ca_file`. No client certificate.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsClientError> {
    build_config(Path::new(SYSTEM_BUNDLE), ca_file)
}

fn build_config(
    system_bundle: &Path,
    ca_file: Option<&Path>,
) -> Result<Arc<ClientConfig>, TlsClientError> {
    let mut roots = RootCertStore::empty();
    if system_bundle.exists() {
        let certs = read_certs(system_bundle)?;
        // One odd certificate in the distribution's bundle must not take mail down with it.
        let (added, ignored) = roots.add_parsable_certificates(certs);
        tracing::debug!(added, ignored, bundle = %system_bundle.display(), "system CA bundle");
    }
    if let Some(path) = ca_file {
        let certs = read_certs(path)?;
        if certs.is_empty() {
            return Err(TlsClientError::NoCertificate { path: path.into() });
        }
        // The operator named this file on purpose: a certificate that does not load is an error,
        // not something to skip silently and discover at the first handshake.
        for (i, cert) in certs.into_iter().enumerate() {
            roots
                .add(cert)
                .map_err(|source| TlsClientError::BadCertificate {
                    path: path.into(),
                    index: i + 1,
                    source,
                })?;
        }
    }
    if roots.is_empty() {
        return Err(TlsClientError::NoRoots);
    }
    // An explicit provider: with the process-wide default, a second provider pulled in by any
    // dependency (aws-lc-rs) makes rustls panic.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsClientError::Setup)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsClientError> {
    let unreadable = |source| TlsClientError::Unreadable {
        path: path.into(),
        source,
    };
    CertificateDer::pem_file_iter(path)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)
}

/// Opens a TCP connection to the first address of `host` that answers within `timeout`, with
/// read and write timeouts set so that a stalled peer cannot block the caller for ever.
pub(super) fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = None;
    // Name resolution has no timeout in std; the system resolver's own limits apply.
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(timeout))?;
                tcp.set_write_timeout(Some(timeout))?;
                // Commands are small and answered one by one: waiting to fill a segment only adds
                // latency.
                tcp.set_nodelay(true)?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the host name has no address")))
}

/// Runs the TLS handshake over `tcp`, verifying the server's certificate for `host` against the
/// roots in `config`. Errors here (`InvalidData`) mean the certificate or the TLS setup is wrong.
pub(super) fn handshake(
    mut tcp: TcpStream,
    config: Arc<ClientConfig>,
    host: &str,
) -> io::Result<Stream> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
    // Finishing the handshake here, rather than lazily on the first write, lets callers report a
    // certificate problem as such instead of as a failed command.
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))))
}

/// A connection that is either plain TCP or TLS over TCP.
pub(super) enum Stream {
    /// Plain TCP (SMTP before STARTTLS, or loopback only).
    Plain(TcpStream),
    /// TLS; boxed because the connection state is much larger than a socket.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// True when `host` is "localhost" or a loopback address: the only places plain text may go.
pub(super) fn is_loopback(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// True for the error kinds a read or write timeout produces (it differs between platforms).
pub(super) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ob-tls-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn loopback_hosts_are_recognised_and_others_are_not() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "mail.example.org",
            "10.0.0.1",
            "localhost.evil.example",
            "::2",
            "",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn missing_ca_file_is_an_error_naming_the_file() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(err, TlsClientError::Unreadable { .. }));
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn ca_file_without_certificates_is_an_error_naming_the_file() {
        let path = temp_file("empty.pem", "not a certificate\n");
        let err = client_config(Some(&path)).unwrap_err();
        assert!(matches!(err, TlsClientError::NoCertificate { .. }), "{err}");
        assert!(err.to_string().contains("empty.pem"), "{err}");
    }

    #[test]
    fn no_system_bundle_and_no_ca_file_is_an_error() {
        let err = build_config(Path::new("/nonexistent/bundle.crt"), None).unwrap_err();
        assert!(matches!(err, TlsClientError::NoRoots), "{err}");
    }

    #[test]
    fn system_bundle_alone_gives_a_config_when_present() {
        if Path::new(SYSTEM_BUNDLE).exists() {
            client_config(None).unwrap();
        }
    }
}
