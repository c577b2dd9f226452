//! Why `sealdrop send` stopped, and what to do next (each error with its hint).

use crate::http::tls::CertificateProblem;

/// Why sending failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A file or the message could not be read.
    #[error("cannot read {what}: {problem}")]
    Input {
        /// Which file.
        what: String,
        /// Why.
        problem: String,
    },
    /// The portal address is unusable.
    #[error("{0}")]
    Portal(String),
    /// Plain `http://` to a host that is not this computer.
    #[error(
        "http://{host} is not encrypted: the report and your contact details would cross the \
         network readable by anyone on the way"
    )]
    PlainHttp {
        /// The host given.
        host: String,
    },
    /// The portal pointed an upload at another origin.
    #[error(
        "the portal sent the upload to {location}, which is not on {portal}; nothing of the \
         file was sent there"
    )]
    OffOrigin {
        /// The `Location` it sent.
        location: String,
        /// The portal's origin.
        portal: String,
    },
    /// The portal's certificate was refused; retrying cannot help.
    #[error("{}", certificate_message(*.problem, .detail))]
    Certificate {
        /// What is wrong with it.
        problem: CertificateProblem,
        /// The TLS library's words.
        detail: String,
    },
    /// The portal never answered: a wrong name or port, or a portal that is not running.
    #[error("cannot reach the portal at {portal} ({tries} tries): {problem}")]
    NoContact {
        /// The address given.
        portal: String,
        /// How many times it was tried.
        tries: u32,
        /// The last failure.
        problem: String,
    },
    /// The portal answered before, but could not be reached again, also after retrying.
    #[error("the portal could not be reached: {0}")]
    Unreachable(String),
    /// The portal refused (its code and message).
    #[error("the portal refused ({code}): {message}")]
    Refused {
        /// The stable code.
        code: String,
        /// The portal's message.
        message: String,
    },
}

fn certificate_message(problem: CertificateProblem, detail: &str) -> String {
    match problem {
        CertificateProblem::Untrusted => format!(
            "the portal's certificate is not trusted: neither this computer's authorities nor \
             --ca-file vouch for it ({detail})"
        ),
        CertificateProblem::OutOfDate => {
            format!("the portal's certificate has expired or is not valid yet ({detail})")
        }
        CertificateProblem::WrongName => {
            format!("the portal's certificate is not for the host in --portal ({detail})")
        }
        CertificateProblem::Refused => format!("the portal's certificate was refused ({detail})"),
    }
}

impl crate::hint::Hint for SendError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            SendError::Input { .. } => "check the paths given; every FILE must be readable".into(),
            SendError::Portal(_) => {
                "give the portal's address, e.g. --portal https://portal.example.org".into()
            }
            SendError::PlainHttp { host } => format!(
                "use https://{host}; plain http:// is only for a portal on this computer \
                 (127.0.0.1, ::1, localhost); nothing was sent"
            ),
            SendError::OffOrigin { .. } => {
                "if the portal has moved, give its new address with --portal; otherwise tell \
                 its operators; nothing was submitted"
                    .into()
            }
            SendError::Certificate { problem, .. } => match problem {
                CertificateProblem::Untrusted => {
                    "if the portal uses a self-signed certificate or its own authority (a demo \
                     does), pass that certificate with --ca-file CERT.pem; nothing was submitted"
                }
                CertificateProblem::OutOfDate => {
                    "check this computer's date and time; otherwise tell the portal's operators \
                     (a demo makes a fresh certificate when it is restarted); nothing was submitted"
                }
                CertificateProblem::WrongName => {
                    "use the host name the certificate was issued for in --portal (a demo's: \
                     localhost or its listen address); nothing was submitted"
                }
                CertificateProblem::Refused => "tell the portal's operators; nothing was submitted",
            }
            .into(),
            SendError::NoContact { .. } => {
                "check the host name and port in --portal, and that the portal is running; \
                 nothing was submitted"
                    .into()
            }
            SendError::Unreachable(_) => {
                "check your connection and run the same command again; nothing was submitted".into()
            }
            SendError::Refused { .. } => "the message above says what to change; nothing was \
                                          submitted unless a reference was printed"
                .into(),
        })
    }
}
