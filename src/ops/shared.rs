//! `admin shared CASE --with WHOM`: the case was passed on (`sealdrop share`).

use super::{Call, Execute, change_case};
use crate::adminapi::op::Shared;
use crate::adminapi::{CaseView, SharedRequest};
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::store::Change;

impl Execute for Shared {
    fn execute(portal: &Portal, call: Call<SharedRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let SharedRequest { with, note } = &call.request;
        change_case(portal, call.case()?, &call.actor, |r| {
            portal
                .policy()
                .record_shared(r, with, note.as_deref(), now)?;
            Ok(Change::new(AuditKind::Shared, with.trim()))
        })
    }
}
