//! `admin credit CASE --as NAME` and `--withdraw`: the reporter's public credit. Either renews
//! the public list of credits at once.

use super::{Call, Execute, change_case};
use crate::adminapi::op::{Credit, WithdrawCredit};
use crate::adminapi::{CaseView, CreditRequest, WithdrawCreditRequest};
use crate::portal::{Portal, PortalError};
use crate::record::AuditKind;
use crate::store::Change;

impl Execute for Credit {
    fn execute(portal: &Portal, call: Call<CreditRequest>) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let max = portal.config().limits.max_credit_bytes;
        let view = change_case(portal, call.case()?, &call.actor, |r| {
            portal
                .policy()
                .publish_credit(r, &call.request.name, max, now)?;
            Ok(Change::new(AuditKind::Credit, ""))
        });
        portal.forget_credits();
        view
    }
}

impl Execute for WithdrawCredit {
    fn execute(
        portal: &Portal,
        call: Call<WithdrawCreditRequest>,
    ) -> Result<CaseView, PortalError> {
        let now = portal.now();
        let view = change_case(portal, call.case()?, &call.actor, |r| {
            portal
                .policy()
                .withdraw_credit(r, call.request.note.as_deref(), now)?;
            Ok(Change::new(AuditKind::CreditWithdrawn, ""))
        });
        portal.forget_credits();
        view
    }
}
