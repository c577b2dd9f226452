//! `admin status CASE STATE [--note] [--expect DATE]`: a case moves to another state, with the
//! expected fix date in the same write.

use super::{Call, Execute, change_case};
use crate::adminapi::op::SetStatus;
use crate::adminapi::{CaseView, StatusRequest};
use crate::portal::{Portal, PortalError};
use crate::record::{AuditKind, Status};
use crate::store::Change;

impl Execute for SetStatus {
    fn execute(portal: &Portal, call: Call<StatusRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let StatusRequest {
            status: to,
            note,
            expect,
        } = &call.request;
        let case = call.case()?;
        let mut from = Status::Received;
        let view = change_case(portal, case, &call.actor, |r| {
            from = r.status;
            portal
                .policy()
                .change_status(r, *to, note.as_deref(), now)?;
            // After the move: a case being closed refuses an expected date (nothing is written).
            if let Some(date) = expect {
                portal.policy().expect_fix(r, date, None, now)?;
            }
            Ok(Change::new(AuditKind::Status, format!("{from} → {to}")))
        })?;
        tracing::info!(case, from = %from, to = %to, "status changed");
        Ok(view)
    }
}
