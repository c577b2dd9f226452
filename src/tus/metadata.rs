//! `Upload-Metadata`: comma-separated `key base64value` pairs. Only `filename` (or `name`) and
//! `filetype` (or `type`) are kept, in memory, until the report is sealed. The only user of
//! the base64 crate.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Longest `Upload-Metadata` header accepted.
pub const MAX_BYTES: usize = 4096;
/// Longest content type kept.
const MAX_CONTENT_TYPE: usize = 255;

/// What the portal keeps from `Upload-Metadata`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The file name the client gave (untrusted).
    pub name: String,
    /// The content type the client gave (untrusted).
    pub content_type: String,
}

/// Decodes standard base64 (padding optional).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let padded = match text.len() % 4 {
        2 => format!("{text}=="),
        3 => format!("{text}="),
        _ => text.to_owned(),
    };
    STANDARD.decode(padded).ok()
}

/// Encodes standard base64 (for the tests and the `send` client).
pub fn encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Parses the header; keys the portal does not use are ignored, malformed pairs refused.
pub fn parse(value: Option<&str>) -> Result<FileMeta, ApiError> {
    let mut meta = FileMeta::default();
    let Some(value) = value else {
        return Ok(meta);
    };
    let bad = ApiError::TusHeader("Upload-Metadata");
    if value.len() > MAX_BYTES {
        return Err(bad);
    }
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = decode(encoded.trim()).ok_or_else(|| bad.clone())?;
        let text = || String::from_utf8(decoded.clone()).map_err(|_| ApiError::InvalidText);
        match key {
            "filename" | "name" => meta.name = text()?,
            "filetype" | "type" => {
                let mut t = text()?;
                // Cut at a character boundary: a multi-byte character must not split (panic).
                let mut end = t.len().min(MAX_CONTENT_TYPE);
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                t.truncate(end);
                meta.content_type = t;
            }
            _ => {}
        }
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_type_of_multi_byte_characters_is_cut_at_a_character_boundary() {
        use base64::Engine;
        let long = "é".repeat(300);
        let header = format!(
            "filetype {}",
            base64::engine::general_purpose::STANDARD.encode(&long)
        );
        let meta = parse(Some(&header)).unwrap();
        assert!(meta.content_type.len() <= MAX_CONTENT_TYPE);
        assert!(meta.content_type.chars().all(|c| c == 'é'));
    }

    #[test]
    fn names_and_types_come_out_of_their_base64_and_other_keys_are_ignored() {
        let header = format!(
            "filename {},filetype {},relativePath bnVsbA==,empty",
            encode("rapport ü.pdf".as_bytes()),
            encode(b"application/pdf")
        );
        let m = parse(Some(&header)).unwrap();
        assert_eq!(m.name, "rapport ü.pdf");
        assert_eq!(m.content_type, "application/pdf");
        assert_eq!(parse(None).unwrap(), FileMeta::default());
        assert!(parse(Some("filename ***")).is_err());
        assert_eq!(decode("YWI").unwrap(), b"ab");
    }
}
