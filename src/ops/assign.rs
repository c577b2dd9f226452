//! `admin assign CASE --to NAME`: the team member who handles a case (shown in `list` and
//! `show`); an empty name takes the assignment away.

use super::{Call, Execute, change_case};
use crate::adminapi::op::Assign;
use crate::adminapi::{AssignRequest, CaseView};
use crate::portal::{Portal, PortalError};
use crate::record::{AuditKind, Record};
use crate::store::Change;
use crate::workflow::WorkflowError;

/// The longest name a case can be assigned to.
pub const MAX_ASSIGNEE: usize = 64;

/// The rule: one short line of printable text, or nothing; a tombstone is assigned to nobody.
pub fn assign(r: &mut Record, to: &str) -> Result<Change, WorkflowError> {
    let to = to.trim();
    if to.len() > MAX_ASSIGNEE || to.chars().any(char::is_control) {
        return Err(WorkflowError::BadNote);
    }
    if let Some(at) = &r.purged_at {
        return Err(WorkflowError::Purged {
            case: r.case.clone(),
            at: at.clone(),
        });
    }
    let before = r.assignee.take().unwrap_or_default();
    r.assignee = (!to.is_empty()).then(|| to.to_owned());
    let detail = match (before.as_str(), to) {
        ("", "") => "nobody".to_owned(),
        (_, "") => format!("{before} → nobody"),
        ("", to) => to.to_owned(),
        (before, to) => format!("{before} → {to}"),
    };
    Ok(Change::new(AuditKind::Assigned, detail))
}

impl Execute for Assign {
    fn execute(portal: &Portal, call: Call<AssignRequest>) -> Result<CaseView, PortalError> {
        change_case(portal, call.case()?, &call.actor, |r| {
            Ok(assign(r, &call.request.to)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record::for_tests(crate::record::Category::Incident)
    }

    #[test]
    fn a_case_is_assigned_reassigned_and_unassigned_with_what_changed_in_the_audit_detail() {
        let mut r = record();
        assert_eq!(assign(&mut r, " alice ").unwrap().detail, "alice");
        assert_eq!(r.assignee.as_deref(), Some("alice"));
        assert_eq!(assign(&mut r, "bob").unwrap().detail, "alice → bob");
        assert_eq!(assign(&mut r, "").unwrap().detail, "bob → nobody");
        assert_eq!(r.assignee, None);
    }

    #[test]
    fn names_that_are_not_one_short_line_and_tombstones_are_refused_unchanged() {
        let mut r = record();
        assign(&mut r, "alice").unwrap();
        assert!(assign(&mut r, "two\nlines").is_err());
        assert!(assign(&mut r, &"x".repeat(MAX_ASSIGNEE + 1)).is_err());
        assert!(assign(&mut r, &"x".repeat(MAX_ASSIGNEE)).is_ok());
        r.purged_at = Some("2026-02-01T00:00:00Z".into());
        assert!(matches!(
            assign(&mut r, "bob"),
            Err(WorkflowError::Purged { .. })
        ));
    }
}
