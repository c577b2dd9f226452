//! `[branding]`: the organisation's own look on the portal — a logo file, an accent colour and
//! footer links — validated at start-up so that every page stays under the same strict CSP and
//! the accent keeps WCAG AA contrast (4.5:1) for white button text and links on white.

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Largest logo file.
pub const MAX_LOGO_BYTES: u64 = 512 << 10;
/// Most footer links.
pub const MAX_FOOTER_LINKS: usize = 8;
/// Longest footer link label.
const MAX_LABEL_CHARS: usize = 60;
/// The accent colour of the built-in look.
pub const DEFAULT_ACCENT: &str = "#1a4f8b";

/// `[branding]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Branding {
    /// A PNG or SVG logo shown in every page's header (at most 512 KiB); empty: none.
    pub logo_file: PathBuf,
    /// The logo's text alternative; empty: the organisation's name.
    pub logo_alt: String,
    /// Accent colour `#rrggbb` (links, buttons, focus frames); must reach 4.5:1 on white.
    pub accent: String,
    /// Extra links in every page's footer.
    pub footer_links: Vec<FooterLink>,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            logo_file: PathBuf::new(),
            logo_alt: String::new(),
            accent: DEFAULT_ACCENT.into(),
            footer_links: Vec::new(),
        }
    }
}

/// One footer link.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FooterLink {
    /// The text.
    pub label: String,
    /// An absolute `https://` (or `http://`) URL, or a path on this portal starting with `/`.
    pub url: String,
}

/// A logo read and checked at start-up.
#[derive(Debug, Clone)]
pub struct Logo {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// `image/png` or `image/svg+xml`, from the bytes (never from the name).
    pub content_type: &'static str,
}

fn invalid(key: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        problem: problem.into(),
    }
}

/// The `#rrggbb` colour's channels.
fn rgb(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#').filter(|h| h.len() == 6)?;
    let bytes = crate::digest::unhex(&hex.to_ascii_lowercase())?;
    Some([bytes[0], bytes[1], bytes[2]])
}

/// WCAG 2 contrast ratio of `rgb` against white.
pub fn contrast_on_white(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
    1.05 / (l + 0.05)
}

/// `image/png` or `image/svg+xml` when `bytes` are one of them.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    (head.starts_with("<svg") || (head.starts_with("<?xml") && head.contains("<svg")))
        .then_some("image/svg+xml")
}

impl Branding {
    /// The accent colour, checked.
    pub fn accent_rgb(&self) -> Result<[u8; 3], ConfigError> {
        let c = rgb(&self.accent).ok_or_else(|| {
            invalid(
                "branding.accent",
                format!(
                    "{:?} is not a colour written #rrggbb, e.g. \"#1a4f8b\"",
                    self.accent
                ),
            )
        })?;
        let ratio = contrast_on_white(c);
        if ratio < 4.5 {
            return Err(invalid(
                "branding.accent",
                format!(
                    "{} has a contrast of {ratio:.2}:1 on white; WCAG AA needs 4.5:1 for links \
                     and white button text: choose a darker shade",
                    self.accent
                ),
            ));
        }
        Ok(c)
    }

    /// Checks every key; reads the logo file's header.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.accent_rgb()?;
        if self.logo_alt.chars().count() > 200 || self.logo_alt.chars().any(char::is_control) {
            return Err(invalid(
                "branding.logo_alt",
                "must be one line of at most 200 characters",
            ));
        }
        if self.footer_links.len() > MAX_FOOTER_LINKS {
            return Err(invalid(
                "branding.footer_links",
                format!(
                    "has {} links; at most {MAX_FOOTER_LINKS}",
                    self.footer_links.len()
                ),
            ));
        }
        for link in &self.footer_links {
            let label = link.label.trim();
            if label.is_empty()
                || label.chars().count() > MAX_LABEL_CHARS
                || label.chars().any(char::is_control)
            {
                return Err(invalid(
                    "branding.footer_links",
                    format!(
                        "label {:?} must be 1 to {MAX_LABEL_CHARS} characters on one line",
                        link.label
                    ),
                ));
            }
            // Browsers read `/\host` as `//host`: a local path holds no backslash.
            let local = link.url.starts_with('/')
                && !link.url.starts_with("//")
                && !link.url.contains('\\')
                && !link
                    .url
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"');
            if !local && super::web_link(&link.url).is_none() {
                return Err(invalid(
                    "branding.footer_links",
                    format!(
                        "url {:?} must be an https:// address or a path starting with /",
                        link.url
                    ),
                ));
            }
        }
        self.logo()?;
        Ok(())
    }

    /// The logo, read and checked; `None` when none is configured.
    pub fn logo(&self) -> Result<Option<Logo>, ConfigError> {
        if self.logo_file.as_os_str().is_empty() {
            return Ok(None);
        }
        let path = self.logo_file.display();
        let meta = std::fs::metadata(&self.logo_file)
            .map_err(|e| invalid("branding.logo_file", format!("cannot read {path}: {e}")))?;
        if !meta.is_file() || meta.len() > MAX_LOGO_BYTES {
            return Err(invalid(
                "branding.logo_file",
                format!("{path} must be a file of at most 512 KiB"),
            ));
        }
        let bytes = std::fs::read(&self.logo_file)
            .map_err(|e| invalid("branding.logo_file", format!("cannot read {path}: {e}")))?;
        let content_type = sniff(&bytes).ok_or_else(|| {
            invalid(
                "branding.logo_file",
                format!("{path} is neither a PNG nor an SVG image"),
            )
        })?;
        Ok(Some(Logo {
            bytes,
            content_type,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_accent_passes_and_a_pale_one_is_refused_with_its_ratio() {
        assert!(Branding::default().validate().is_ok());
        let pale = Branding {
            accent: "#7fb2e5".into(),
            ..Branding::default()
        };
        let e = pale.validate().unwrap_err().to_string();
        assert!(e.contains("branding.accent") && e.contains(":1"), "{e}");
        assert!(contrast_on_white([0, 0, 0]) > 20.9);
        assert!((contrast_on_white([255, 255, 255]) - 1.0).abs() < 1e-9);
        // #767676 is the classic lightest grey that passes AA on white.
        assert!(contrast_on_white([0x76, 0x76, 0x76]) >= 4.5);
        assert!(contrast_on_white([0x77, 0x77, 0x77]) < 4.5);
    }

    #[test]
    fn colours_links_and_logos_are_checked() {
        for bad in ["1a4f8b", "#1a4f8", "#1a4f8bff", "#gg0000", "red"] {
            let b = Branding {
                accent: bad.into(),
                ..Branding::default()
            };
            assert!(b.validate().is_err(), "{bad}");
        }
        let link = |url: &str| Branding {
            footer_links: vec![FooterLink {
                label: "Privacy".into(),
                url: url.into(),
            }],
            ..Branding::default()
        };
        assert!(link("https://example.org/privacy").validate().is_ok());
        assert!(link("/policy").validate().is_ok());
        for bad in [
            "javascript:alert(1)",
            "//evil.example",
            "/\\evil.example",
            "privacy",
            "https://x y",
        ] {
            assert!(link(bad).validate().is_err(), "{bad}");
        }
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"\"/>"),
            Some("image/svg+xml")
        );
        assert_eq!(sniff(b"<html><script>"), None);
    }

    #[test]
    fn footer_links_and_the_logo_size_are_bounded_at_their_edge() {
        let links = |n: usize| Branding {
            footer_links: (0..n)
                .map(|i| FooterLink {
                    label: format!("Link {i}"),
                    url: format!("/page/{i}"),
                })
                .collect(),
            ..Branding::default()
        };
        assert!(links(MAX_FOOTER_LINKS).validate().is_ok());
        let e = links(MAX_FOOTER_LINKS + 1)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("branding.footer_links") && e.contains("at most 8"),
            "{e}"
        );

        let dir = std::env::temp_dir().join(format!("sealdrop-logo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let logo = |len: u64| {
            let path = dir.join(format!("logo-{len}.png"));
            let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
            bytes.resize(len as usize, 0);
            std::fs::write(&path, bytes).unwrap();
            Branding {
                logo_file: path,
                ..Branding::default()
            }
        };
        let ok = logo(MAX_LOGO_BYTES).logo().unwrap().unwrap();
        assert_eq!(
            (ok.content_type, ok.bytes.len() as u64),
            ("image/png", MAX_LOGO_BYTES)
        );
        let e = logo(MAX_LOGO_BYTES + 1).validate().unwrap_err().to_string();
        assert!(
            e.contains("branding.logo_file") && e.contains("512 KiB"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
