//! `admin audit`: the audit trail, oldest first, with the actor of each entry.

use super::{Call, Execute};
use crate::adminapi::NoQuery;
use crate::adminapi::op::Audit;
use crate::portal::{Portal, PortalError};
use crate::record::AuditEvent;

impl Execute for Audit {
    fn execute(portal: &Portal, _call: Call<NoQuery>) -> Result<Vec<AuditEvent>, PortalError> {
        Ok(portal.store().audit_events()?)
    }
}
