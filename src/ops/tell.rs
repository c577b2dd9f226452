//! `admin tell CASE TEXT`: a message for the reporter, sealed to the case's letterbox. The text
//! is never logged or audited; the audit entry has no detail.

use super::{Call, Execute, change_case};
use crate::adminapi::op::Tell;
use crate::adminapi::{CaseView, TellRequest};
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::store::Change;

impl Execute for Tell {
    fn execute(portal: &Portal, call: Call<TellRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let l = &portal.config().limits;
        let limits = (l.max_letter_bytes, l.max_letters);
        change_case(portal, call.case()?, &call.actor, |r| {
            portal
                .policy()
                .tell(r, &call.request.text, limits, crate::letterbox::seal, now)?;
            if let Some(letter) = r.disclosure.letters.last_mut() {
                letter.by = Some(call.actor.as_str().to_owned());
            }
            Ok(Change::new(AuditKind::Tell, ""))
        })
    }
}
