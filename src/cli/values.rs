//! How the command line reads states, categories, authority decisions, register formats and
//! durations: clap lists the accepted values in `--help` (and the man page and completions),
//! and answers a typo with the closest one.

use crate::adminapi::RegisterFormat;
use crate::config::HumanDuration;
use crate::keys::KeyId;
use crate::record::{AuthorityDecision, Category, Status};
use crate::workflow::MAX_INVITE_DAYS;
use clap::ValueEnum;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use std::time::Duration;

impl ValueEnum for Status {
    fn value_variants<'a>() -> &'a [Self] {
        &Status::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Status::Received => "stored, nobody has looked yet",
            Status::Acknowledged => "the reporter was told it arrived",
            Status::Assessed => "first assessment made",
            Status::InProgress => "a fix or other follow-up is under way",
            Status::Resolved => "done",
            Status::Rejected => "not taken up",
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

/// A state a case can be moved to: any but `received`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target(pub Status);

const TARGETS: [Target; 5] = [
    Target(Status::Acknowledged),
    Target(Status::Assessed),
    Target(Status::InProgress),
    Target(Status::Resolved),
    Target(Status::Rejected),
];

impl ValueEnum for Target {
    fn value_variants<'a>() -> &'a [Self] {
        &TARGETS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        self.0.to_possible_value()
    }
}

impl ValueEnum for Category {
    fn value_variants<'a>() -> &'a [Self] {
        &Category::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Category::Vulnerability => "a security weakness",
            Category::DataBreach => "personal data that reached the wrong person",
            Category::Incident => "something went wrong, without personal data",
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

impl ValueEnum for AuthorityDecision {
    fn value_variants<'a>() -> &'a [Self] {
        &[AuthorityDecision::Notified, AuthorityDecision::NotRequired]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            AuthorityDecision::Notified => "the authority was notified",
            AuthorityDecision::NotRequired => "unlikely to result in a risk: no notification",
        };
        Some(PossibleValue::new(self.as_str()).help(help))
    }
}

impl ValueEnum for RegisterFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[RegisterFormat::Csv, RegisterFormat::Json]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            RegisterFormat::Csv => PossibleValue::new("csv").help("for spreadsheets (RFC 4180)"),
            RegisterFormat::Json => PossibleValue::new("json").help("one object per case"),
        })
    }
}

/// Reads a key id: 12 lowercase hex digits, as `sealdrop keys list` shows them.
pub fn key_id(text: &str) -> Result<KeyId, String> {
    let id = KeyId(text.trim().to_ascii_lowercase());
    if id.is_well_formed() {
        Ok(id)
    } else {
        Err("a key id is 12 hex digits; `sealdrop keys list` shows them".into())
    }
}

/// A byte size from the command line (`8MiB`, `512KiB`, `1048576`), at least 4 KiB.
pub fn byte_size(text: &str) -> Result<u64, String> {
    let n = crate::config::ByteSize::parse(text)?.0;
    if n < 4096 {
        return Err("must be at least 4KiB".into());
    }
    Ok(n)
}

/// A duration from the command line: always a number with its unit (`90m`, `12h`, `7d`), since
/// a bare `7` could mean days as well as seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl Span {
    /// Reads any duration with a unit.
    pub fn parser() -> SpanParser {
        SpanParser { invitation: false }
    }

    /// Reads how long an invitation stays valid: 1 second to `MAX_INVITE_DAYS`.
    pub fn invitation_parser() -> SpanParser {
        SpanParser { invitation: true }
    }

    /// Reads `text`: the problem and what to do instead when it is not a duration with a unit.
    fn parse(text: &str, invitation: bool) -> Result<Span, (String, String)> {
        let with_unit =
            || "write durations with a unit, e.g. 7d or 48h (units: s, m, h, d, w)".into();
        let t = text.trim();
        if t.ends_with(|c: char| c.is_ascii_digit()) {
            return Err(("a duration needs a unit".into(), with_unit()));
        }
        let d = HumanDuration::parse(t).map_err(|e| (e, with_unit()))?.0;
        let most = Duration::from_secs(MAX_INVITE_DAYS * 86_400);
        if invitation && !(Duration::from_secs(1)..=most).contains(&d) {
            return Err((
                "out of range".into(),
                format!("invitations are valid between 1 second and {MAX_INVITE_DAYS} days"),
            ));
        }
        Ok(Span(d))
    }
}

/// The clap parser of [`Span`]s.
#[derive(Debug, Clone, Copy)]
pub struct SpanParser {
    invitation: bool,
}

impl TypedValueParser for SpanParser {
    type Value = Span;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Span, clap::Error> {
        let text = value.to_string_lossy();
        Span::parse(&text, self.invitation).map_err(|(problem, hint)| {
            let arg = arg.map_or_else(|| "DURATION".to_owned(), ToString::to_string);
            // Our own `hint:` line, as every other sealdrop error has.
            let message = format!("invalid value '{text}' for '{arg}': {problem}\nhint: {hint}");
            clap::Error::raw(ErrorKind::ValueValidation, message).format(&mut cmd.clone())
        })
    }
}

/// A phase of ISO/IEC 30111 as the CLI takes it.
pub fn phase(text: &str) -> Result<crate::record::Phase, String> {
    text.trim().to_ascii_lowercase().parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_needs_its_unit_and_an_invitation_its_range() {
        assert_eq!(
            Span::parse("12h", false),
            Ok(Span(Duration::from_secs(12 * 3600)))
        );
        assert_eq!(
            Span::parse("90m", true),
            Ok(Span(Duration::from_secs(90 * 60)))
        );
        for bare in ["7", " 48 ", "0"] {
            let (problem, hint) = Span::parse(bare, false).unwrap_err();
            assert!(
                problem.contains("unit") && hint.contains("7d or 48h"),
                "{bare}"
            );
        }
        assert_eq!(
            Span::parse("2w", false),
            Ok(Span(Duration::from_secs(14 * 86_400)))
        );
        assert!(Span::parse("2 parsecs", false).is_err());
        assert!(Span::parse("91d", false).is_ok());
        for outside in ["91d", "0s", "99999999999999s"] {
            let (problem, hint) = Span::parse(outside, true).unwrap_err();
            assert!(
                problem == "out of range" && hint.contains("90 days"),
                "{outside}"
            );
        }
    }

    #[test]
    fn a_case_can_be_moved_to_every_state_but_received() {
        assert!(!TARGETS.iter().any(|t| t.0 == Status::Received));
        assert_eq!(
            Target::from_str("in-progress", false),
            Ok(Target(Status::InProgress))
        );
        assert!(Target::from_str("received", false).is_err());
    }
}
