//! `admin publish CASE --date DATE [--url URL]`: the agreed publication of a resolved case.

use super::{Call, Execute, change_case};
use crate::adminapi::op::Publication;
use crate::adminapi::{CaseView, PublicationRequest};
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::store::Change;

impl Execute for Publication {
    fn execute(portal: &Portal, call: Call<PublicationRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let PublicationRequest { date, url, note } = &call.request;
        change_case(portal, call.case()?, &call.actor, |r| {
            portal
                .policy()
                .agree_publication(r, date, url.as_deref(), note.as_deref(), now)?;
            Ok(Change::new(AuditKind::Publication, ""))
        })
    }
}
