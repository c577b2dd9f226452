//! `admin phase CASE PHASE [--at TIME]` and `admin coordinate CASE [--by …] [--name …]
//! [--embargo DATE]`: the ISO/IEC 30111 facts of a case (rules in `workflow::handling`).

use super::{Call, Execute, change_case};
use crate::adminapi::op::{Coordinate, EnterPhase};
use crate::adminapi::{CaseView, CoordinationRequest, PhaseRequest};
use crate::portal::{Portal, PortalError};
use crate::workflow::WorkflowError;
use crate::workflow::handling::{coordinate, enter_phase};

impl Execute for EnterPhase {
    fn execute(portal: &Portal, call: Call<PhaseRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let PhaseRequest { phase, at } = &call.request;
        change_case(portal, call.case()?, &call.actor, |r| {
            Ok(enter_phase(
                r,
                *phase,
                at.as_deref().filter(|a| !a.is_empty()),
                now,
            )?)
        })
    }
}

impl Execute for Coordinate {
    fn execute(portal: &Portal, call: Call<CoordinationRequest>) -> Result<CaseView, PortalError> {
        let req = &call.request;
        let by = match req.coordinator.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("none") => Some(None),
            Some(kind) => {
                let kind = kind.parse().map_err(WorkflowError::BadCoordinator)?;
                Some(Some((kind, req.name.clone())))
            }
        };
        let embargo = req.embargo.as_deref().map(|e| match e.trim() {
            "none" => "",
            e => e,
        });
        change_case(portal, call.case()?, &call.actor, |r| {
            Ok(coordinate(r, by.clone(), embargo)?)
        })
    }
}
