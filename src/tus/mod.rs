//! The tus 1.0.0 resumable upload protocol (core, creation, expiration, termination, checksum
//! with sha256): upload ids, the protocol's header values, and the domain operations behind
//! `/api/v1/uploads/` (`uploads`). A file uploaded this way becomes part of a report only when
//! a report names it (the `upload` field of the submission forms, see `intake`).
//!
//! Each PATCH body is sealed as a complete age file of its own (`piece`): no stream key has to
//! outlive a request, nothing secret is ever written down, a piece that fails its checksum is
//! dropped whole, and one cut short by a dropped connection is kept up to its last byte.

pub mod metadata;
pub mod piece;
pub mod uploads;

use crate::error::ApiError;
use std::fmt;

/// The protocol version spoken.
pub const VERSION: &str = "1.0.0";
/// The extensions offered (`Tus-Extension`).
pub const EXTENSIONS: &str = "creation,expiration,termination,checksum";
/// The checksum algorithms offered (`Tus-Checksum-Algorithm`).
pub const CHECKSUM_ALGORITHMS: &str = "sha256";
/// The media type of a PATCH body.
pub const OFFSET_STREAM: &str = "application/offset+octet-stream";
/// Where uploads are created; an upload's address is this plus its id.
pub const BASE: &str = "/api/v1/uploads";

/// An upload id: 160 random bits, 40 lower-case hex digits, the last part of the upload's URL.
/// A bearer secret: only its SHA-256 is kept, and it is never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct UploadId(String);

impl UploadId {
    /// A new random id.
    pub fn generate() -> UploadId {
        use rand::RngCore;
        let mut b = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut b);
        UploadId(crate::digest::hex(&b))
    }

    /// Accepts exactly the shape `generate` makes.
    pub fn parse(text: &str) -> Option<UploadId> {
        (text.len() == 40 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| UploadId(text.to_owned()))
    }

    /// The id text (for the `Location` header only).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key the upload is kept under.
    pub fn key(&self) -> [u8; 32] {
        crate::digest::sha256(self.0.as_bytes())
    }
}

impl fmt::Debug for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UploadId(…)")
    }
}

/// Checks `Tus-Resumable` (412 when absent or another version).
pub fn check_version(value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(v) if v.trim() == VERSION => Ok(()),
        _ => Err(ApiError::TusVersion),
    }
}

/// Parses a non-negative integer header (`Upload-Length`, `Upload-Offset`).
pub fn parse_u64(name: &'static str, value: Option<&str>) -> Result<Option<u64>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let v = v.trim();
            if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::TusHeader(name));
            }
            v.parse().map(Some).map_err(|_| ApiError::TusHeader(name))
        }
    }
}

/// Parses `Upload-Checksum: sha256 <base64>` into the expected digest.
pub fn parse_checksum(value: Option<&str>) -> Result<Option<[u8; 32]>, ApiError> {
    let Some(v) = value else {
        return Ok(None);
    };
    let (algo, sum) = v
        .trim()
        .split_once(' ')
        .ok_or(ApiError::TusHeader("Upload-Checksum"))?;
    if !algo.eq_ignore_ascii_case("sha256") {
        return Err(ApiError::ChecksumAlgorithm);
    }
    let bytes = metadata::decode(sum.trim()).ok_or(ApiError::TusHeader("Upload-Checksum"))?;
    bytes
        .try_into()
        .map(Some)
        .map_err(|_| ApiError::TusHeader("Upload-Checksum"))
}

/// An HTTP date (RFC 9110 IMF-fixdate), as `Upload-Expires` carries it.
pub fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_160_bits_and_only_their_own_shape_parses() {
        let id = UploadId::generate();
        assert_eq!(id.as_str().len(), 40);
        assert_ne!(id, UploadId::generate());
        assert!(UploadId::parse(id.as_str()).is_some());
        for bad in ["", "../x", &id.as_str().to_uppercase(), &id.as_str()[1..]] {
            assert!(UploadId::parse(bad).is_none(), "{bad}");
        }
        assert!(!format!("{id:?}").contains(id.as_str()));
    }

    #[test]
    fn header_values_parse_strictly() {
        assert!(check_version(Some("1.0.0")).is_ok());
        assert_eq!(check_version(Some("0.2.2")), Err(ApiError::TusVersion));
        assert_eq!(check_version(None), Err(ApiError::TusVersion));
        assert_eq!(parse_u64("Upload-Offset", Some("42")), Ok(Some(42)));
        assert!(parse_u64("Upload-Offset", Some("-1")).is_err());
        assert!(parse_u64("Upload-Offset", Some("99999999999999999999999")).is_err());
        let sum = crate::digest::sha256(b"abc");
        let header = format!("sha256 {}", metadata::encode(&sum));
        assert_eq!(parse_checksum(Some(&header)), Ok(Some(sum)));
        assert_eq!(
            parse_checksum(Some("md5 AAAA")),
            Err(ApiError::ChecksumAlgorithm)
        );
        let date = http_date(jiff::Timestamp::from_second(1_403_712_000).unwrap());
        assert_eq!(date, "Wed, 25 Jun 2014 16:00:00 GMT");
    }
}
