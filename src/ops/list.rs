//! `admin list` and `admin show`: cases as the team sees them, with their clocks.

use super::{Call, Execute};
use crate::adminapi::op::{List, Show};
use crate::adminapi::{CaseView, ListFilter, NoQuery};
use crate::portal::{Portal, PortalError};

impl Execute for List {
    fn execute(portal: &Portal, call: Call<ListFilter>) -> Result<Vec<CaseView>, PortalError> {
        let now = portal.now();
        Ok(portal
            .store()
            .records()?
            .into_iter()
            .map(|r| portal.policy().view(r, now))
            .filter(|v| call.request.matches(v, now))
            .collect())
    }
}

impl Execute for Show {
    fn execute(portal: &Portal, call: Call<NoQuery>) -> Result<CaseView, PortalError> {
        let case = call.case()?;
        let record = portal
            .store()
            .record(case)?
            .ok_or_else(|| PortalError::NoSuchCase(case.to_owned()))?;
        Ok(portal.policy().view(record, portal.now()))
    }
}
