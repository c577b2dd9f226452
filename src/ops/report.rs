//! `admin report --year YEAR`: the yearly account, computed from the records alone (rules in
//! `workflow::yearly`) and the published CSAF advisories (`csaf::released_in`).

use super::{Call, Execute};
use crate::adminapi::op::Report;
use crate::adminapi::{AdvisoryTally, YearQuery, YearReport};
use crate::portal::{Portal, PortalError};
use crate::workflow::WorkflowError;

/// The years an account can be asked for.
const YEARS: std::ops::RangeInclusive<i16> = 2000..=2999;

impl Execute for Report {
    fn execute(portal: &Portal, call: Call<YearQuery>) -> Result<YearReport, PortalError> {
        let year = call.request.year;
        if !YEARS.contains(&year) {
            return Err(WorkflowError::BadTime(format!(
                "{year} is not a year between {} and {}",
                YEARS.start(),
                YEARS.end()
            ))
            .into());
        }
        let records = portal.store().records()?;
        let mut report = portal.policy().year_report(&records, year, portal.now());
        let advisories: Vec<_> = portal
            .store()
            .advisories()?
            .into_iter()
            .map(|a| a.value)
            .collect();
        let (published, revisions) = crate::csaf::released_in(&advisories, year);
        report.advisories = AdvisoryTally {
            published,
            revisions,
        };
        Ok(report)
    }
}
