//! The workflow sections of the configuration: `[sla]` (the policy's promises and the working-day
//! calendar), `[retention]` and `[notify]`.

use super::{ConfigError, HumanDuration};
use crate::deadlines::LiberationDay;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

fn invalid<T>(key: &'static str, problem: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid {
        key,
        problem: problem.into(),
    })
}

/// `[sla]`: the promises of the disclosure policy, and the calendar they are counted in.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sla {
    /// Acknowledge within this many working days.
    pub acknowledge_working_days: u32,
    /// First assessment within this many working days.
    pub assess_working_days: u32,
    /// Resolution within this many calendar days.
    pub resolve_days: u32,
    /// Data breaches: hours until the supervisory authority must be notified.
    pub data_breach_notify_hours: u32,
    /// IANA time zone the working days are counted in.
    pub time_zone: String,
    /// Whether Good Friday is a day off.
    pub good_friday_closed: bool,
    /// Liberation Day (5 May): `always`, `lustrum` (every five years) or `never` a day off.
    pub liberation_day: LiberationDay,
    /// Extra days off, `YYYY-MM-DD`.
    pub closed_days: Vec<String>,
}

impl Default for Sla {
    fn default() -> Self {
        Self {
            acknowledge_working_days: 1,
            assess_working_days: 3,
            resolve_days: 90,
            data_breach_notify_hours: 72,
            time_zone: "Europe/Amsterdam".into(),
            good_friday_closed: true,
            liberation_day: LiberationDay::Always,
            closed_days: Vec::new(),
        }
    }
}

impl Sla {
    /// The working-day calendar.
    pub fn calendar(&self) -> Result<crate::deadlines::Calendar, ConfigError> {
        let tz = jiff::tz::TimeZone::get(&self.time_zone).map_err(|_| ConfigError::Invalid {
            key: "sla.time_zone",
            problem: format!(
                "{:?} is not a known IANA time zone (e.g. Europe/Amsterdam)",
                self.time_zone
            ),
        })?;
        let mut days = Vec::new();
        for d in &self.closed_days {
            days.push(
                d.parse::<jiff::civil::Date>()
                    .map_err(|_| ConfigError::Invalid {
                        key: "sla.closed_days",
                        problem: format!("{d:?} is not a date like 2026-12-24"),
                    })?,
            );
        }
        Ok(crate::deadlines::Calendar::new(
            tz,
            self.good_friday_closed,
            self.liberation_day,
            days,
        ))
    }

    /// The promises, for the deadline clocks.
    pub fn promises(&self) -> crate::deadlines::Promises {
        crate::deadlines::Promises {
            acknowledge_working_days: self.acknowledge_working_days,
            assess_working_days: self.assess_working_days,
            resolve_days: self.resolve_days,
            data_breach_notify_hours: self.data_breach_notify_hours,
        }
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.calendar()?;
        if self.resolve_days == 0 || self.resolve_days > 3650 {
            return invalid("sla.resolve_days", "must be between 1 and 3650");
        }
        if self.acknowledge_working_days > 60 || self.assess_working_days > 260 {
            return invalid(
                "sla.acknowledge_working_days",
                "and assess_working_days must be at most 60 and 260",
            );
        }
        if self.data_breach_notify_hours == 0 {
            return invalid("sla.data_breach_notify_hours", "must be at least 1");
        }
        Ok(())
    }
}

/// `[retention]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Ciphertext is deleted this many days after a case is resolved or rejected (a tombstone
    /// stays); 0 keeps it until `sealdrop admin purge`.
    pub delete_after_days: u32,
    /// `admin list` warns this many days before a deletion.
    pub warn_days: u32,
    /// How often the purge runs (also once at start-up).
    pub purge_interval: HumanDuration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            delete_after_days: 365,
            warn_days: 14,
            purge_interval: HumanDuration(Duration::from_secs(24 * 3600)),
        }
    }
}

impl Retention {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.purge_interval.0 < Duration::from_secs(1) {
            return invalid("retention.purge_interval", "must be at least 1s");
        }
        Ok(())
    }
}

/// A secret setting: never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); never falls back to plain.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a mail relay on loopback.
    None,
}

/// `[notify]`: optional notifications to the team, and the optional automatic acknowledgement
/// to the reporter. They never carry report content.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Notify {
    /// SMTP server; empty: no mail.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// `starttls`, `tls` or `none` (loopback only).
    pub smtp_security: SmtpSecurity,
    /// SMTP user name; empty: no authentication.
    pub smtp_username: String,
    /// SMTP password (prefer the environment variable).
    pub smtp_password: Secret,
    /// Extra CA certificates (PEM) to trust for the SMTP server.
    pub smtp_ca_file: PathBuf,
    /// Sender address.
    pub from: String,
    /// The team's addresses for notifications.
    pub to: Vec<String>,
    /// URL that receives a JSON POST per notification; empty: none.
    pub webhook_url: String,
    /// Extra CA certificates (PEM) to trust for the webhook.
    pub webhook_ca_file: PathBuf,
    /// Offer reporters an acknowledgement e-mail with their reference (needs SMTP).
    pub auto_acknowledge: bool,
    /// How often overdue clocks are checked.
    pub check_interval: HumanDuration,
    /// Network timeout per delivery attempt.
    pub timeout: HumanDuration,
}

impl Default for Notify {
    fn default() -> Self {
        Self {
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: String::new(),
            smtp_password: Secret::default(),
            smtp_ca_file: PathBuf::new(),
            from: "sealdrop@localhost".into(),
            to: Vec::new(),
            webhook_url: String::new(),
            webhook_ca_file: PathBuf::new(),
            auto_acknowledge: false,
            check_interval: HumanDuration(Duration::from_secs(60)),
            timeout: HumanDuration(Duration::from_secs(20)),
        }
    }
}

impl Notify {
    /// True when mail can be sent.
    pub fn mail_enabled(&self) -> bool {
        !self.smtp_host.is_empty()
    }

    /// True when the team is notified at all.
    pub fn team_enabled(&self) -> bool {
        (self.mail_enabled() && !self.to.is_empty()) || !self.webhook_url.is_empty()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.mail_enabled() {
            if self.to.is_empty() && !self.auto_acknowledge {
                return invalid(
                    "notify.to",
                    "must list the team's addresses when notify.smtp_host is set",
                );
            }
            for a in self.to.iter().chain(std::iter::once(&self.from)) {
                if !looks_like_address(a) {
                    return invalid(
                        "notify.to",
                        format!("{a:?} (or notify.from) is not an e-mail address"),
                    );
                }
            }
            if self.smtp_username.is_empty() != self.smtp_password.0.is_empty() {
                return invalid(
                    "notify.smtp_username",
                    "and notify.smtp_password must be set together",
                );
            }
        } else if self.auto_acknowledge {
            return invalid(
                "notify.auto_acknowledge",
                "needs notify.smtp_host (the acknowledgement is sent by e-mail)",
            );
        }
        if !self.webhook_url.is_empty()
            && !self.webhook_url.starts_with("https://")
            && !self.webhook_url.starts_with("http://")
        {
            return invalid("notify.webhook_url", "must be an https:// URL");
        }
        if self.check_interval.0 < Duration::from_secs(1) {
            return invalid("notify.check_interval", "must be at least 1s");
        }
        Ok(())
    }
}

/// An address the mailer can send to (the one rule: `outbound::smtp::deliverable`).
pub fn looks_like_address(a: &str) -> bool {
    crate::outbound::smtp::deliverable(a).is_some()
}
