//! `admin invite` and `admin invites`: one-time upload links.

use super::{Call, Execute};
use crate::adminapi::op::{CreateInvite, Invites};
use crate::adminapi::{Invite, InviteRequest, NewInvite, NoQuery};
use crate::portal::{Portal, PortalError};
use std::time::Duration;

impl Execute for CreateInvite {
    fn execute(portal: &Portal, call: Call<InviteRequest>) -> Result<NewInvite, PortalError> {
        let InviteRequest { expires_secs, note } = &call.request;
        portal.invite_blocking(
            Duration::from_secs(*expires_secs),
            note.as_deref(),
            &call.actor,
        )
    }
}

impl Execute for Invites {
    fn execute(portal: &Portal, _call: Call<NoQuery>) -> Result<Vec<Invite>, PortalError> {
        portal.invites_blocking()
    }
}
