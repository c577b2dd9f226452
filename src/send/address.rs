//! Where `sealdrop send` may talk to: the portal's address (`https://`, or plain `http://` only
//! to this computer), and where a `Location` from the portal may lead (never off the portal's
//! origin: scheme, host and port).

use super::SendError;
use std::net::IpAddr;
use ureq::http::Uri;

/// Scheme, host and port: what must stay the same for every request of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    https: bool,
    /// Lower case, without the brackets of an IPv6 address.
    host: String,
    /// The default port when none is written.
    port: u16,
}

impl Origin {
    fn of(uri: &Uri) -> Option<Origin> {
        let https = match uri.scheme_str()?.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        let host = uri
            .host()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        Some(Origin { https, host, port })
    }
}

/// This computer: `localhost`, 127.0.0.0/8 or `::1`. Nothing else, not even a name that
/// resolves there (a name can be made to resolve anywhere).
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A portal address that passed the rules.
#[derive(Debug, Clone)]
pub struct PortalAddress {
    origin: Origin,
    /// As given, without a trailing `/` (it may carry a path prefix).
    base: String,
}

impl PortalAddress {
    /// Checks `portal`: an `https://` address, or `http://` to a loopback host.
    pub fn parse(portal: &str) -> Result<PortalAddress, SendError> {
        let base = portal.trim().trim_end_matches('/');
        let not_http =
            || SendError::Portal(format!("{portal} is not an http:// or https:// address"));
        let uri: Uri = base.parse().map_err(|_| not_http())?;
        let origin = Origin::of(&uri).ok_or_else(not_http)?;
        if !origin.https && !is_loopback(&origin.host) {
            return Err(SendError::PlainHttp {
                host: origin.host.clone(),
            });
        }
        Ok(PortalAddress {
            origin,
            base: base.to_owned(),
        })
    }

    /// Whether requests go over TLS.
    pub fn https(&self) -> bool {
        self.origin.https
    }

    /// The base address as given (no trailing `/`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `path` (one of the portal's own API paths, `/api/…`) under the base address.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `scheme://authority` of the base address, as given.
    fn origin_text(&self) -> &str {
        let after_scheme = self.base.find("://").map_or(0, |i| i + 3);
        let end = self.base[after_scheme..]
            .find(['/', '?', '#'])
            .map_or(self.base.len(), |i| after_scheme + i);
        &self.base[..end]
    }

    /// The absolute address of `location`, a `Location` the portal sent in answer to a request
    /// to `request_url`: a relative one resolves against it, an absolute one must be on the
    /// portal's origin.
    pub fn resolve(&self, location: &str, request_url: &str) -> Result<String, SendError> {
        let loc = location.trim();
        let absolute = if let Some(rest) = loc.strip_prefix("//") {
            let scheme = if self.origin.https { "https" } else { "http" };
            format!("{scheme}://{rest}")
        } else if has_scheme(loc) {
            loc.to_owned()
        } else if loc.starts_with('/') {
            return Ok(format!("{}{loc}", self.origin_text()));
        } else {
            // A relative path replaces the last segment of the request's path (RFC 3986).
            let dir = match request_url.rfind('/') {
                Some(i) if i >= self.origin_text().len() => &request_url[..=i],
                _ => return Ok(format!("{}/{loc}", self.origin_text())),
            };
            return Ok(format!("{dir}{loc}"));
        };
        let same = absolute
            .parse::<Uri>()
            .ok()
            .and_then(|u| Origin::of(&u))
            .is_some_and(|o| o == self.origin);
        if same {
            Ok(absolute)
        } else {
            Err(SendError::OffOrigin {
                location: loc.to_owned(),
                portal: self.origin_text().to_owned(),
            })
        }
    }
}

/// Whether `reference` starts with a URI scheme (`name:` before any `/`, `?` or `#`).
fn has_scheme(reference: &str) -> bool {
    let Some(colon) = reference.find(':') else {
        return false;
    };
    let scheme = &reference[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn plain_http_refused(portal: &str) -> bool {
        matches!(
            PortalAddress::parse(portal),
            Err(SendError::PlainHttp { .. })
        )
    }

    #[test]
    fn plain_http_is_refused_unless_the_host_is_this_computer() {
        for portal in [
            "http://127.0.0.1:8080",
            "http://127.45.6.7/",
            "http://[::1]:9000",
            "http://localhost:3000",
            "HTTP://LocalHost",
        ] {
            assert!(PortalAddress::parse(portal).is_ok(), "{portal}");
        }
        for portal in [
            "http://portal.example.org",
            "http://192.0.2.10:8080",
            "http://[2001:db8::1]",
            "http://127.0.0.1.example.org",
            "http://localhost.example.org",
            "http://127.0.0.1@portal.example.org",
            "http://[::ffff:192.0.2.10]",
        ] {
            assert!(plain_http_refused(portal), "{portal}");
        }
    }

    #[test]
    fn https_to_any_host_is_accepted_and_other_schemes_are_not() {
        assert!(PortalAddress::parse("https://portal.example.org/").is_ok());
        for portal in [
            "ftp://portal.example.org",
            "portal.example.org",
            "https://",
            "",
        ] {
            assert!(
                matches!(PortalAddress::parse(portal), Err(SendError::Portal(_))),
                "{portal}"
            );
        }
    }

    #[test]
    fn a_location_on_another_scheme_host_or_port_is_refused() {
        let p = PortalAddress::parse("https://portal.example.org").unwrap();
        let req = p.url("/api/v1/uploads");
        for loc in [
            "https://elsewhere.example.org/api/v1/uploads/x",
            "http://portal.example.org/api/v1/uploads/x",
            "https://portal.example.org:8443/api/v1/uploads/x",
            "https://portal.example.org.elsewhere.example/x",
            "https://portal.example.org@elsewhere.example/x",
            "//elsewhere.example.org/api/v1/uploads/x",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(p.resolve(loc, &req), Err(SendError::OffOrigin { .. })),
                "{loc}"
            );
        }
    }

    #[test]
    fn a_location_on_the_portals_origin_is_followed_and_a_relative_one_resolves_against_it() {
        let p = PortalAddress::parse("https://portal.example.org/prefix/").unwrap();
        let req = p.url("/api/v1/uploads");
        let ok = |loc: &str| p.resolve(loc, &req).unwrap();
        assert_eq!(
            ok("https://portal.example.org:443/api/v1/uploads/a"),
            "https://portal.example.org:443/api/v1/uploads/a"
        );
        assert_eq!(
            ok("HTTPS://Portal.Example.ORG/api/v1/uploads/a"),
            "HTTPS://Portal.Example.ORG/api/v1/uploads/a"
        );
        assert_eq!(ok("//portal.example.org/x"), "https://portal.example.org/x");
        assert_eq!(
            ok("/prefix/api/v1/uploads/a"),
            "https://portal.example.org/prefix/api/v1/uploads/a"
        );
        assert_eq!(
            ok("uploads/a"),
            "https://portal.example.org/prefix/api/v1/uploads/a"
        );
        let local = PortalAddress::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            local
                .resolve("/api/v1/uploads/b", &local.url("/api/v1/uploads"))
                .unwrap(),
            "http://127.0.0.1:8080/api/v1/uploads/b"
        );
    }
}
