//! The team's disclosure operations on a running portal (expected fix date, messages to the
//! reporter, credit, publication), the reporter's view of their case, and the public credits.

use crate::adminapi::CaseView;
use crate::letterbox;
use crate::portal::{Portal, PortalError};
use crate::record::Record;
use crate::store::StoreError;
use crate::workflow::{PublishedCredit, ReporterStatus, WorkflowError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the public list of credits is served from memory (a publish, a withdrawal or a
/// purge renews it at once): `/acknowledgments` and security.txt are public, and the list reads every record.
const CREDITS_FRESH: Duration = Duration::from_secs(60);

impl Portal {
    /// One compare-and-swap update of `case` by `f`, audited under `event` (without detail: no
    /// reporter data and no message text reach the audit trail or the log).
    fn disclose(
        &self,
        case: &str,
        event: &str,
        mut f: impl FnMut(&mut Record) -> Result<(), WorkflowError>,
    ) -> Result<CaseView, PortalError> {
        let now = self.now();
        let record = self
            .store()
            .db()
            .update_case(case, |r| f(r).map_err(PortalError::Workflow))?
            .ok_or_else(|| PortalError::NoSuchCase(case.to_owned()))?;
        self.audit_case(event, case, String::new())?;
        tracing::info!(case, event, "case updated");
        Ok(self.policy().view(record, now))
    }

    /// Sets or changes the expected fix date of an open case; in its history and audited.
    pub fn expect_blocking(
        &self,
        case: &str,
        date: &str,
        note: Option<&str>,
    ) -> Result<CaseView, PortalError> {
        let now = self.now();
        self.disclose(case, "expect", |r| {
            self.policy().expect_fix(r, date, note, now)
        })
    }

    /// Leaves a message for the reporter, sealed to the case's letterbox. The text is never
    /// logged or audited; only its size is recorded.
    pub fn tell_blocking(&self, case: &str, text: &str) -> Result<CaseView, PortalError> {
        let now = self.now();
        let l = &self.config().limits;
        let limits = (l.max_letter_bytes, l.max_letters);
        self.disclose(case, "tell", |r| {
            self.policy().tell(r, text, limits, letterbox::seal, now)
        })
    }

    /// Publishes the credit the reporter asked for.
    pub fn credit_blocking(&self, case: &str, name: &str) -> Result<CaseView, PortalError> {
        let now = self.now();
        let max = self.config().limits.max_credit_bytes;
        let view = self.disclose(case, "credit", |r| {
            self.policy().publish_credit(r, name, max, now)
        });
        self.forget_credits();
        view
    }

    /// The public list of credits is read again on its next request.
    pub(super) fn forget_credits(&self) {
        *self
            .credits_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Withdraws a published credit.
    pub fn withdraw_credit_blocking(
        &self,
        case: &str,
        note: Option<&str>,
    ) -> Result<CaseView, PortalError> {
        let now = self.now();
        let view = self.disclose(case, "credit-withdrawn", |r| {
            self.policy().withdraw_credit(r, note, now)
        });
        self.forget_credits();
        view
    }

    /// Records the agreed publication of a resolved case.
    pub fn publish_blocking(
        &self,
        case: &str,
        date: &str,
        url: Option<&str>,
        note: Option<&str>,
    ) -> Result<CaseView, PortalError> {
        let now = self.now();
        self.disclose(case, "publication", |r| {
            self.policy().agree_publication(r, date, url, note, now)
        })
    }

    /// What the reporter may see for `reference`: `None` when no case has it (or it is
    /// deleted). The case's messages are opened in memory with the reference, for this answer
    /// only.
    pub fn reporter_status_blocking(
        &self,
        found: crate::cases::Found,
    ) -> Result<ReporterStatus, StoreError> {
        let crate::cases::Found { record, letterbox } = found;
        let mut addenda = Vec::with_capacity(record.addenda.len());
        for id in &record.addenda {
            if let Some(a) = self.store().db().by_case(id)? {
                addenda.push(a);
            }
        }
        let letters = record
            .disclosure
            .letters
            .iter()
            .filter_map(|l| match letterbox.open(&l.sealed) {
                Ok(text) => Some((l.at.clone(), text)),
                Err(e) => {
                    tracing::error!(case = %record.case, error = %e, "cannot open a letter");
                    None
                }
            })
            .collect();
        Ok(self
            .policy()
            .reporter_case(&record, &addenda, letters, self.now()))
    }

    /// Every published credit, newest month first (within a month in publication order),
    /// from memory while fresh.
    pub fn published_credits_blocking(&self) -> Result<Arc<Vec<PublishedCredit>>, StoreError> {
        let cache = self.credits_cache();
        if let Some((at, list)) = cache.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
            && at.elapsed() < CREDITS_FRESH
        {
            return Ok(Arc::clone(list));
        }
        let list = Arc::new(self.read_published_credits()?);
        *cache.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), Arc::clone(&list)));
        Ok(list)
    }

    fn read_published_credits(&self) -> Result<Vec<PublishedCredit>, StoreError> {
        let zone = self.policy().calendar.time_zone().clone();
        let mut credits: Vec<(String, PublishedCredit)> = self
            .store()
            .db()
            .list()?
            .into_iter()
            .filter(|r| r.purged_at.is_none())
            .filter_map(|r| {
                let c = r.disclosure.credit?;
                let t = crate::workflow::parse_ts(&c.published_at)?;
                let month = t
                    .to_zoned_datetime(zone.clone())
                    .strftime("%Y-%m")
                    .to_string();
                Some((
                    c.published_at,
                    PublishedCredit {
                        month,
                        name: c.name,
                    },
                ))
            })
            .collect();
        credits.sort_by(|a, b| b.1.month.cmp(&a.1.month).then(a.0.cmp(&b.0)));
        Ok(credits.into_iter().map(|(_, c)| c).collect())
    }
}
