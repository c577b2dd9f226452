//! The `cvss_v3` object of a CSAF vulnerability: the base score and severity computed from the
//! vector the team gives, as the CSAF mandatory tests recompute them. The only user of `cvss`.

use super::Refused;
use serde_json::{Value, json};

/// The `cvss_v3` object of the base vector `vector` (`CVSS:3.0/…` or `CVSS:3.1/…` with the
/// eight base metrics and nothing else).
pub fn cvss_v3(vector: &str) -> Result<Value, Refused> {
    let bad = |why: String| {
        Refused::Input(format!(
            "the CVSS vector {vector:?} {why}: give the base vector, e.g. \
             CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        ))
    };
    let parsed: cvss::v3::Vector = vector
        .parse()
        .map_err(|e| bad(format!("is invalid ({e})")))?;
    let base = [
        parsed.av.is_some(),
        parsed.ac.is_some(),
        parsed.pr.is_some(),
        parsed.ui.is_some(),
        parsed.s.is_some(),
        parsed.c.is_some(),
        parsed.i.is_some(),
        parsed.a.is_some(),
    ];
    if base.contains(&false) {
        return Err(bad("lacks a base metric".into()));
    }
    if vector.split('/').count() != 9 {
        return Err(bad("has metrics beyond the base ones".into()));
    }
    let score = parsed.score();
    Ok(json!({
        "version": format!("3.{}", parsed.minor_version),
        "vectorString": vector,
        "baseScore": score.value(),
        "baseSeverity": score.severity().as_str().to_ascii_uppercase(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_vector_gets_its_score_and_severity_and_others_are_refused() {
        let v = cvss_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!(v["baseScore"], 9.8);
        assert_eq!(v["baseSeverity"], "CRITICAL");
        assert_eq!(v["version"], "3.1");
        let v = cvss_v3("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N").unwrap();
        assert_eq!(v["baseScore"], 1.8);
        assert_eq!(v["baseSeverity"], "LOW");
        assert!(cvss_v3("CVSS:3.1/AV:N/AC:L").is_err());
        assert!(cvss_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P").is_err());
        assert!(cvss_v3("AV:N/AC:L/Au:N/C:P/I:P/A:P").is_err());
    }
}
