//! `admin report --year YEAR`: the yearly account, computed from the records alone (rules in
//! `workflow::yearly`).

use super::{Call, Execute};
use crate::adminapi::op::Report;
use crate::adminapi::{YearQuery, YearReport};
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
        Ok(portal.policy().year_report(&records, year, portal.now()))
    }
}
