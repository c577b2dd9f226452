//! `admin note CASE TEXT`: a note in the case's history.

use super::{Call, Execute, change_case};
use crate::adminapi::op::Note;
use crate::adminapi::{CaseView, NoteRequest};
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::store::Change;

impl Execute for Note {
    fn execute(portal: &Portal, call: Call<NoteRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        change_case(portal, call.case()?, &call.actor, |r| {
            portal.policy().add_note(r, &call.request.note, now)?;
            Ok(Change::new(AuditKind::Note, ""))
        })
    }
}
