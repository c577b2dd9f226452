//! The server's side of every team operation (`adminapi::op`): its rule, in a file of its own,
//! run by one executor (`http::ops`: blocking pool, one error mapping). A rule reads the
//! portal's context (config, policy, clock, keys, store) and changes a case only through
//! [`Store::apply`](crate::store::Store::apply): the record's compare-and-swap and its audit
//! entry, with the actor, in one transaction.

mod advisory;
mod assign;
mod audit;
mod authority;
mod console_link;
mod credit;
pub mod csaf_folder;
pub mod error;
mod expect;
mod handling;
mod invite;
mod list;
mod note;
mod publication;
mod purge;
mod report;
pub mod security_txt;
mod shared;
mod status;
mod tell;

use crate::adminapi::CaseView;
use crate::adminapi::op::Operation;
use crate::portal::{Portal, PortalError};
use crate::record::{Actor, Record};
use crate::store::Change;

/// One call of an operation: who, on which case (the route's segment), with what.
pub struct Call<R> {
    /// Who asked.
    pub actor: Actor,
    /// The case the route names, if it names one.
    pub case: Option<String>,
    /// What was sent.
    pub request: R,
}

impl<R> Call<R> {
    /// The case the route names (every case route has one).
    pub fn case(&self) -> Result<&str, PortalError> {
        self.case
            .as_deref()
            .ok_or_else(|| PortalError::NoSuchCase(String::new()))
    }
}

/// The rule of an operation on the server (blocking: it runs on the blocking pool).
pub trait Execute: Operation {
    /// Runs the operation.
    fn execute(portal: &Portal, call: Call<Self::Request>) -> Result<Self::Answer, PortalError>;
}

/// Changes `case` by `f` for `actor` (one transaction with its audit entry) and answers the
/// case as the team sees it now.
fn change_case(
    portal: &Portal,
    case: &str,
    actor: &Actor,
    f: impl FnMut(&mut Record) -> Result<Change, PortalError>,
) -> Result<CaseView, PortalError> {
    let now = portal.now();
    let record = portal
        .store()
        .apply(case, actor, f)?
        .ok_or_else(|| PortalError::NoSuchCase(case.to_owned()))?;
    tracing::info!(case, "case updated");
    Ok(portal.policy().view(record, now))
}
