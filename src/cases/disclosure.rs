//! The team's disclosure operations on a running portal (expected fix date, messages to the
//! reporter, credit, publication), the reporter's view of their case, and the public credits.

use crate::portal::Portal;
use crate::record::Record;
use crate::store::StoreError;
use crate::workflow::{PublishedCredit, ReporterStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the public list of credits is served from memory (a publish, a withdrawal or a
/// purge renews it at once): `/acknowledgments` and security.txt are public, and the list reads every record.
const CREDITS_FRESH: Duration = Duration::from_secs(60);

impl Portal {
    /// The public list of credits is read again on its next request.
    pub(crate) fn forget_credits(&self) {
        *self
            .credits_cache()
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// What the reporter may see for `reference`: `None` when no case has it (or it is
    /// deleted). The case's messages are opened in memory with the reference, for this answer
    /// only.
    pub fn reporter_status_blocking(
        &self,
        found: crate::cases::Found,
    ) -> Result<ReporterStatus, StoreError> {
        let crate::cases::Found { record, letterbox } = found;
        let addenda = self.addenda_of(&record)?;
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

    /// The follow-up records of `record` (those still stored).
    fn addenda_of(&self, record: &Record) -> Result<Vec<Record>, StoreError> {
        let mut addenda = Vec::with_capacity(record.addenda.len());
        for id in &record.addenda {
            if let Some(a) = self.store().record(id)? {
                addenda.push(a);
            }
        }
        Ok(addenda)
    }

    /// The reporter's view of `record` as the team may see it: the same timeline, with the
    /// team's messages as entries without their text (only the reference opens them).
    pub fn reporter_view_for_team_blocking(
        &self,
        record: &Record,
    ) -> Result<ReporterStatus, StoreError> {
        let addenda = self.addenda_of(record)?;
        let letters = record
            .disclosure
            .letters
            .iter()
            .map(|l| (l.at.clone(), String::new()))
            .collect();
        Ok(self
            .policy()
            .reporter_case(record, &addenda, letters, self.now()))
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
            .records()?
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
