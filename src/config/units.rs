//! The units of the configuration: sizes (`"64KiB"`, `"10GiB"`) and durations (`"60s"`, `"7d"`).

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::time::Duration;

/// A byte count written as `65536`, `"64KiB"`, `"10GiB"` or `"1.5GB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses `"10GiB"`-style text.
    pub fn parse(text: &str) -> Result<ByteSize, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let unit = unit.trim();
        let mult: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1000,
            "kib" => 1 << 10,
            "m" | "mb" => 1_000_000,
            "mib" => 1 << 20,
            "g" | "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            "t" | "tb" => 1_000_000_000_000,
            "tib" => 1 << 40,
            _ => {
                return Err(format!(
                    "unknown size unit {unit:?} in {text:?} (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
                ));
            }
        };
        if num.contains('.') {
            let v: f64 = num.parse().map_err(|_| format!("bad size {text:?}"))?;
            let bytes = v * mult as f64;
            if !(0.0..1.8e19).contains(&bytes) {
                return Err(format!("size {text:?} is out of range"));
            }
            Ok(ByteSize(bytes as u64))
        } else {
            let v: u64 = num.parse().map_err(|_| format!("bad size {text:?}"))?;
            v.checked_mul(mult)
                .map(ByteSize)
                .ok_or_else(|| format!("size {text:?} is out of range"))
        }
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

/// A duration written as `"60s"`, `"500ms"`, `"5m"`, `"2h"` or `"7d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `"60s"`-style text.
    pub fn parse(text: &str) -> Result<HumanDuration, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("bad duration {text:?} (use e.g. 500ms, 60s, 5m, 2h, 7d)"))?;
        let ms = match unit.trim() {
            "ms" => n,
            "s" | "" => n.saturating_mul(1000),
            "m" | "min" => n.saturating_mul(60_000),
            "h" => n.saturating_mul(3_600_000),
            "d" => n.saturating_mul(86_400_000),
            u => {
                return Err(format!(
                    "unknown duration unit {u:?} in {text:?} (use ms, s, m, h, d)"
                ));
            }
        };
        Ok(HumanDuration(Duration::from_millis(ms)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(ByteSize::parse("10GiB"), Ok(ByteSize(10 << 30)));
        assert_eq!(ByteSize::parse("1KB"), Ok(ByteSize(1000)));
        assert_eq!(ByteSize::parse("1.5 KiB"), Ok(ByteSize(1536)));
        assert_eq!(ByteSize::parse("42"), Ok(ByteSize(42)));
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
        assert!(HumanDuration::parse("soon").is_err());
    }
}
