//! The published receipt keys as an OpenSSH allowed-signers file (`ssh-keygen -Y verify -f`):
//! one line per key the portal ever signed with, restricted to the receipt namespace, with
//! `valid-after` and, once rotated, `valid-before` in UTC.

use super::{NAMESPACE, ReceiptError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A receipt key the portal has signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// The public key, one OpenSSH line (`ssh-ed25519 AAAA…`).
    pub public: String,
    /// `SHA256:…`.
    pub fingerprint: String,
    /// When it started signing (RFC 3339 UTC).
    pub created_at: String,
    /// When a rotation replaced it (RFC 3339 UTC); none for the key in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
}

/// `YYYYMMDDHHMMSSZ`, the UTC form `ssh-keygen` reads in `valid-after`, `valid-before` and
/// `-O verify-time=`.
pub fn ssh_time(rfc3339: &str) -> String {
    rfc3339
        .parse::<Timestamp>()
        .map(|t| t.strftime("%Y%m%d%H%M%SZ").to_string())
        .unwrap_or_default()
}

/// Reads `YYYYMMDD[HHMM[SS]][Z]` (always as UTC).
fn parse_ssh_time(text: &str) -> Option<Timestamp> {
    let digits = text.strip_suffix('Z').unwrap_or(text);
    if !digits.chars().all(|c| c.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<i16>().ok());
    let (h, mi, s) = match digits.len() {
        8 => (0, 0, 0),
        12 => (num(8..10)?, num(10..12)?, 0),
        _ => (num(8..10)?, num(10..12)?, num(12..14)?),
    };
    let dt = jiff::civil::DateTime::new(
        num(0..4)?,
        num(4..6)? as i8,
        num(6..8)? as i8,
        h as i8,
        mi as i8,
        s as i8,
        0,
    )
    .ok()?;
    dt.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// The allowed-signers file of `entries` for `principal`.
pub fn render(principal: &str, entries: &[KeyEntry]) -> String {
    let mut out = format!(
        "# Receipt keys of the sealdrop portal {principal}, for\n# ssh-keygen -Y verify -f \
         THIS_FILE -I {principal} -n {NAMESPACE} -s receipt.txt.sig < receipt.txt\n"
    );
    for e in entries {
        let mut options = format!(
            "namespaces=\"{NAMESPACE}\",valid-after=\"{}\"",
            ssh_time(&e.created_at)
        );
        if let Some(until) = &e.retired_at {
            options.push_str(&format!(",valid-before=\"{}\"", ssh_time(until)));
        }
        out.push_str(&format!("{principal} {options} {}\n", e.public));
    }
    out
}

/// One line of an allowed-signers file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The principal patterns (comma-separated in the file).
    pub principals: Vec<String>,
    /// `namespaces=`, if given.
    pub namespaces: Option<Vec<String>>,
    /// `valid-after=`, if given.
    pub valid_after: Option<Timestamp>,
    /// `valid-before=`, if given.
    pub valid_before: Option<Timestamp>,
    /// The public key line (`type base64`).
    pub public: String,
}

impl Listed {
    /// True when the line names `principal` (exact, or the pattern `*`).
    pub fn names(&self, principal: &str) -> bool {
        self.principals
            .iter()
            .any(|p| p == "*" || p.eq_ignore_ascii_case(principal))
    }

    /// True when the line allows the receipt namespace.
    pub fn allows_namespace(&self) -> bool {
        self.namespaces
            .as_ref()
            .is_none_or(|n| n.iter().any(|n| n == NAMESPACE || n == "*"))
    }

    /// True when `at` lies inside the line's validity period (both ends included, as
    /// `ssh-keygen` counts them).
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.valid_after.is_none_or(|a| at >= a) && self.valid_before.is_none_or(|b| at <= b)
    }
}

/// Splits at whitespace outside double quotes.
fn tokens(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Reads an allowed-signers file (comments and blank lines skipped).
pub fn parse(text: &str) -> Result<Vec<Listed>, ReceiptError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: &str| ReceiptError::BadList(format!("line {}: {what}", n + 1));
        let t = tokens(line);
        let (principals, rest) = t.split_first().ok_or_else(|| bad("empty"))?;
        let (options, key) = match rest.first() {
            Some(o)
                if !o.starts_with("ssh-") && !o.starts_with("ecdsa-") && !o.starts_with("sk-") =>
            {
                (Some(o.as_str()), &rest[1..])
            }
            _ => (None, rest),
        };
        let (Some(kind), Some(b64)) = (key.first(), key.get(1)) else {
            return Err(bad("no public key"));
        };
        let mut listed = Listed {
            principals: principals.split(',').map(str::to_owned).collect(),
            namespaces: None,
            valid_after: None,
            valid_before: None,
            public: format!("{kind} {b64}"),
        };
        for opt in options.map(split_options).unwrap_or_default() {
            let (name, value) = opt.split_once('=').unwrap_or((opt.as_str(), ""));
            let value = value.trim_matches('"');
            match name.to_ascii_lowercase().as_str() {
                "namespaces" => {
                    listed.namespaces = Some(value.split(',').map(str::to_owned).collect());
                }
                "valid-after" => {
                    listed.valid_after =
                        Some(parse_ssh_time(value).ok_or_else(|| bad("bad valid-after"))?);
                }
                "valid-before" => {
                    listed.valid_before =
                        Some(parse_ssh_time(value).ok_or_else(|| bad("bad valid-before"))?);
                }
                // A certificate authority signs certificates, never a receipt directly.
                "cert-authority" => return Err(bad("cert-authority lines are not receipt keys")),
                _ => {}
            }
        }
        out.push(listed);
    }
    Ok(out)
}

/// Splits `a="x,y",b` at the commas outside quotes.
fn split_options(options: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for c in options.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_list_parses_back_with_its_validity() {
        let entries = vec![
            KeyEntry {
                public: "ssh-ed25519 AAAAold".into(),
                fingerprint: "SHA256:old".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                retired_at: Some("2026-06-01T12:30:05Z".into()),
            },
            KeyEntry {
                public: "ssh-ed25519 AAAAnew".into(),
                fingerprint: "SHA256:new".into(),
                created_at: "2026-06-01T12:30:05Z".into(),
                retired_at: None,
            },
        ];
        let text = render("drop.example.org", &entries);
        assert!(text.contains(
            "drop.example.org namespaces=\"sealdrop-receipt\",valid-after=\"20260101000000Z\",\
             valid-before=\"20260601123005Z\" ssh-ed25519 AAAAold\n"
        ));
        let listed = parse(&text).unwrap();
        assert_eq!(listed.len(), 2);
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert!(listed[0].valid_at(at("2026-03-01T00:00:00Z")));
        assert!(!listed[0].valid_at(at("2026-07-01T00:00:00Z")));
        assert!(listed[1].valid_at(at("2026-07-01T00:00:00Z")));
        assert!(listed[1].names("drop.example.org") && listed[1].allows_namespace());
        assert_eq!(listed[1].public, "ssh-ed25519 AAAAnew");
    }
}
