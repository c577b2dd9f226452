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
        let tz = portal.policy().calendar.time_zone().clone();
        let PhaseRequest { phase, at } = &call.request;
        change_case(portal, call.case()?, &call.actor, |r| {
            let at = at.as_deref().filter(|a| !a.is_empty());
            Ok(enter_phase(r, *phase, at, now, &tz)?)
        })
    }
}

impl Execute for Coordinate {
    fn execute(portal: &Portal, call: Call<CoordinationRequest>) -> Result<CaseView, PortalError> {
        let req = &call.request;
        let kind = req
            .coordinator
            .as_deref()
            .map(|k| k.trim().to_ascii_lowercase());
        let (by, name_alone) = match kind.as_deref() {
            None | Some("") => (None, req.name.clone().filter(|n| !n.trim().is_empty())),
            Some("none") => (Some(None), None),
            Some(kind) => {
                let kind = kind.parse().map_err(WorkflowError::BadCoordinator)?;
                (Some(Some((kind, req.name.clone()))), None)
            }
        };
        let embargo = req.embargo.as_deref().map(|e| match e.trim() {
            "none" => "",
            e => e,
        });
        change_case(portal, call.case()?, &call.actor, |r| {
            Ok(coordinate(r, by.clone(), name_alone.clone(), embargo)?)
        })
    }
}
