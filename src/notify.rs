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
use crate::deadlines::{ClockKind, ClockState};
use crate::outbound::{smtp, webhook};
use crate::record::Record;
use crate::store::{Db, StoreError};
use crate::workflow::{CaseView, Policy};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// Waits between attempts to send a reporter's acknowledgement (about 25 minutes in all).
const ACK_RETRIES: [u64; 6] = [5, 30, 60, 120, 300, 1000];

struct Ack {
    case: String,
    message: smtp::Message,
}

/// Handle to the notification threads (inactive when nothing is configured).
#[derive(Clone)]
pub struct Notifier {
    tx: Option<mpsc::Sender<()>>,
    acks: Option<mpsc::Sender<Ack>>,
    auto_acknowledge: bool,
}

struct Worker {
    db: Db,
    clock: Clock,
    policy: Policy,
    org: String,
    contact: String,
    smtp: Option<smtp::Settings>,
    team: Vec<String>,
    webhook: Option<(String, Option<PathBuf>)>,
    timeout: Duration,
}

fn optional(p: &std::path::Path) -> Option<PathBuf> {
    (!p.as_os_str().is_empty()).then(|| p.to_owned())
}

impl Notifier {
    /// Starts the thread when `[notify]` asks for anything.
    pub fn start(
        config: &Config,
        db: Db,
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
        };
        let interval = n.check_interval.0;
        let acks = match (&worker.smtp, n.auto_acknowledge) {
            (Some(settings), true) => {
                let (tx, rx) = mpsc::channel::<Ack>();
                let settings = settings.clone();
                std::thread::Builder::new()
                    .name("sealdrop-ack".into())
                    .spawn(move || {
                        while let Ok(ack) = rx.recv() {
                            acknowledge(&settings, &ack);
                        }
                    })
                    .map_err(|e| StoreError::Db(format!("cannot start the notifier: {e}")))?;
                Some(tx)
            }
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
    /// False when it cannot be queued (not offered).
    pub fn acknowledge(&self, to: &str, text: Acknowledgement<'_>) -> bool {
        let (Some(tx), true) = (&self.acks, self.auto_acknowledge) else {
            return false;
        };
        tx.send(Ack {
            case: text.case.to_owned(),
            message: smtp::Message {
                to: vec![to.to_owned()],
                subject: text.subject(),
                body: text.body(),
            },
        })
        .is_ok()
    }
}

/// Sends one acknowledgement, retrying for about 25 minutes; failures are logged with the case
/// number (never the address) so the team can follow up by hand.
fn acknowledge(settings: &smtp::Settings, ack: &Ack) {
    for (attempt, wait) in ACK_RETRIES.iter().enumerate() {
        match smtp::send(settings, &ack.message) {
            Ok(()) => {
                tracing::info!(case = %ack.case, "acknowledgement sent to the reporter");
                return;
            }
            Err(e) => {
                tracing::warn!(case = %ack.case, attempt = attempt + 1, error = %e,
                    "acknowledgement to the reporter not sent yet; retrying");
                std::thread::sleep(Duration::from_secs(*wait));
            }
        }
    }
    tracing::error!(case = %ack.case,
        "acknowledgement to the reporter given up; the address is not kept, so tell the reporter another way if they write");
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
        .find(|t| crate::config::looks_like_address(t))
        .map(str::to_owned)
}

impl Worker {
    fn run(self, rx: &mpsc::Receiver<()>, interval: Duration) {
        self.round();
        loop {
            match rx.recv_timeout(interval) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => self.round(),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn round(&self) {
        if let Err(e) = self.try_round() {
            tracing::error!(error = %e, "notification round failed");
        }
    }

    fn try_round(&self) -> Result<(), StoreError> {
        let epoch = self.db.marker("notify-epoch")?.unwrap_or(0);
        let now = self.clock.now();
        for record in self.db.list()? {
            if record.purged_at.is_some() {
                continue;
            }
            let received = crate::workflow::parse_ts(&record.received_at)
                .map_or(0, |t| t.as_second().max(0) as u64);
            let view = self.policy.view(record, now);
            if received >= epoch {
                self.announce(&view)?;
            }
            for clock in view
                .clocks
                .iter()
                .filter(|c| c.state == ClockState::Overdue)
            {
                self.overdue(&view, clock.kind, &clock.due_local)?;
            }
        }
        Ok(())
    }

    fn announce(&self, view: &CaseView) -> Result<(), StoreError> {
        let r = &view.record;
        let bytes: u64 = r.files.iter().map(|f| f.size).sum::<u64>() + r.manifest.size;
        let (subject, mut body) = match &r.parent {
            Some(parent) => (
                format!("[sealdrop] Follow-up {} to case {parent}", r.case),
                format!(
                    "The reporter of case {parent} added files to it at {}.\n\n\
                     Follow-up: {}\nFiles:     {}\nSize:      {} (encrypted)\n",
                    self.org,
                    r.case,
                    r.files.len(),
                    crate::config::ByteSize(bytes)
                ),
            ),
            None => (
                format!("[sealdrop] New {} report: case {}", r.category, r.case),
                format!(
                    "A new report arrived at {}.\n\n\
                     Case:      {}\nCategory:  {}\nReceived:  {}\nFiles:     {}\nSize:      {} (encrypted)\n",
                    self.org,
                    r.case,
                    r.category,
                    r.received_at,
                    r.files.len(),
                    crate::config::ByteSize(bytes)
                ),
            ),
        };
        if !view.clocks.is_empty() {
            body.push_str("\nDue:\n");
            for c in &view.clocks {
                body.push_str(&format!("  {:<60} {}\n", c.what, c.due_local));
            }
        }
        body.push_str(&format!(
            "\nExport it for offline decryption:\n  sealdrop admin export {} -o {}.tar\n",
            r.case, r.case
        ));
        let json = serde_json::json!({
            "event": if r.parent.is_some() { "follow-up-received" } else { "submission-received" },
            "case": r.case,
            "parent": r.parent,
            "category": r.category,
            "received_at": r.received_at,
            "files": r.files.len(),
            "encrypted_bytes": bytes,
            "due": view.clocks.iter().map(|c| (c.kind.as_str(), c.due.clone())).collect::<std::collections::BTreeMap<_, _>>(),
        });
        self.deliver(&format!("announced/{}", r.case), &subject, &body, &json)
    }

    fn overdue(&self, view: &CaseView, kind: ClockKind, due_local: &str) -> Result<(), StoreError> {
        let r = &view.record;
        let subject = format!("[sealdrop] OVERDUE: {} of case {}", kind.describe(), r.case);
        let body = format!(
            "Case {} ({}) at {}: the {} was due {} and has not happened.\n\n\
             Record it when done: sealdrop admin status {} STATE --note TEXT\n",
            r.case,
            r.category,
            self.org,
            kind.describe(),
            due_local,
            r.case
        );
        let json = serde_json::json!({
            "event": "clock-overdue",
            "case": r.case,
            "category": r.category,
            "clock": kind.as_str(),
            "due": view.clocks.iter().find(|c| c.kind == kind).map(|c| c.due.clone()),
        });
        self.deliver(
            &format!("overdue/{}/{}", r.case, kind.as_str()),
            &subject,
            &body,
            &json,
        )
    }

    /// Sends on every configured channel that has not sent this notification yet.
    fn deliver(
        &self,
        key: &str,
        subject: &str,
        body: &str,
        json: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let stamp = self.clock.unix_seconds();
        if let Some(settings) = self.smtp.as_ref().filter(|_| !self.team.is_empty()) {
            let marker = format!("{key}/mail");
            if self.db.marker(&marker)?.is_none() {
                let msg = smtp::Message {
                    to: self.team.clone(),
                    subject: subject.to_owned(),
                    body: format!("{body}\n-- \nsealdrop at {} ({})\n", self.org, self.contact),
                };
                match smtp::send(settings, &msg) {
                    Ok(()) => {
                        self.db.set_marker(&marker, stamp)?;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, notification = key, "mail not sent; retrying next round")
                    }
                }
            }
        }
        if let Some((url, ca)) = &self.webhook {
            let marker = format!("{key}/webhook");
            if self.db.marker(&marker)?.is_none() {
                match webhook::post_json(url, ca.as_deref(), json, self.timeout) {
                    Ok(_) => {
                        self.db.set_marker(&marker, stamp)?;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, notification = key, "webhook failed; retrying next round")
                    }
                }
            }
        }
        Ok(())
    }
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
