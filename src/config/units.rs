//! The units of the configuration: sizes (`"64KiB"`, `"10GiB"`) and durations (`"60s"`, `"7d"`).

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::time::Duration;

/// A byte count written as `65536`, `"64KiB"`, `"10GiB"` or `"1.5GB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `"10GiB"`-style text (`bytesize`'s grammar; a bare number is bytes).
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let t = text.trim();
        let b: bytesize::ByteSize = t.parse().map_err(|_| {
            format!("bad size {text:?} (use e.g. 64KiB, 10GiB or 1.5GB; B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)")
        })?;
        // bytesize saturates instead of failing.
        if b.0 == u64::MAX {
            return Err(format!("size {text:?} is out of range"));
        }
        Ok(ByteSize(b.0))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 4] = [
            ("TiB", 1 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
        ];
        for (name, size) in UNITS {
            if self.0 >= size {
                return if self.0.is_multiple_of(size) {
                    write!(f, "{} {name}", self.0 / size)
                } else {
                    write!(f, "{:.1} {name}", self.0 as f64 / size as f64)
                };
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(ByteSize(n)),
            Raw::Text(t) => ByteSize::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// The longest duration anything takes: longer values count as this (clock arithmetic on
/// them stays far from overflow).
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 366 * 86_400);

/// A duration written as `"60s"`, `"500ms"`, `"5m"`, `"2h"` or `"7d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `"60s"`-style text with jiff's friendly grammar (`500ms`, `5m`, `2h`, `7d`,
    /// `1h30m`, `2 days`); days count as 24 hours. A bare number is refused: a unit is required.
    pub fn parse(text: &str) -> Result<HumanDuration, String> {
        let t = text.trim();
        let bad = || {
            format!("bad duration {text:?}: write it with a unit, e.g. 500ms, 60s, 5m, 2h or 7d")
        };
        if t.is_empty() || t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let unit = t.trim_start_matches(|c: char| c.is_ascii_digit());
        let digits = &t[..t.len() - unit.len()];
        let span: jiff::Span = match t.parse() {
            Ok(span) => span,
            // Digits and a unit jiff knows, but beyond what a span holds: as long as anything
            // may last.
            Err(_) if !digits.is_empty() && format!("1{unit}").parse::<jiff::Span>().is_ok() => {
                return Ok(HumanDuration(MAX_DURATION));
            }
            Err(_) => return Err(bad()),
        };
        let d = span
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|_| format!("duration {text:?} is out of range"))?;
        Duration::try_from(d)
            .map(|d| HumanDuration(d.min(MAX_DURATION)))
            .map_err(|_| format!("duration {text:?} must not be negative"))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = String::deserialize(d)?;
        HumanDuration::parse(&t).map_err(serde::de::Error::custom)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}ms", self.0.as_millis()))
    }
}

/// Longest link kept (publication links, footer links), in characters.
pub const MAX_URL_CHARS: usize = 2000;

/// An absolute http(s) link without spaces, control characters, quotes or `<`, of at most
/// [`MAX_URL_CHARS`]: the link, trimmed.
pub fn web_link(url: &str) -> Option<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && url.chars().count() <= MAX_URL_CHARS
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<');
    ok.then(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(ByteSize::parse("10GiB"), Ok(ByteSize(10 << 30)));
        assert_eq!(ByteSize::parse("1KB"), Ok(ByteSize(1000)));
        assert_eq!(ByteSize::parse("1.5 KiB"), Ok(ByteSize(1536)));
        assert_eq!(ByteSize::parse("42"), Ok(ByteSize(42)));
        assert_eq!(ByteSize::parse("64 MiB"), Ok(ByteSize(64 << 20)));
        assert!(ByteSize::parse("10 parsecs").is_err());
        assert!(ByteSize::parse("99999999999TiB").is_err());
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(
            HumanDuration::parse("60s").unwrap().0,
            Duration::from_secs(60)
        );
        assert_eq!(
            HumanDuration::parse("250ms").unwrap().0,
            Duration::from_millis(250)
        );
        assert_eq!(
            HumanDuration::parse("7d").unwrap().0,
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            HumanDuration::parse("1h30m").unwrap().0,
            Duration::from_secs(5400)
        );
        assert!(HumanDuration::parse("soon").is_err());
        assert!(HumanDuration::parse("2 parsecs").is_err());
        assert!(HumanDuration::parse("99999999999999 parsecs").is_err());
        assert_eq!(
            HumanDuration::parse("99999999999999s").unwrap().0,
            MAX_DURATION
        );
        let bare = HumanDuration::parse("7").unwrap_err();
        assert!(bare.contains("with a unit"), "{bare}");
        assert!(HumanDuration::parse("-5s").is_err());
    }
}
