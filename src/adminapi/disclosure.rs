//! Requests of the disclosure routes: the expected fix date, messages to the reporter, credit
//! and publication.

use serde::{Deserialize, Serialize};

/// `POST /v1/submissions/{case}/expect`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectRequest {
    /// The expected fix date, `YYYY-MM-DD`.
    pub date: String,
    /// The team's note (internal).
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/submissions/{case}/tell`: a message for the reporter's status page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TellRequest {
    /// The text the reporter will read.
    pub text: String,
}

/// `POST /v1/submissions/{case}/credit`: publish the credit under `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRequest {
    /// The name or handle to publish.
    pub name: String,
}

/// `POST /v1/submissions/{case}/credit/withdraw`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawCreditRequest {
    /// The team's note (internal).
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/submissions/{case}/publication`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationRequest {
    /// The agreed date, `YYYY-MM-DD`.
    pub date: String,
    /// The link, once known.
    #[serde(default)]
    pub url: Option<String>,
    /// The team's note (internal).
    #[serde(default)]
    pub note: Option<String>,
}
