//! The canonical receipt text: one `key: value` per line, in a fixed order, file names as JSON
//! strings (so no name can add a line), ending in a newline. It is what the signature covers.

use super::ReceiptError;

/// The first line of every receipt.
pub const HEADER: &str = "sealdrop receipt v1";

/// One file as the receipt lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFile {
    /// The name the reporter's client sent.
    pub name: String,
    /// Plaintext bytes.
    pub size: u64,
    /// Plaintext SHA-256, hex (what `sha256sum` prints).
    pub sha256: String,
}

/// What a receipt states. Never the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The portal's public address.
    pub portal: String,
    /// The case number (a follow-up's own number, e.g. `2026-0042-2`).
    pub case: String,
    /// For a follow-up: the case it was added to.
    pub follow_up_to: Option<String>,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// The category's wire name.
    pub category: String,
    /// SHA-256 of the message as received (UTF-8), hex.
    pub message_sha256: String,
    /// The files, in order.
    pub files: Vec<DocumentFile>,
    /// The ids of the keys that can read the submission.
    pub key_ids: Vec<String>,
    /// The fingerprint of the receipt key that signs it.
    pub signed_by: String,
}

impl Document {
    /// The canonical text.
    pub fn text(&self) -> String {
        let mut t = format!("{HEADER}\nportal: {}\ncase: {}\n", self.portal, self.case);
        if let Some(parent) = &self.follow_up_to {
            t.push_str(&format!("follow-up-to: {parent}\n"));
        }
        t.push_str(&format!(
            "received: {}\ncategory: {}\nmessage-sha256: {}\nfiles: {}\n",
            self.received_at,
            self.category,
            self.message_sha256,
            self.files.len()
        ));
        for (n, f) in self.files.iter().enumerate() {
            let name = serde_json::to_string(&f.name).unwrap_or_else(|_| "\"\"".into());
            t.push_str(&format!(
                "file {}: size={} sha256={} name={name}\n",
                n + 1,
                f.size,
                f.sha256
            ));
        }
        t.push_str(&format!(
            "keys: {}\nreceipt-key: {}\n",
            self.key_ids.join(" "),
            self.signed_by
        ));
        t
    }
}

/// The few fields verification needs from a receipt's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// `portal:`.
    pub portal: String,
    /// `case:`.
    pub case: String,
    /// `received:` (RFC 3339 UTC).
    pub received_at: String,
}

/// Reads the header and the `portal`, `case` and `received` lines of a receipt's text.
pub fn parse(text: &str) -> Result<Parsed, ReceiptError> {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(ReceiptError::NotAReceipt(format!(
            "its first line is not {HEADER:?}"
        )));
    }
    let field = |name: &str| -> Result<String, ReceiptError> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": ").map(str::to_owned))
            .ok_or_else(|| ReceiptError::NotAReceipt(format!("it has no {name} line")))
    };
    Ok(Parsed {
        portal: field("portal")?,
        case: field("case")?,
        received_at: field("received")?,
    })
}

/// The identity (`ssh-keygen -Y verify -I`) of a portal: its address's host, e.g.
/// `drop.example.org` for `https://drop.example.org/`.
pub fn principal(portal_url: &str) -> String {
    let rest = portal_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(portal_url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => authority,
        }
    };
    if host.is_empty() {
        "sealdrop".into()
    } else {
        host.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        Document {
            portal: "https://drop.example.org".into(),
            case: "2026-0001".into(),
            follow_up_to: None,
            received_at: "2026-12-01T10:00:00Z".into(),
            category: "vulnerability".into(),
            message_sha256: "ab".repeat(32),
            files: vec![DocumentFile {
                name: "evil\nkeys: none".into(),
                size: 3,
                sha256: "cd".repeat(32),
            }],
            key_ids: vec!["k1".into(), "k2".into()],
            signed_by: "SHA256:xyz".into(),
        }
    }

    #[test]
    fn a_file_name_cannot_add_a_line_to_the_receipt() {
        let text = doc().text();
        assert_eq!(text.lines().count(), 10, "{text}");
        assert!(text.contains("name=\"evil\\nkeys: none\"\n"));
        assert!(text.ends_with("keys: k1 k2\nreceipt-key: SHA256:xyz\n"));
    }

    #[test]
    fn the_receipt_text_parses_back() {
        let p = parse(&doc().text()).unwrap();
        assert_eq!(p.case, "2026-0001");
        assert_eq!(p.received_at, "2026-12-01T10:00:00Z");
        assert!(parse("hello\n").is_err());
    }

    #[test]
    fn the_principal_is_the_portal_host() {
        assert_eq!(principal("https://Drop.example.org/"), "drop.example.org");
        assert_eq!(principal("http://127.0.0.1:8443"), "127.0.0.1");
        assert_eq!(principal("http://[::1]:8443/x"), "::1");
    }
}
