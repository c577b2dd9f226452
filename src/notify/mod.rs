//! Notifications, on a thread of their own: the team hears of new submissions and of clocks
//! that become overdue (mail and/or webhook), and a reporter who asked for it gets an
//! acknowledgement with their reference. Messages carry case numbers, categories, counts, sizes
//! and dates — never report content.
//!
//! Team notifications are derived from the database (markers record what was sent), so a crash
//! or a failed delivery means a retry on the next round, not a lost message. The reporter's
//! acknowledgement is sent from memory because the address is never stored.

use crate::clock::Clock;
use crate::config::{Config, SmtpSecurity};
use crate::outbound::smtp;
use crate::record::Record;
use crate::store::{Notices, StoreError};
use crate::workflow::Policy;
use std::path::PathBuf;
use std::sync::mpsc;

mod ack;
mod team;
use ack::Ack;
use team::Worker;

/// Handle to the notification threads (inactive when nothing is configured).
#[derive(Clone)]
pub struct Notifier {
    tx: Option<mpsc::Sender<()>>,
    acks: Option<ack::Queue>,
    auto_acknowledge: bool,
}

fn optional(p: &std::path::Path) -> Option<PathBuf> {
    (!p.as_os_str().is_empty()).then(|| p.to_owned())
}

impl Notifier {
    /// Starts the thread when `[notify]` asks for anything.
    pub fn start(
        config: &Config,
        db: Notices,
        policy: Policy,
        clock: Clock,
    ) -> Result<Notifier, StoreError> {
        let n = &config.notify;
        if !n.team_enabled() && !n.auto_acknowledge {
            return Ok(Notifier {
                tx: None,
                acks: None,
                auto_acknowledge: false,
            });
        }
        let smtp = n.mail_enabled().then(|| smtp::Settings {
            host: n.smtp_host.clone(),
            port: n.smtp_port,
            security: match n.smtp_security {
                SmtpSecurity::Starttls => smtp::Security::StartTls,
                SmtpSecurity::Tls => smtp::Security::Tls,
                SmtpSecurity::None => smtp::Security::Plain,
            },
            username: (!n.smtp_username.is_empty()).then(|| n.smtp_username.clone()),
            password: (!n.smtp_password.0.is_empty()).then(|| n.smtp_password.0.clone()),
            ca_file: optional(&n.smtp_ca_file),
            from: n.from.clone(),
            helo_name: n.from.rsplit('@').next().unwrap_or("localhost").to_owned(),
            timeout: n.timeout.0,
        });
        if db.marker("notify-epoch")?.is_none() {
            db.set_marker("notify-epoch", clock.unix_seconds())?;
        }
        let interval = n.check_interval.0;
        let worker = Worker {
            db,
            clock,
            policy,
            org: config.org.name.clone(),
            contact: config.org.contact_email.clone(),
            smtp,
            team: n.to.clone(),
            webhook: (!n.webhook_url.is_empty())
                .then(|| (n.webhook_url.clone(), optional(&n.webhook_ca_file))),
            timeout: n.timeout.0,
            batch_every: interval,
            last_batch: std::cell::Cell::new(None),
            mail_down: std::cell::Cell::new(false),
            webhook_down: std::cell::Cell::new(false),
        };
        let acks = match (&worker.smtp, n.auto_acknowledge) {
            (Some(settings), true) => Some(
                ack::Queue::start(settings.clone())
                    .map_err(|e| StoreError::Db(format!("cannot start the notifier: {e}")))?,
            ),
            _ => None,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sealdrop-notify".into())
            .spawn(move || worker.run(&rx, interval))
            .map_err(|e| StoreError::Db(format!("cannot start the notifier: {e}")))?;
        Ok(Notifier {
            tx: Some(tx),
            acks,
            auto_acknowledge: n.auto_acknowledge,
        })
    }

    /// Something changed: look for notifications now.
    pub fn wake(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(());
        }
    }

    /// True when reporters may ask for an acknowledgement e-mail.
    pub fn offers_acknowledgement(&self) -> bool {
        self.auto_acknowledge
    }

    /// Queues the reporter's acknowledgement to `to` (from memory; the address is not stored).
    /// False when it cannot be queued (not offered, or the bounded queue is full).
    pub fn acknowledge(&self, to: &str, text: Acknowledgement<'_>) -> bool {
        let (Some(queue), true) = (&self.acks, self.auto_acknowledge) else {
            return false;
        };
        queue.push(Ack {
            case: text.case.to_owned(),
            message: smtp::Message {
                to: vec![to.to_owned()],
                subject: text.subject(),
                body: text.body(),
            },
        })
    }
}

/// What the reporter's acknowledgement says.
pub struct Acknowledgement<'a> {
    /// The reporter's page language.
    pub lang: crate::i18n::Lang,
    /// Who received it.
    pub org: &'a str,
    /// Where to write.
    pub contact: &'a str,
    /// The portal's address.
    pub public_url: &'a str,
    /// The reporter's reference.
    pub reference: &'a str,
    /// The case number.
    pub case: &'a str,
    /// (promise, due) pairs, in the policy's time zone and the reporter's language.
    pub promises: Vec<(String, String)>,
}

impl Acknowledgement<'_> {
    fn fill(&self, key: &str) -> String {
        let mut promises = String::new();
        for (what, due) in &self.promises {
            promises.push_str(&format!("  {what}: {due}\n"));
        }
        crate::i18n::t(self.lang, key)
            .replace("{{org}}", self.org)
            .replace("{{case}}", self.case)
            .replace("{{reference}}", self.reference)
            .replace("{{contact_email}}", self.contact)
            .replace("{{public_url}}", self.public_url)
            .replace("{{promises}}", &promises)
    }

    fn subject(&self) -> String {
        self.fill("mail_ack_subject").replace(['\r', '\n'], " ")
    }

    fn body(&self) -> String {
        self.fill("mail_ack_body").trim_start().to_owned()
    }
}

/// The first e-mail address in free-form contact text.
pub fn address_in(contact: &str) -> Option<String> {
    contact
        .split(|c: char| c.is_whitespace() || ",;()[]".contains(c))
        .map(|t| t.trim_matches(|c| c == '<' || c == '>' || c == '.' || c == ':'))
        .map(|t| t.strip_prefix("mailto:").unwrap_or(t))
        .find(|t| smtp::deliverable(t).is_some())
        .map(str::to_owned)
}

/// The clocks of a fresh record as the reporter's acknowledgement lists them.
pub fn promises_of(
    policy: &Policy,
    record: &Record,
    lang: crate::i18n::Lang,
) -> Vec<(String, String)> {
    policy
        .reporter_status(record)
        .promises
        .into_iter()
        .map(|p| {
            let name = crate::i18n::t(lang, &format!("promise_{}", p.kind.as_str()));
            (name, p.due)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_address_is_found_in_free_form_contact_text() {
        assert_eq!(
            address_in("Jan, tel 0612345678, <jan@example.nl>").as_deref(),
            Some("jan@example.nl")
        );
        assert_eq!(address_in("mailto:a@b.org.").as_deref(), Some("a@b.org"));
        assert_eq!(address_in("phone only: 06-12345678"), None);
        assert_eq!(address_in("x@y"), None);
    }
}
