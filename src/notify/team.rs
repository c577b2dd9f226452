//! The team's notifications: new cases and overdue clocks, derived from the open cases in the
//! database (markers record what was sent, so a failed delivery is retried next round and a
//! restart sends nothing twice). New cases are mailed in batches: at most one mail per
//! `notify.check_interval`, listing every case that arrived since the last one, so a flood of
//! reports cannot flood the team's mailbox. Webhooks get one event per case (machines cope).

use crate::adminapi::CaseView;
use crate::clock::Clock;
use crate::deadlines::{ClockKind, ClockState};
use crate::outbound::{smtp, webhook};
use crate::store::{Notices, StoreError};
use crate::workflow::Policy;
use std::cell::Cell;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Most cases listed in one batch mail (the rest follow in the next).
const MAX_BATCH: usize = 50;

/// The notifier thread's state.
pub(super) struct Worker {
    pub(super) db: Notices,
    pub(super) clock: Clock,
    pub(super) policy: Policy,
    pub(super) org: String,
    pub(super) contact: String,
    pub(super) smtp: Option<smtp::Settings>,
    pub(super) team: Vec<String>,
    pub(super) webhook: Option<(String, Option<PathBuf>)>,
    pub(super) timeout: Duration,
    pub(super) batch_every: Duration,
    pub(super) last_batch: Cell<Option<Instant>>,
    /// A channel that failed in this round is not tried again until the next one, so that a
    /// dead relay costs one timeout per round, not one per notification.
    pub(super) mail_down: Cell<bool>,
    pub(super) webhook_down: Cell<bool>,
}

impl Worker {
    pub(super) fn run(self, rx: &mpsc::Receiver<()>, interval: Duration) {
        self.round();
        loop {
            match rx.recv_timeout(interval) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {
                    // Many commits' wake-ups make one round.
                    while rx.try_recv().is_ok() {}
                    self.round()
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn round(&self) {
        self.mail_down.set(false);
        self.webhook_down.set(false);
        if let Err(e) = self.try_round() {
            tracing::error!(error = %e, "notification round failed");
        }
    }

    fn mail_enabled(&self) -> Option<&smtp::Settings> {
        self.smtp.as_ref().filter(|_| !self.team.is_empty())
    }

    /// The mail settings when mail may be tried in this round.
    fn mail_now(&self) -> Option<&smtp::Settings> {
        self.mail_enabled().filter(|_| !self.mail_down.get())
    }

    /// One pass over the open cases only: closed ones have no running clock and were announced
    /// when they arrived.
    fn try_round(&self) -> Result<(), StoreError> {
        // Portals sharing a database: one of them notifies.
        if !self.db.leads()? {
            return Ok(());
        }
        let epoch = self.db.marker("notify-epoch")?.unwrap_or(0);
        let now = self.clock.now();
        let mut unannounced = Vec::new();
        for record in self.db.open_records()? {
            let received = crate::workflow::parse_ts(&record.received_at)
                .map_or(0, |t| t.as_second().max(0) as u64);
            let view = self.policy.view(record, now);
            if self.policy.publication_due(&view.record, now) {
                self.publication_reminder(&view)?;
            }
            if received >= epoch && !view.record.status.is_final() {
                let key = format!("announced/{}", view.record.case);
                self.webhook_once(&key, &announcement_json(&view))?;
                if self.mail_enabled().is_some()
                    && self.db.marker(&format!("{key}/mail"))?.is_none()
                {
                    unannounced.push(view.clone());
                }
            }
            for clock in view
                .clocks
                .iter()
                .filter(|c| c.state == ClockState::Overdue && !view.record.status.is_final())
            {
                self.overdue(&view, clock.kind, &clock.due_local)?;
            }
        }
        self.security_txt_expiry()?;
        self.mail_batch(&unannounced)
    }

    /// Warns the team once per threshold (30, then 7 days) before the signed security.txt
    /// expires; past its `Expires` the portal serves the unsigned rendering again.
    fn security_txt_expiry(&self) -> Result<(), StoreError> {
        let Some(signed) = self.db.security_txt()? else {
            return Ok(());
        };
        let now = self.clock.now();
        let Some(expires) = signed.expires_at().filter(|e| *e > now) else {
            return Ok(());
        };
        let days_left = (expires - now).as_hours().div_euclid(24);
        let Some(threshold) = crate::securitytxt::WARN_DAYS
            .iter()
            .rev()
            .find(|t| days_left < **t)
        else {
            return Ok(());
        };
        let key = format!("security-txt/{}/{threshold}", signed.expires);
        let json = serde_json::json!({
            "event": "security-txt-expiring",
            "expires": signed.expires,
            "days_left": days_left,
        });
        self.webhook_once(&key, &json)?;
        self.mail_once(&key, || smtp::Message {
            to: self.team.clone(),
            subject: format!("[sealdrop] security.txt expires in {days_left} day(s)"),
            body: format!(
                "The signed security.txt of {} expires at {}. After that the portal serves the \
                 unsigned rendering again.\n\n\
                 Renew it: sealdrop admin securitytxt render -o security.txt, then on your own \
                 machine gpg --clearsign security.txt, then sealdrop admin securitytxt install \
                 security.txt.asc\n\n-- \nsealdrop at {} ({})\n",
                self.org, signed.expires, self.org, self.contact
            ),
        })?;
        Ok(())
    }

    /// One mail listing new cases, unless one went out less than `batch_every` ago.
    fn mail_batch(&self, views: &[CaseView]) -> Result<(), StoreError> {
        let Some(settings) = self.mail_now() else {
            return Ok(());
        };
        if views.is_empty()
            || self
                .last_batch
                .get()
                .is_some_and(|at| at.elapsed() < self.batch_every)
        {
            return Ok(());
        }
        let views = &views[..views.len().min(MAX_BATCH)];
        let (subject, mut body) = match views {
            [one] => announcement(one, &self.org),
            many => {
                let cases: Vec<&str> = many.iter().map(|v| v.record.case.as_str()).collect();
                let mut body = format!("{} new reports arrived at {}.\n", many.len(), self.org);
                for v in many {
                    body.push('\n');
                    body.push_str(&announcement(v, &self.org).1);
                }
                (
                    format!(
                        "[sealdrop] {} new reports: {}",
                        many.len(),
                        cases.join(", ")
                    ),
                    body,
                )
            }
        };
        body.push_str(&format!(
            "\n-- \nsealdrop at {} ({})\n",
            self.org, self.contact
        ));
        let msg = smtp::Message {
            to: self.team.clone(),
            subject,
            body,
        };
        self.last_batch.set(Some(Instant::now()));
        match smtp::send(settings, &msg) {
            Ok(()) => {
                let stamp = self.clock.unix_seconds();
                for v in views {
                    self.db
                        .set_marker(&format!("announced/{}/mail", v.record.case), stamp)?;
                }
            }
            Err(e) => {
                self.mail_down.set(true);
                tracing::warn!(error = %e, cases = views.len(), "team mail not sent; retrying next round")
            }
        }
        Ok(())
    }

    fn overdue(&self, view: &CaseView, kind: ClockKind, due_local: &str) -> Result<(), StoreError> {
        let r = &view.record;
        let key = format!("overdue/{}/{}", r.case, kind.as_str());
        let json = serde_json::json!({
            "event": "clock-overdue",
            "case": r.case,
            "category": r.category,
            "clock": kind.as_str(),
            "due": view.clocks.iter().find(|c| c.kind == kind).map(|c| c.due.clone()),
        });
        self.webhook_once(&key, &json)?;
        self.mail_once(&key, || smtp::Message {
            to: self.team.clone(),
            subject: format!("[sealdrop] OVERDUE: {} of case {}", kind.describe(), r.case),
            body: format!(
                "Case {} ({}) at {}: the {} was due {} and has not happened.\n\n\
                 Record it when done: sealdrop admin status {} STATE --note TEXT\n\
                 \n-- \nsealdrop at {} ({})\n",
                r.case,
                r.category,
                self.org,
                kind.describe(),
                due_local,
                r.case,
                self.org,
                self.contact
            ),
        })?;
        Ok(())
    }

    /// Mails the team `msg` unless that was done for `key` before (or mail is off or down this
    /// round); true once it went out, now or before.
    fn mail_once(
        &self,
        key: &str,
        msg: impl FnOnce() -> smtp::Message,
    ) -> Result<bool, StoreError> {
        let marker = format!("{key}/mail");
        if self.db.marker(&marker)?.is_some() {
            return Ok(true);
        }
        let Some(settings) = self.mail_now() else {
            return Ok(false);
        };
        match smtp::send(settings, &msg()) {
            Ok(()) => {
                self.db.set_marker(&marker, self.clock.unix_seconds())?;
                Ok(true)
            }
            Err(e) => {
                self.mail_down.set(true);
                tracing::warn!(error = %e, notification = key, "mail not sent; retrying next round");
                Ok(false)
            }
        }
    }

    /// Reminds the team once that an agreed publication's date has come; marks the record when
    /// every configured channel has it (until then `admin list` warns and the next round retries).
    fn publication_reminder(&self, view: &CaseView) -> Result<(), StoreError> {
        let r = &view.record;
        let Some(p) = &r.disclosure.publication else {
            return Ok(());
        };
        let key = format!("publication/{}/{}", r.case, p.date);
        let json = serde_json::json!({
            "event": "publication-due",
            "case": r.case,
            "date": p.date,
            "url": p.url,
        });
        self.webhook_once(&key, &json)?;
        let link = p.url.as_deref().unwrap_or("(no link recorded yet)");
        let mailed = self.mail_once(&key, || smtp::Message {
            to: self.team.clone(),
            subject: format!("[sealdrop] Publication due: case {}", r.case),
            body: format!(
                "The publication agreed with the reporter of case {} at {} is due on {}.\n\
                 Link: {link}\n\n\
                 Record the link when it is out: sealdrop admin publish {} --date {} --url URL\n\
                 \n-- \nsealdrop at {} ({})\n",
                r.case, self.org, p.date, r.case, p.date, self.org, self.contact
            ),
        })?;
        // Done once every configured channel has it (with none, there is nothing to wait for:
        // `admin list` shows the reminder for a week either way).
        let mail_done = self.mail_enabled().is_none() || mailed;
        let hook_done =
            self.webhook.is_none() || self.db.marker(&format!("{key}/webhook"))?.is_some();
        if mail_done && hook_done {
            let (at, date) = (crate::clock::rfc3339(self.clock.now()), p.date.clone());
            self.db.update_case(&r.case, |rec| {
                // Only the date reminded of: a date changed meanwhile is reminded of again.
                if let Some(p) = rec
                    .disclosure
                    .publication
                    .as_mut()
                    .filter(|p| p.date == date)
                {
                    p.reminded_at.get_or_insert_with(|| at.clone());
                }
                Ok::<(), StoreError>(())
            })?;
        }
        Ok(())
    }

    /// Posts `json` to the webhook unless that was done for `key` before.
    fn webhook_once(&self, key: &str, json: &serde_json::Value) -> Result<(), StoreError> {
        let Some((url, ca)) = self.webhook.as_ref().filter(|_| !self.webhook_down.get()) else {
            return Ok(());
        };
        let marker = format!("{key}/webhook");
        if self.db.marker(&marker)?.is_some() {
            return Ok(());
        }
        match webhook::post_json(url, ca.as_deref(), json, self.timeout) {
            Ok(_) => {
                self.db.set_marker(&marker, self.clock.unix_seconds())?;
            }
            Err(e) => {
                self.webhook_down.set(true);
                tracing::warn!(error = %e, notification = key, "webhook failed; retrying next round")
            }
        }
        Ok(())
    }
}

fn encrypted_bytes(view: &CaseView) -> u64 {
    let r = &view.record;
    r.files.iter().map(|f| f.size).sum::<u64>() + r.manifest.size
}

/// The subject and text of one new case (or follow-up).
fn announcement(view: &CaseView, org: &str) -> (String, String) {
    let r = &view.record;
    let size = crate::config::ByteSize(encrypted_bytes(view));
    let (subject, mut body) = match &r.parent {
        Some(parent) => (
            format!("[sealdrop] Follow-up {} to case {parent}", r.case),
            format!(
                "The reporter of case {parent} added files to it at {org}.\n\n\
                 Follow-up: {}\nFiles:     {}\nSize:      {size} (encrypted)\n",
                r.case,
                r.file_count(),
            ),
        ),
        None => (
            format!("[sealdrop] New {} report: case {}", r.category, r.case),
            format!(
                "A new report arrived at {org}.\n\n\
                 Case:      {}\nCategory:  {}\nReceived:  {}\nFiles:     {}\nSize:      {size} (encrypted)\n",
                r.case,
                r.category,
                r.received_at,
                r.file_count(),
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
    (subject, body)
}

fn announcement_json(view: &CaseView) -> serde_json::Value {
    let r = &view.record;
    serde_json::json!({
        "event": if r.parent.is_some() { "follow-up-received" } else { "submission-received" },
        "case": r.case,
        "parent": r.parent,
        "category": r.category,
        "received_at": r.received_at,
        "files": r.file_count(),
        "encrypted_bytes": encrypted_bytes(view),
        "due": view.clocks.iter().map(|c| (c.kind.as_str(), c.due.clone())).collect::<std::collections::BTreeMap<_, _>>(),
    })
}
