//! `admin expect CASE DATE`: set or change the expected fix date of an open case.

use super::{Call, Execute, change_case};
use crate::adminapi::op::Expect;
use crate::adminapi::{CaseView, ExpectRequest};
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::store::Change;

impl Execute for Expect {
    fn execute(portal: &Portal, call: Call<ExpectRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let ExpectRequest { date, note } = &call.request;
        change_case(portal, call.case()?, &call.actor, |r| {
            portal.policy().expect_fix(r, date, note.as_deref(), now)?;
            Ok(Change::new(AuditKind::Expect, ""))
        })
    }
}
