//! `admin authority CASE DECISION`: the data-breach authority decision.

use super::{Call, Execute, change_case};
use crate::adminapi::op::Authority;
use crate::adminapi::{AuthorityRequest, CaseView};
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::store::Change;

impl Execute for Authority {
    fn execute(portal: &Portal, call: Call<AuthorityRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let AuthorityRequest { decision, note } = &call.request;
        change_case(portal, call.case()?, &call.actor, |r| {
            portal
                .policy()
                .decide_authority(r, *decision, note.as_deref(), now)?;
            Ok(Change::new(AuditKind::Authority, decision.as_str()))
        })
    }
}
