//! `admin console-link --as NAME --role ROLE`: a one-time sign-in link to the team's console,
//! for organisations without an identity provider and for the demo. Audited with who made it,
//! for whom and with which role; the link itself is never stored or logged.

use super::{Call, Execute};
use crate::adminapi::op::CreateConsoleLink;
use crate::adminapi::{ConsoleLink, ConsoleLinkRequest};
use crate::console::Member;
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::workflow::WorkflowError;

impl Execute for CreateConsoleLink {
    fn execute(
        portal: &Portal,
        call: Call<ConsoleLinkRequest>,
    ) -> Result<ConsoleLink, PortalError> {
        if !portal.config().console.enabled() {
            return Err(PortalError::ConsoleOff);
        }
        let name = call.request.name.trim();
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            return Err(PortalError::Workflow(WorkflowError::BadNote));
        }
        let member = Member {
            name: name.to_owned(),
            role: call.request.role,
        };
        let (url, lasts) = portal.console().create_link(member);
        portal.audit_quietly(
            AuditKind::ConsoleLink,
            None,
            format!("for {name} as {}", call.request.role.as_str()),
            &call.actor,
        );
        Ok(ConsoleLink {
            url,
            expires_secs: lasts.as_secs(),
        })
    }
}
