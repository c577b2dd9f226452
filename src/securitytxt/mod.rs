//! security.txt (RFC 9116): the file the portal renders from its configuration, and the copy
//! the team signs on its own machine (`gpg --clearsign`) and installs, which the portal then
//! serves byte for byte until its `Expires`. Past that it serves the unsigned rendering again
//! rather than an expired file. No HTTP, no store: the rules only.

use crate::config::Org;
use crate::openpgp;
use serde::{Deserialize, Serialize};

/// How far ahead a rendering's `Expires` lies by default: under a year, as RFC 9116 asks.
pub const DEFAULT_EXPIRES_DAYS: i64 = 180;
/// RFC 9116 §2.5.5: `Expires` should be less than a year ahead.
pub const MAX_EXPIRES_DAYS: i64 = 365;
/// The notifier warns the team this many days before a signed file's `Expires`.
pub const WARN_DAYS: [i64; 2] = [30, 7];

/// What a rendering says besides the configuration.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The organisation.
    pub org: &'a Org,
    /// The portal's public base URL, without the final `/`.
    pub base: &'a str,
    /// Whether `/acknowledgments` lists anyone.
    pub credits: bool,
    /// Whether a CSAF advisory is published (then `CSAF:` names the provider metadata).
    pub csaf: bool,
}

/// The security.txt text with `expires` (RFC 3339, UTC).
pub fn render(facts: &Facts<'_>, expires: jiff::Timestamp) -> String {
    let base = facts.base;
    let org = facts.org;
    let policy = if org.policy_url.starts_with("http") {
        org.policy_url.clone()
    } else {
        format!("{base}{}", org.policy_url)
    };
    let mut text = format!(
        "# {name}: report security problems here. Evidence: {base}/ (encrypted on arrival).\n\
         Contact: mailto:{email}\n\
         Contact: {base}/\n\
         Expires: {expires}\n\
         Encryption: {base}/.well-known/age-recipients.txt\n\
         Preferred-Languages: {langs}\n\
         Canonical: {base}/.well-known/security.txt\n\
         Policy: {policy}\n",
        name = org.name.replace(['\n', '\r'], " "),
        email = org.contact_email,
        expires = crate::clock::rfc3339(expires),
        langs = org.languages.join(", "),
    );
    if facts.credits {
        text.push_str(&format!("Acknowledgments: {base}/acknowledgments\n"));
    }
    if facts.csaf {
        text.push_str(&format!(
            "CSAF: {base}/.well-known/csaf/provider-metadata.json\n"
        ));
    }
    text
}

/// The default `Expires` at `now`: midnight UTC today plus [`DEFAULT_EXPIRES_DAYS`], stable
/// all day so that caches see one value per day.
pub fn default_expires(now: jiff::Timestamp) -> jiff::Timestamp {
    let midnight = now
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(now);
    midnight + jiff::SignedDuration::from_hours(24 * DEFAULT_EXPIRES_DAYS)
}

/// An `Expires` the team asked for (`YYYY-MM-DD`, the end of that day in UTC, or RFC 3339),
/// checked to lie ahead of `now` and less than a year ahead.
pub fn chosen_expires(text: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp, Refused> {
    let at = match text.parse::<jiff::civil::Date>() {
        Ok(day) => day
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp() + jiff::SignedDuration::from_secs(24 * 3600 - 1))
            .map_err(|_| Refused::Expires(format!("{text} is not a date")))?,
        Err(_) => text.parse::<jiff::Timestamp>().map_err(|_| {
            Refused::Expires(format!(
                "{text} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
            ))
        })?,
    };
    check_expires(at, now)?;
    Ok(at)
}

fn check_expires(at: jiff::Timestamp, now: jiff::Timestamp) -> Result<(), Refused> {
    if at <= now {
        return Err(Refused::Expires(format!(
            "Expires {} has passed",
            crate::clock::rfc3339(at)
        )));
    }
    if at > now + jiff::SignedDuration::from_hours(24 * MAX_EXPIRES_DAYS) {
        return Err(Refused::Expires(format!(
            "Expires {} is more than a year ahead (RFC 9116 asks for less)",
            crate::clock::rfc3339(at)
        )));
    }
    Ok(())
}

/// The `Field: value` lines of a security.txt, in order (comments and blank lines left out),
/// field names as written.
pub fn fields(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// How the fields of the signed text `signed` differ from the rendering `rendered`, `Expires`
/// aside: each line missing from the signed text, then each it has that is not rendered
/// (empty: the same fields).
pub fn field_differences(signed: &str, rendered: &str) -> Vec<String> {
    let without_expires = |text: &str| -> Vec<String> {
        fields(text)
            .into_iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("Expires"))
            .map(|(k, v)| format!("{}: {v}", k.to_ascii_lowercase()))
            .collect()
    };
    let (have, want) = (without_expires(signed), without_expires(rendered));
    let missing = want
        .iter()
        .filter(|l| !have.contains(l))
        .map(|l| format!("missing \"{l}\""));
    let extra = have
        .iter()
        .filter(|l| !want.contains(l))
        .map(|l| format!("not rendered \"{l}\""));
    missing.chain(extra).collect()
}

/// Why a signed file was not installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// `org.security_txt_signing_key` is not set or cannot be read.
    #[error("no signing key is configured: {0}")]
    NoKey(String),
    /// The signature is missing, malformed or wrong.
    #[error("{0}")]
    Signature(#[from] openpgp::SignatureError),
    /// The signed fields are not the ones the portal renders.
    #[error(
        "the signed fields differ from what the portal renders now: {}",
        .0.join("; ")
    )]
    Fields(Vec<String>),
    /// No `Canonical` field.
    #[error("it has no Canonical field, which a signed security.txt must have (RFC 9116 §2.5.2)")]
    NoCanonical,
    /// `Expires` missing, passed, or too far ahead.
    #[error("{0}")]
    Expires(String),
}

/// A signed security.txt as installed: served byte for byte until `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    /// The file exactly as the team signed it.
    pub file: String,
    /// Its `Expires` (RFC 3339 UTC).
    pub expires: String,
    /// The fingerprint of the key that signed it.
    pub signer: String,
    /// When it was installed.
    pub installed_at: String,
    /// Which of [`WARN_DAYS`] the notifier has warned about.
    #[serde(default)]
    pub warned: Vec<i64>,
}

impl Signed {
    /// Its `Expires` as a time.
    pub fn expires_at(&self) -> Option<jiff::Timestamp> {
        self.expires.parse().ok()
    }

    /// Whether it may still be served at `now`.
    pub fn in_force(&self, now: jiff::Timestamp) -> bool {
        self.expires_at().is_some_and(|e| e > now)
    }
}

/// Checks a signed file against the organisation's public key (`keys`, ASCII armour) and
/// against `rendered`, what the portal renders at `now`: a valid cleartext signature, no data
/// around it, the same fields apart from `Expires`, `Canonical` present, `Expires` ahead and
/// less than a year ahead.
pub fn check(
    file: &str,
    keys: &str,
    rendered: &str,
    now: jiff::Timestamp,
) -> Result<Signed, Refused> {
    let verified = openpgp::verify(file, keys, now)?;
    let signed = fields(&verified.text);
    let is = |name: &'static str| move |f: &&(String, String)| f.0.eq_ignore_ascii_case(name);
    if !signed.iter().any(|f| is("Canonical")(&f)) {
        return Err(Refused::NoCanonical);
    }
    let mut problems = field_differences(&verified.text, rendered);
    if !problems.is_empty() {
        problems.push("render it again, sign that and install it".into());
        return Err(Refused::Fields(problems));
    }
    let expires: Vec<&(String, String)> = signed.iter().filter(is("Expires")).collect();
    let [(_, value)] = expires.as_slice() else {
        return Err(Refused::Expires(
            "it must have exactly one Expires field".into(),
        ));
    };
    let at = value
        .parse::<jiff::Timestamp>()
        .map_err(|_| Refused::Expires(format!("Expires {value} is not an RFC 3339 time")))?;
    check_expires(at, now)?;
    Ok(Signed {
        file: file.to_owned(),
        expires: crate::clock::rfc3339(at),
        signer: verified.signer,
        installed_at: crate::clock::rfc3339(now),
        warned: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn now() -> jiff::Timestamp {
        "2026-12-04T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn expires_must_lie_ahead_and_under_a_year_ahead_at_its_edges() {
        let day = |d: i64| now() + jiff::SignedDuration::from_hours(24 * d);
        assert!(check_expires(day(MAX_EXPIRES_DAYS), now()).is_ok());
        let far = check_expires(
            day(MAX_EXPIRES_DAYS) + jiff::SignedDuration::from_secs(1),
            now(),
        );
        assert!(matches!(far, Err(Refused::Expires(m)) if m.contains("more than a year")));
        assert!(check_expires(now() + jiff::SignedDuration::from_secs(1), now()).is_ok());
        assert!(
            matches!(check_expires(now(), now()), Err(Refused::Expires(m)) if m.contains("passed"))
        );
        // A date means the end of that day, UTC.
        let at = chosen_expires("2027-01-31", now()).unwrap();
        assert_eq!(crate::clock::rfc3339(at), "2027-01-31T23:59:59Z");
        assert!(chosen_expires("2027-13-01", now()).is_err());
        assert!(chosen_expires("2027-12-31", now()).is_err(), "over a year");
        assert_eq!(
            crate::clock::rfc3339(default_expires(now())),
            "2027-06-02T00:00:00Z"
        );
    }

    #[test]
    fn fields_skip_comments_and_keep_their_order() {
        let text =
            "# hello: world\nContact: mailto:a@example.org\n\nExpires: x\nPolicy: https://p\n";
        let f = fields(text);
        assert_eq!(
            f.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["Contact", "Expires", "Policy"]
        );
        assert_eq!(f[2].1, "https://p");
    }

    #[test]
    fn a_file_without_a_signature_or_with_text_around_it_is_refused_before_any_key_is_read() {
        let e = openpgp::verify(
            "Contact: mailto:a@example.org\n",
            "",
            jiff::Timestamp::UNIX_EPOCH,
        )
        .unwrap_err();
        assert_eq!(e, openpgp::SignatureError::NotSigned);
        let e = openpgp::verify(
            "x\n-----BEGIN PGP SIGNED MESSAGE-----\n\n-----END PGP SIGNATURE-----\n",
            "",
            jiff::Timestamp::UNIX_EPOCH,
        )
        .unwrap_err();
        assert_eq!(
            e,
            openpgp::SignatureError::Outside("text before", "signed message")
        );
        let e = openpgp::verify(
            "-----BEGIN PGP SIGNED MESSAGE-----\n\n-----END PGP SIGNATURE-----\nmore\n",
            "",
            jiff::Timestamp::UNIX_EPOCH,
        )
        .unwrap_err();
        assert_eq!(
            e,
            openpgp::SignatureError::Outside("data after", "signed message")
        );
    }
}
