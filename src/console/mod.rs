//! The team's console, apart from HTTP (that is `http::console`): who may sign in and as what,
//! the one-time sign-in links, the pending sign-ins at the identity provider (`oidc`), and the
//! server-side sessions with their CSRF tokens. Every secret handed to a browser is kept here
//! under its hash only (`tokens`).
//!
//! The console reads and changes case metadata through the same typed operations as the CLI
//! (`ops`), with the signed-in member as the actor. It holds no key that reads a report, so a
//! stolen session can see and change metadata, never a report's content.

pub mod oidc;
pub mod tokens;

use crate::config::{Console as ConsoleConfig, Role};
use crate::ratelimit::RateLimiter;
use crate::record::Actor;
use std::net::IpAddr;
use std::sync::RwLock;
use std::time::{Duration, Instant};
use tokens::Table;

/// Most sessions, links and pending sign-ins kept at once (each).
const MAX_ENTRIES: usize = 4096;

/// How long a sign-in at the provider may take, from leaving to coming back.
const PENDING_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// A member signed in (or about to be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The name in the audit trail: the e-mail address or subject the provider gave, or the
    /// name of a sign-in link.
    pub name: String,
    /// What the member may do.
    pub role: Role,
}

impl Member {
    /// The audit trail's actor: `console:NAME`.
    pub fn actor(&self) -> Actor {
        Actor::console(&self.name)
    }

    /// True when the member may do what `needed` may.
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }
}

/// A session as the console keeps it.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub member: Member,
    /// The token every form of this session carries (CSRF).
    pub csrf: String,
    started: Instant,
}

/// A sign-in at the provider between leaving and coming back.
#[derive(Clone)]
struct Pending {
    nonce: String,
    verifier: String,
    /// The hash of the browser's sign-in cookie: the answer must come back to the browser that
    /// left (no sign-in forced onto another browser).
    browser: [u8; 32],
}

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Too many attempts from this address.
    #[error("too many sign-in attempts; try again in {0} seconds")]
    TooMany(u64),
    /// The link is unknown, used or expired.
    #[error("this sign-in link is not valid: it was used already, has expired or never existed")]
    BadLink,
    /// The provider's answer does not belong to a sign-in this browser started.
    #[error("this sign-in was not started here or took too long; start again")]
    BadState,
    /// The provider refused or failed.
    #[error("the identity provider said: {0}")]
    Provider(String),
    /// The ID token failed a check.
    #[error("the identity provider's answer failed a check: {0}")]
    Token(String),
    /// The provider cannot be reached or its configuration is unusable.
    #[error("the identity provider cannot be used right now: {0}")]
    Unavailable(String),
    /// Signed in at the provider, but not a member.
    #[error("{0} is not a member of the team's console")]
    NotMember(String),
    /// No provider configured.
    #[error("sign-in with an identity provider is not configured; ask an admin for a link")]
    NoProvider,
}

impl SignInError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::TooMany(_) => "rate-limited",
            SignInError::BadLink => "link-invalid",
            SignInError::BadState => "sign-in-state-invalid",
            SignInError::Provider(_) => "provider-refused",
            SignInError::Token(_) => "id-token-invalid",
            SignInError::Unavailable(_) => "provider-unavailable",
            SignInError::NotMember(_) => "not-a-member",
            SignInError::NoProvider => "no-provider",
        }
    }
}

/// The console's state.
pub struct Console {
    config: ConfigOf,
    sessions: Table<Session>,
    links: Table<Member>,
    pending: Table<Pending>,
    provider: Option<oidc::Provider>,
    attempts: RateLimiter,
}

struct ConfigOf {
    idle: Duration,
    max: Duration,
    link: Duration,
    public_url: RwLock<String>,
}

impl Console {
    /// The console of `config` (the provider is discovered at the first sign-in).
    pub fn new(c: &ConsoleConfig, public_url: String) -> Console {
        let provider = c.oidc_enabled().then(|| oidc::Provider::new(c));
        Console {
            config: ConfigOf {
                idle: c.session_idle.0,
                max: c.session_max.0,
                link: c.link_lifetime.0,
                public_url: RwLock::new(public_url),
            },
            sessions: Table::new(MAX_ENTRIES),
            links: Table::new(MAX_ENTRIES),
            pending: Table::new(MAX_ENTRIES),
            provider,
            attempts: RateLimiter::per_minute(c.sign_ins_per_minute),
        }
    }

    /// The address members use, without a trailing slash.
    pub fn public_url(&self) -> String {
        let url = self
            .config
            .public_url
            .read()
            .unwrap_or_else(|e| e.into_inner());
        url.trim_end_matches('/').to_owned()
    }

    /// Where the provider sends members back.
    fn redirect(&self) -> String {
        format!("{}/sign-in/callback", self.public_url())
    }

    /// The listener is bound at `addr` (plain HTTP): without `console.public_url`, members use
    /// that address.
    pub fn bound(&self, configured: &str, url: String) {
        if configured.is_empty() {
            *self
                .config
                .public_url
                .write()
                .unwrap_or_else(|e| e.into_inner()) = url;
        }
    }

    /// True when sign-in with a provider is configured.
    pub fn has_provider(&self) -> bool {
        self.provider.is_some()
    }

    /// Counts one sign-in attempt of `client`.
    pub fn attempt(&self, client: Option<IpAddr>) -> Result<(), SignInError> {
        self.attempts.check(client).map_err(SignInError::TooMany)
    }

    /// A one-time sign-in link for `member`, valid for `console.link_lifetime`: its URL and
    /// how long it lasts.
    pub fn create_link(&self, member: Member) -> (String, Duration) {
        let token = self.links.insert(member, Instant::now() + self.config.link);
        (
            format!("{}/sign-in/link/{token}", self.public_url()),
            self.config.link,
        )
    }

    /// Uses a sign-in link (once).
    pub fn redeem_link(&self, token: &str) -> Result<Member, SignInError> {
        self.links.take(token).ok_or(SignInError::BadLink)
    }

    /// Starts a session for `member`: the cookie's token and the session.
    pub fn start_session(&self, member: Member) -> (String, Session) {
        let now = Instant::now();
        let session = Session {
            member,
            csrf: tokens::new_token(),
            started: now,
        };
        let token = self
            .sessions
            .insert(session.clone(), now + self.config.idle);
        (token, session)
    }

    /// The session of a cookie's token, if it is live; each use moves its idle end.
    pub fn session(&self, token: &str) -> Option<Session> {
        let (idle, max) = (self.config.idle, self.config.max);
        self.sessions.touch(token, |s| {
            let now = Instant::now();
            let end = s.started + max;
            (now < end).then(|| (now + idle).min(end))
        })
    }

    /// Ends the session of a cookie's token.
    pub fn end_session(&self, token: &str) {
        self.sessions.remove(token);
    }

    /// Leaves for the provider (blocking: discovery may fetch). Answers the URL to send the
    /// browser to and the browser's sign-in cookie value.
    pub fn begin_sign_in(&self) -> Result<(String, String), SignInError> {
        let provider = self.provider.as_ref().ok_or(SignInError::NoProvider)?;
        let start = provider.begin(&self.redirect())?;
        let browser = tokens::new_token();
        let pending = Pending {
            nonce: start.nonce,
            verifier: start.verifier,
            browser: crate::digest::sha256(browser.as_bytes()),
        };
        self.pending
            .insert_as(&start.state, pending, Instant::now() + PENDING_LIFETIME);
        Ok((start.url, browser))
    }

    /// Comes back from the provider (blocking: the code is exchanged): the member signed in.
    pub fn finish_sign_in(
        &self,
        state: &str,
        code: &str,
        browser: Option<&str>,
    ) -> Result<Member, SignInError> {
        let provider = self.provider.as_ref().ok_or(SignInError::NoProvider)?;
        let pending = self.pending.take(state).ok_or(SignInError::BadState)?;
        let same_browser =
            browser.is_some_and(|b| crate::digest::sha256(b.as_bytes()) == pending.browser);
        if !same_browser {
            return Err(SignInError::BadState);
        }
        provider.finish(&self.redirect(), code, &pending.nonce, &pending.verifier)
    }
}

/// The member a provider's claims make, by the configured rules: the highest role of every
/// rule that matches (e-mail only when not marked unverified).
pub fn member_of(config: &ConsoleConfig, claims: &oidc::Claims) -> Result<Member, SignInError> {
    let email = claims
        .email
        .as_deref()
        .filter(|_| claims.email_verified != Some(false));
    let role = config
        .members
        .iter()
        .filter(|rule| {
            (!rule.email.is_empty() && email.is_some_and(|e| e.eq_ignore_ascii_case(&rule.email)))
                || (!rule.subject.is_empty() && rule.subject == claims.subject)
                || (!rule.group.is_empty() && claims.groups.contains(&rule.group))
        })
        .filter_map(|rule| rule.role)
        .max();
    let name = email.map_or_else(|| claims.subject.clone(), str::to_owned);
    match role {
        Some(role) => Ok(Member { name, role }),
        None => Err(SignInError::NotMember(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MemberRule;

    fn rules() -> ConsoleConfig {
        let rule = |email: &str, subject: &str, group: &str, role| MemberRule {
            email: email.into(),
            subject: subject.into(),
            group: group.into(),
            role: Some(role),
        };
        ConsoleConfig {
            members: vec![
                rule("Alice@Example.org", "", "", Role::Handler),
                rule("", "", "security-admins", Role::Admin),
                rule("", "sub-42", "", Role::Handler),
            ],
            ..ConsoleConfig::default()
        }
    }

    fn claims(
        sub: &str,
        email: Option<&str>,
        verified: Option<bool>,
        groups: &[&str],
    ) -> oidc::Claims {
        oidc::Claims {
            subject: sub.into(),
            email: email.map(Into::into),
            email_verified: verified,
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn members_are_matched_by_email_subject_or_group_with_the_highest_role() {
        let c = rules();
        let m = member_of(&c, &claims("x", Some("alice@example.org"), Some(true), &[])).unwrap();
        assert_eq!(
            (m.name.as_str(), m.role),
            ("alice@example.org", Role::Handler)
        );
        let m = member_of(
            &c,
            &claims("x", Some("alice@example.org"), None, &["security-admins"]),
        )
        .unwrap();
        assert_eq!(m.role, Role::Admin);
        let m = member_of(&c, &claims("sub-42", None, None, &[])).unwrap();
        assert_eq!((m.name.as_str(), m.role), ("sub-42", Role::Handler));
        let e = member_of(
            &c,
            &claims("x", Some("alice@example.org"), Some(false), &[]),
        );
        assert!(
            matches!(e, Err(SignInError::NotMember(_))),
            "unverified e-mail"
        );
        let e = member_of(
            &c,
            &claims("y", Some("mallory@example.org"), Some(true), &["staff"]),
        );
        assert!(matches!(e, Err(SignInError::NotMember(n)) if n == "mallory@example.org"));
    }

    #[test]
    fn sessions_end_when_idle_or_past_their_maximum() {
        let config = ConsoleConfig {
            session_idle: crate::config::HumanDuration(Duration::from_millis(200)),
            session_max: crate::config::HumanDuration(Duration::from_millis(500)),
            ..ConsoleConfig::default()
        };
        let console = Console::new(&config, "http://127.0.0.1:1".into());
        let member = Member {
            name: "a".into(),
            role: Role::Handler,
        };
        let (token, s) = console.start_session(member.clone());
        assert_eq!(console.session(&token).map(|s| s.member), Some(member));
        assert_eq!(s.csrf.len(), 43);
        std::thread::sleep(Duration::from_millis(300));
        assert!(console.session(&token).is_none(), "idle");
        let (token, _) = console.start_session(Member {
            name: "b".into(),
            role: Role::Admin,
        });
        for _ in 0..6 {
            std::thread::sleep(Duration::from_millis(100));
            let _ = console.session(&token);
        }
        assert!(console.session(&token).is_none(), "past the maximum");
        let (url, _) = console.create_link(Member {
            name: "c".into(),
            role: Role::Handler,
        });
        let token = url.rsplit('/').next().unwrap();
        assert!(console.redeem_link(token).is_ok());
        assert!(matches!(
            console.redeem_link(token),
            Err(SignInError::BadLink)
        ));
    }
}
