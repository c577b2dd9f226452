//! Every team or admin action as one typed operation: its route, its method, what the caller
//! sends and what it gets back. The server registers and runs each through one generic route
//! (`http::ops`, rules in `ops/`), the CLI calls each through one generic client
//! (`adminclient::call`): a new action is one more type here, never another handler or client
//! function.

use super::{AdvisoryDraftRequest, AdvisoryPublishRequest, AdvisoryView};
use super::{
    AssignRequest, AuditEvent, AuthorityRequest, CaseView, CreditRequest, ExpectRequest, Invite,
    InviteRequest, ListFilter, NewInvite, NoQuery, NoteRequest, PublicationRequest, PurgeRequest,
    Purged, SharedRequest, StatusRequest, TellRequest, WithdrawCreditRequest, route,
};
use super::{ConsoleLink, ConsoleLinkRequest, CoordinationRequest, PhaseRequest};
use super::{SecurityTxtInstall, SecurityTxtRender, SecurityTxtState, SecurityTxtText};
use super::{YearQuery, YearReport};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How an operation travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`, the request as the query string (reads).
    Get,
    /// `POST`, the request as a JSON body (changes).
    Post,
}

/// One team or admin action.
pub trait Operation: 'static {
    /// Its route; at most one `{…}` segment (the case it acts on).
    const ROUTE: &'static str;
    /// How it travels.
    const METHOD: Method;
    /// What the caller sends.
    type Request: Serialize + DeserializeOwned + Send + 'static;
    /// What it answers.
    type Answer: Serialize + DeserializeOwned + Send + 'static;
}

macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident: $method:ident $route:expr, $req:ty => $ans:ty;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;

        impl Operation for $name {
            const ROUTE: &'static str = $route;
            const METHOD: Method = Method::$method;
            type Request = $req;
            type Answer = $ans;
        }
    )*};
}

operations! {
    /// `admin list`: the cases matching a filter, with their clocks.
    List: Get route::SUBMISSIONS, ListFilter => Vec<CaseView>;
    /// `admin show`: one case with its clocks.
    Show: Get route::SUBMISSION, NoQuery => CaseView;
    /// `admin status`: move a case to another state (with a note, an expected fix date).
    SetStatus: Post route::STATUS, StatusRequest => CaseView;
    /// `admin authority`: the data-breach authority decision.
    Authority: Post route::AUTHORITY, AuthorityRequest => CaseView;
    /// `admin note`: a note in the case's history.
    Note: Post route::NOTE, NoteRequest => CaseView;
    /// `admin shared`: the case was shared with a third party.
    Shared: Post route::SHARED, SharedRequest => CaseView;
    /// `admin purge`: delete a case's ciphertext, keeping a tombstone.
    Purge: Post route::PURGE, PurgeRequest => Purged;
    /// `admin expect`: set or change the expected fix date.
    Expect: Post route::EXPECT, ExpectRequest => CaseView;
    /// `admin tell`: a message for the reporter, sealed to the case's letterbox.
    Tell: Post route::TELL, TellRequest => CaseView;
    /// `admin credit --as`: publish the reporter's credit.
    Credit: Post route::CREDIT, CreditRequest => CaseView;
    /// `admin credit --withdraw`: withdraw the published credit.
    WithdrawCredit: Post route::WITHDRAW_CREDIT, WithdrawCreditRequest => CaseView;
    /// `admin publish`: record the agreed publication.
    Publication: Post route::PUBLICATION, PublicationRequest => CaseView;
    /// `admin assign`: the team member who handles the case.
    Assign: Post route::ASSIGN, AssignRequest => CaseView;
    /// `admin phase`: the case entered a phase of ISO/IEC 30111.
    EnterPhase: Post route::PHASE, PhaseRequest => CaseView;
    /// `admin coordinate`: the case's coordinator and embargo date.
    Coordinate: Post route::COORDINATION, CoordinationRequest => CaseView;
    /// `admin report --year`: the yearly account, from the records alone.
    Report: Get route::REPORT, YearQuery => YearReport;
    /// `admin audit`: the audit trail, oldest first.
    Audit: Get route::AUDIT, NoQuery => Vec<AuditEvent>;
    /// `admin invite`: a one-time upload link.
    CreateInvite: Post route::INVITES, InviteRequest => NewInvite;
    /// `admin invites`: every invitation.
    Invites: Get route::INVITES, NoQuery => Vec<Invite>;
    /// `admin console-link`: a one-time sign-in link to the team's console.
    CreateConsoleLink: Post route::CONSOLE_LINKS, ConsoleLinkRequest => ConsoleLink;
    /// `admin securitytxt render`: the security.txt to sign on the team's machine.
    RenderSecurityTxt: Get route::SECURITY_TXT_RENDER, SecurityTxtRender => SecurityTxtText;
    /// `admin securitytxt install FILE`: check a signed security.txt and serve it.
    InstallSecurityTxt: Post route::SECURITY_TXT, SecurityTxtInstall => SecurityTxtState;
    /// `admin securitytxt status`: what `/.well-known/security.txt` serves.
    SecurityTxtStatus: Get route::SECURITY_TXT, NoQuery => SecurityTxtState;
    /// `admin securitytxt remove`: serve the unsigned rendering again.
    RemoveSecurityTxt: Post route::SECURITY_TXT_REMOVE, NoQuery => SecurityTxtState;
    /// `admin advisory draft CASE`: the case's CSAF advisory (or its next revision) to sign.
    DraftAdvisory: Post route::ADVISORY, AdvisoryDraftRequest => AdvisoryView;
    /// `admin advisory publish ID --signature FILE.asc`: check the signature, publish.
    PublishAdvisory: Post route::ADVISORY_PUBLISH, AdvisoryPublishRequest => AdvisoryView;
    /// `admin advisory list`: every advisory and draft.
    Advisories: Get route::ADVISORIES, NoQuery => Vec<AdvisoryView>;
}
