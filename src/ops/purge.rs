//! `admin purge CASE [--reason]`: delete a case's ciphertext and its follow-ups', keeping
//! tombstones (the store's multi-step purge).

use super::{Call, Execute};
use crate::adminapi::op::Purge;
use crate::adminapi::{PurgeRequest, Purged};
use crate::portal::{Portal, PortalError};

impl Execute for Purge {
    fn execute(portal: &Portal, call: Call<PurgeRequest>) -> Result<Purged, PortalError> {
        let why = match call.request.reason.trim() {
            "" => "deleted on request".to_owned(),
            r => r.replace(['\n', '\r'], " "),
        };
        portal.purge_blocking(call.case()?, &why, &call.actor)
    }
}
