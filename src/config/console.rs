//! `[console]`: the team's console in the browser, its listener, its sign-in (OpenID Connect
//! and one-time links), its sessions and the members allowed in.

use super::{ConfigError, HumanDuration, Secret};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What a member may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Every case action.
    Handler,
    /// Every case action, and purge, invitations, the audit trail and the key list.
    Admin,
}

impl Role {
    /// As written in the config and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Handler => "handler",
            Role::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "handler" => Ok(Role::Handler),
            "admin" => Ok(Role::Admin),
            other => Err(format!("{other:?} is not a role; use handler or admin")),
        }
    }
}

/// One `[[console.members]]` entry: who is let in (exactly one of e-mail, subject or group, as
/// the identity provider's ID token says) and with which role.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRule {
    /// The `email` claim (only when the provider marks it verified, or says nothing).
    #[serde(default)]
    pub email: String,
    /// The `sub` claim.
    #[serde(default)]
    pub subject: String,
    /// One value of the group claim (`console.oidc_group_claim`).
    #[serde(default)]
    pub group: String,
    /// `handler` or `admin`.
    pub role: Option<Role>,
}

/// `[console]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Console {
    /// Where the console listens; empty: no console.
    pub listen: String,
    /// The address members use (`https://…`, no path); empty: the bound address (`https://`
    /// with TLS; loopback only). The sign-in callback is this + `/sign-in/callback`.
    pub public_url: String,
    /// TLS certificate (PEM); empty: `server.tls_cert`.
    pub tls_cert: PathBuf,
    /// TLS key (PEM); empty: `server.tls_key`.
    pub tls_key: PathBuf,
    /// A session ends after this long without a request.
    pub session_idle: HumanDuration,
    /// A session ends this long after sign-in, active or not.
    pub session_max: HumanDuration,
    /// How long a one-time sign-in link (`admin console-link`) stays valid.
    pub link_lifetime: HumanDuration,
    /// Sign-in attempts (provider round trips, links) per client address and minute.
    pub sign_ins_per_minute: u32,
    /// The identity provider's issuer URL; empty: sign-in by one-time links only.
    pub oidc_issuer: String,
    /// The client id registered at the provider.
    pub oidc_client_id: String,
    /// The client secret (prefer the environment variable
    /// `SEALDROP_CONSOLE_OIDC_CLIENT_SECRET` or `oidc_client_secret_file`).
    pub oidc_client_secret: Secret,
    /// A file holding the client secret (one line).
    pub oidc_client_secret_file: PathBuf,
    /// Scopes asked besides `openid`.
    pub oidc_scopes: Vec<String>,
    /// The ID-token claim that lists the member's groups.
    pub oidc_group_claim: String,
    /// Who may sign in with the provider, and as what.
    pub members: Vec<MemberRule>,
}

impl Default for Console {
    fn default() -> Self {
        Console {
            listen: String::new(),
            public_url: String::new(),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            session_idle: HumanDuration(Duration::from_secs(30 * 60)),
            session_max: HumanDuration(Duration::from_secs(10 * 3600)),
            link_lifetime: HumanDuration(Duration::from_secs(10 * 60)),
            sign_ins_per_minute: 10,
            oidc_issuer: String::new(),
            oidc_client_id: String::new(),
            oidc_client_secret: Secret(String::new()),
            oidc_client_secret_file: PathBuf::new(),
            oidc_scopes: vec!["email".into(), "profile".into()],
            oidc_group_claim: "groups".into(),
            members: Vec::new(),
        }
    }
}

impl Console {
    /// True when the console is configured.
    pub fn enabled(&self) -> bool {
        !self.listen.is_empty()
    }

    /// True when sign-in with an identity provider is configured.
    pub fn oidc_enabled(&self) -> bool {
        !self.oidc_issuer.is_empty()
    }

    /// The parsed listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| ConfigError::Invalid {
            key: "console.listen",
            problem: format!(
                "{:?} is not an IP address with a port, such as 127.0.0.1:8444",
                self.listen
            ),
        })
    }

    /// The client secret: the file wins over the value (the environment sets the value).
    pub fn client_secret(&self) -> Result<Secret, ConfigError> {
        if self.oidc_client_secret_file.as_os_str().is_empty() {
            return Ok(self.oidc_client_secret.clone());
        }
        let text = std::fs::read_to_string(&self.oidc_client_secret_file).map_err(|e| {
            ConfigError::Invalid {
                key: "console.oidc_client_secret_file",
                problem: format!(
                    "cannot be read ({}): {e}",
                    self.oidc_client_secret_file.display()
                ),
            }
        })?;
        Ok(Secret(text.trim().to_owned()))
    }

    /// Checks the section against the public listener (`public`) and TLS (`tls`: the files
    /// the console would use are set).
    pub(super) fn validate(&self, public: SocketAddr, tls: bool) -> Result<(), ConfigError> {
        let invalid = |key, problem: String| Err(ConfigError::Invalid { key, problem });
        if !self.enabled() {
            return Ok(());
        }
        let addr = self.listen_addr()?;
        if addr == public || (addr.port() == public.port() && addr.port() != 0) {
            return invalid(
                "console.listen",
                format!(
                    "{addr} is the public listener's address: the console needs a listener of \
                     its own (another port), never the reporters' one"
                ),
            );
        }
        if !tls && !addr.ip().is_loopback() {
            return invalid(
                "console.listen",
                format!(
                    "{addr} is not a loopback address, so the console needs TLS: set \
                     console.tls_cert and console.tls_key (or server.tls_cert and tls_key)"
                ),
            );
        }
        if !self.public_url.is_empty() {
            let ok = self.public_url.starts_with("https://")
                || (self.public_url.starts_with("http://") && addr.ip().is_loopback());
            if !ok || self.public_url.trim_end_matches('/').matches('/').count() > 2 {
                return invalid(
                    "console.public_url",
                    format!(
                        "{:?} must be an https:// address without a path, such as \
                         https://console.example.org",
                        self.public_url
                    ),
                );
            }
        } else if !addr.ip().is_loopback() {
            return invalid(
                "console.public_url",
                "is empty, but the console listens beyond loopback: set the https:// address \
                 members use (the provider sends them back to it)"
                    .into(),
            );
        }
        let idle = self.session_idle.0;
        if idle < Duration::from_secs(1) || idle > self.session_max.0 {
            return invalid(
                "console.session_idle",
                "must be at least 1s and at most console.session_max".into(),
            );
        }
        if self.session_max.0 > Duration::from_secs(7 * 24 * 3600) {
            return invalid("console.session_max", "must be at most 7d".into());
        }
        let link = self.link_lifetime.0;
        if link < Duration::from_secs(1) || link > Duration::from_secs(24 * 3600) {
            return invalid(
                "console.link_lifetime",
                "must be between 1s and 24h (a link is a password sent in the clear)".into(),
            );
        }
        if self.sign_ins_per_minute == 0 {
            return invalid("console.sign_ins_per_minute", "must be at least 1".into());
        }
        for (i, m) in self.members.iter().enumerate() {
            let named = [&m.email, &m.subject, &m.group]
                .iter()
                .filter(|s| !s.is_empty())
                .count();
            if named != 1 || m.role.is_none() {
                return invalid(
                    "console.members",
                    format!(
                        "entry {} must name exactly one of email, subject or group, and a role \
                         (handler or admin)",
                        i + 1
                    ),
                );
            }
        }
        if self.oidc_enabled() {
            if !(self.oidc_issuer.starts_with("https://") || loopback_http(&self.oidc_issuer)) {
                return invalid(
                    "console.oidc_issuer",
                    format!(
                        "{:?} must be an https:// URL (plain http only on loopback)",
                        self.oidc_issuer
                    ),
                );
            }
            if self.oidc_client_id.is_empty() {
                return invalid(
                    "console.oidc_client_id",
                    "is empty: set the client id registered at the provider".into(),
                );
            }
            if self.client_secret()?.0.is_empty() {
                return invalid(
                    "console.oidc_client_secret",
                    "is empty: set SEALDROP_CONSOLE_OIDC_CLIENT_SECRET or \
                     console.oidc_client_secret_file"
                        .into(),
                );
            }
            if self.members.is_empty() {
                return invalid(
                    "console.members",
                    "is empty, so nobody could sign in with the provider: add [[console.members]] \
                     entries (email, subject or group, and a role)"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// `http://` to a loopback host: `localhost` or a loopback IP address, nothing that merely
/// starts like one.
fn loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn check(c: &Console) -> String {
        let public: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        c.validate(public, false)
            .map(|()| String::new())
            .unwrap_or_else(|e| e.to_string())
    }

    fn on() -> Console {
        Console {
            listen: "127.0.0.1:8444".into(),
            ..Console::default()
        }
    }

    #[test]
    fn every_limit_is_checked_at_its_edge() {
        assert_eq!(check(&on()), "");
        let at = |f: &dyn Fn(&mut Console)| {
            let mut c = on();
            f(&mut c);
            check(&c)
        };
        let secs = |s| HumanDuration(Duration::from_secs(s));
        assert_eq!(at(&|c| c.session_idle = c.session_max), "");
        assert!(at(&|c| c.session_idle = secs(36_001)).contains("console.session_idle"));
        assert!(at(&|c| c.session_idle = HumanDuration(Duration::ZERO)).contains("session_idle"));
        assert_eq!(at(&|c| c.session_max = secs(7 * 86_400)), "");
        assert!(at(&|c| c.session_max = secs(7 * 86_400 + 1)).contains("session_max"));
        assert_eq!(at(&|c| c.link_lifetime = secs(86_400)), "");
        assert!(at(&|c| c.link_lifetime = secs(86_401)).contains("link_lifetime"));
        assert!(at(&|c| c.sign_ins_per_minute = 0).contains("sign_ins_per_minute"));
        assert!(at(&|c| c.listen = "127.0.0.1:8443".into()).contains("public listener"));
        assert!(at(&|c| c.listen = "nowhere".into()).contains("not an IP address"));
        assert!(
            at(&|c| c.public_url = "https://c.example.org/console".into())
                .contains("without a path")
        );
        assert_eq!(at(&|c| c.public_url = "https://c.example.org".into()), "");
    }

    #[test]
    fn a_provider_needs_an_id_a_secret_and_members_each_named_once() {
        let mut c = on();
        for plain in [
            "http://login.example.org",
            "http://127.example.org",
            "http://localhost.example.org/x",
            "http://127.0.0.1@evil.example.org",
        ] {
            c.oidc_issuer = plain.into();
            assert!(check(&c).contains("https://"), "{plain}");
        }
        for loopback in [
            "http://127.0.0.1:9000",
            "http://[::1]:9000/realms/x",
            "http://localhost",
        ] {
            assert!(loopback_http(loopback), "{loopback}");
        }
        c.oidc_issuer = "https://login.example.org/realms/x".into();
        assert!(check(&c).contains("oidc_client_id"));
        c.oidc_client_id = "sealdrop".into();
        assert!(check(&c).contains("SEALDROP_CONSOLE_OIDC_CLIENT_SECRET"));
        c.oidc_client_secret = Secret("s3cret".into());
        assert!(check(&c).contains("console.members"));
        c.members = vec![MemberRule {
            email: "a@example.org".into(),
            group: "team".into(),
            role: Some(Role::Admin),
            ..MemberRule::default()
        }];
        assert!(check(&c).contains("exactly one of"));
        c.members[0].group.clear();
        assert_eq!(check(&c), "");
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the secret never prints"
        );
        let file = std::env::temp_dir().join(format!("sealdrop-secret-{}", std::process::id()));
        std::fs::write(&file, "from-file\n").unwrap();
        c.oidc_client_secret_file = file.clone();
        assert_eq!(c.client_secret().unwrap().0, "from-file");
        std::fs::remove_file(&file).unwrap();
        assert!(check(&c).contains("oidc_client_secret_file"));
    }
}
