//! Recipients files, key ids, the hot-swappable `KeyRing`, identity files and `keygen`.
//! The only module that parses age keys.

use crate::digest;
use age::secrecy::ExposeSecret;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, RwLock};

/// Why keys could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The recipients file could not be read.
    #[error("cannot read recipients file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// One line of the recipients file is not a usable recipient.
    #[error("{path}:{line}: {problem}")]
    BadLine {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The file holds no recipient at all.
    #[error("{path} holds no recipients")]
    Empty {
        /// The file.
        path: String,
    },
    /// `keygen` refuses to overwrite.
    #[error("{0} already exists")]
    Exists(PathBuf),
    /// Writing the identity file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An identity file could not be read.
    #[error("cannot use identity file {path}: {problem}")]
    Identity {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
}

impl KeyError {
    /// What the person should do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            KeyError::Read { .. } => Some(
                "create it with one age recipient (age1…) per line; `sealdrop keygen -o identity.txt` \
                 on an offline machine prints one"
                    .into(),
            ),
            KeyError::BadLine { .. } => Some(
                "each line must be an age X25519 recipient (age1…), an ssh-ed25519 or ssh-rsa public \
                 key, a # comment or blank; plugin recipients are not supported"
                    .into(),
            ),
            KeyError::Empty { .. } => Some(
                "add at least one recipient: run `sealdrop keygen -o identity.txt` on the team's \
                 offline machine and put the printed age1… line in this file"
                    .into(),
            ),
            KeyError::Exists(_) => Some("choose another file name; keygen never overwrites".into()),
            KeyError::Write { .. } => None,
            KeyError::Identity { .. } => Some(
                "pass an age identity file (AGE-SECRET-KEY-1…) or an unencrypted SSH private key \
                 with -i"
                    .into(),
            ),
        }
    }
}

/// A short, stable identifier of one recipient: the first 6 bytes of SHA-256 of its canonical
/// text, in hex.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct KeyId(pub String);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One recipient of the ring.
pub struct Key {
    /// Stable id.
    pub id: KeyId,
    /// Canonical recipient text (`age1…` or `ssh-ed25519 AAAA…`).
    pub recipient: String,
    /// The comment line right above it, if any.
    pub label: Option<String>,
    inner: Box<dyn age::Recipient + Send + Sync>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("label", &self.label)
            .finish()
    }
}

/// The set of recipients every new upload is encrypted to.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<Key>,
}

impl KeyRing {
    /// Reads and validates a recipients file.
    pub fn load(path: &Path) -> Result<KeyRing, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        KeyRing::parse(&text, &path.display().to_string())
    }

    /// Parses recipients-file text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<KeyRing, KeyError> {
        let mut keys: Vec<Key> = Vec::new();
        let mut label = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                label = None;
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                let c = comment.trim();
                label = (!c.is_empty()).then(|| c.to_owned());
                continue;
            }
            let (recipient, inner) =
                parse_recipient(line).map_err(|problem| KeyError::BadLine {
                    path: origin.to_owned(),
                    line: n + 1,
                    problem,
                })?;
            let id = key_id(&recipient);
            if keys.iter().any(|k| k.id == id) {
                label = None;
                continue;
            }
            keys.push(Key {
                id,
                recipient,
                label: label.take(),
                inner,
            });
        }
        if keys.is_empty() {
            return Err(KeyError::Empty {
                path: origin.to_owned(),
            });
        }
        Ok(KeyRing { keys })
    }

    /// The keys, in file order.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Their ids, in file order.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|k| k.id.clone()).collect()
    }

    /// The recipients as age wants them.
    pub fn recipients(&self) -> impl Iterator<Item = &dyn age::Recipient> {
        self.keys
            .iter()
            .map(|k| k.inner.as_ref() as &dyn age::Recipient)
    }
}

/// Parses one recipient line into its canonical text and age recipient.
fn parse_recipient(line: &str) -> Result<(String, Box<dyn age::Recipient + Send + Sync>), String> {
    if line.starts_with("ssh-") || line.starts_with("ecdsa-") || line.starts_with("sk-") {
        let canonical: String = line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        return match age::ssh::Recipient::from_str(line) {
            Ok(r) => Ok((canonical, Box::new(r))),
            Err(age::ssh::ParseRecipientKeyError::Unsupported(kind)) => Err(format!(
                "SSH key type {kind} is not supported (use ssh-ed25519 or ssh-rsa)"
            )),
            Err(age::ssh::ParseRecipientKeyError::RsaModulusTooSmall) => {
                Err("ssh-rsa key is too weak (needs at least 2048 bits)".into())
            }
            Err(age::ssh::ParseRecipientKeyError::RsaModulusTooLarge) => {
                Err("ssh-rsa key is too large (at most 4096 bits)".into())
            }
            Err(_) => Err("not a valid SSH public key".into()),
        };
    }
    let word = line.split_whitespace().next().unwrap_or_default();
    let lower = word.to_ascii_lowercase();
    if lower.starts_with("age1") {
        if let Ok(r) = age::x25519::Recipient::from_str(word) {
            if word.len() != line.len() {
                return Err(
                    "unexpected text after the recipient (put comments on their own # line)".into(),
                );
            }
            return Ok((r.to_string(), Box::new(r)));
        }
        // Native X25519 recipients are bech32 with the prefix "age"; anything longer before the
        // last '1' (age1yubikey1…, age1tag1…) is a plugin or another recipient type.
        let hrp = &lower[..lower.rfind('1').unwrap_or(3)];
        if hrp.len() > 3 {
            return Err(format!(
                "{hrp}1… is a plugin or non-X25519 recipient; sealdrop accepts only X25519 (age1…) \
                 and SSH recipients"
            ));
        }
        return Err("not a valid age X25519 recipient (check for a typo or a cut-off line)".into());
    }
    if lower.starts_with("age-secret-key-") || lower.starts_with("age-plugin-") {
        return Err(
            "this is a private identity, not a recipient: never put private keys on the server; \
             put its public age1… recipient here instead"
                .into(),
        );
    }
    Err("not an age recipient (expected age1… or an ssh-ed25519 / ssh-rsa public key)".into())
}

/// The stable id of a canonical recipient.
pub fn key_id(recipient: &str) -> KeyId {
    KeyId(digest::hex(&digest::sha256(recipient.as_bytes())[..6]))
}

/// A ring that can be replaced while uploads run: each upload takes an `Arc` snapshot and
/// finishes with it.
#[derive(Debug)]
pub struct KeyRingHandle {
    current: RwLock<Arc<KeyRing>>,
}

impl KeyRingHandle {
    /// Wraps the first ring.
    pub fn new(ring: KeyRing) -> Self {
        Self {
            current: RwLock::new(Arc::new(ring)),
        }
    }

    /// The ring new uploads use.
    pub fn current(&self) -> Arc<KeyRing> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Installs a new ring for every upload that starts from now on.
    pub fn replace(&self, ring: KeyRing) {
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *g = Arc::new(ring);
    }
}

/// Writes a new X25519 identity to `path` (mode 0600, never overwriting) and returns its recipient.
pub fn keygen(path: &Path) -> Result<String, KeyError> {
    use std::os::unix::fs::OpenOptionsExt;
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                KeyError::Exists(path.to_owned())
            } else {
                KeyError::Write {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
    let created = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let body = format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        identity.to_string().expose_secret()
    );
    file.write_all(body.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyError::Write {
            path: path.to_owned(),
            source,
        })?;
    Ok(recipient)
}

/// Identities read from age identity files or unencrypted SSH private keys.
pub struct Identities(Vec<Box<dyn age::Identity + Send + Sync>>);

impl Identities {
    /// Reads every file; each must hold at least one identity.
    pub fn load(paths: &[PathBuf]) -> Result<Identities, KeyError> {
        let mut all = Vec::new();
        for path in paths {
            let bad = |problem: String| KeyError::Identity {
                path: path.clone(),
                problem,
            };
            let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
            if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----")
                || text.contains("-----BEGIN RSA PRIVATE KEY-----")
            {
                let id = age::ssh::Identity::from_buffer(text.as_bytes(), None)
                    .map_err(|e| bad(e.to_string()))?;
                match id {
                    age::ssh::Identity::Unencrypted(_) => all.push(Box::new(id) as _),
                    _ => return Err(bad("encrypted or unsupported SSH key".into())),
                }
                continue;
            }
            let file =
                age::IdentityFile::from_buffer(text.as_bytes()).map_err(|e| bad(e.to_string()))?;
            let ids = file.into_identities().map_err(|e| bad(e.to_string()))?;
            if ids.is_empty() {
                return Err(bad("it holds no identity".into()));
            }
            all.extend(ids);
        }
        if all.is_empty() {
            return Err(KeyError::Identity {
                path: PathBuf::from("(none)"),
                problem: "no identity file given".into(),
            });
        }
        Ok(Identities(all))
    }

    /// The identities as age wants them.
    pub fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.0.iter().map(|i| i.as_ref() as &dyn age::Identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X1: &str = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

    #[test]
    fn comments_blank_lines_and_labels_are_understood() {
        let ring = KeyRing::parse(&format!("# alice laptop\n{X1}\n\n# end\n"), "r.txt").unwrap();
        assert_eq!(ring.keys().len(), 1);
        assert_eq!(ring.keys()[0].label.as_deref(), Some("alice laptop"));
        assert_eq!(ring.keys()[0].id, key_id(X1));
        assert_eq!(ring.keys()[0].id.0.len(), 12);
    }

    #[test]
    fn garbage_lines_are_reported_with_their_line_number() {
        let err = KeyRing::parse(&format!("{X1}\n\nhello world\n"), "r.txt").unwrap_err();
        assert!(err.to_string().starts_with("r.txt:3: "), "{err}");
    }

    #[test]
    fn plugin_recipients_are_refused() {
        let plugin = "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t";
        let err = KeyRing::parse(plugin, "r.txt").unwrap_err();
        assert!(err.to_string().contains("plugin"), "{err}");
    }

    #[test]
    fn private_keys_are_refused_with_a_warning() {
        let err = KeyRing::parse(
            "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX",
            "r.txt",
        )
        .unwrap_err();
        assert!(err.to_string().contains("private"), "{err}");
    }

    #[test]
    fn an_empty_file_is_refused() {
        let err = KeyRing::parse("# only a comment\n\n", "r.txt").unwrap_err();
        assert!(matches!(err, KeyError::Empty { .. }));
    }

    #[test]
    fn ssh_ed25519_recipients_are_accepted() {
        let ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@rust";
        let ring = KeyRing::parse(ssh, "r.txt").unwrap();
        assert!(ring.keys()[0].recipient.starts_with("ssh-ed25519 AAAA"));
        assert!(!ring.keys()[0].recipient.contains("alice"));
    }

    #[test]
    fn key_ids_are_stable_and_distinct() {
        assert_eq!(key_id(X1), key_id(X1));
        assert_ne!(key_id(X1), key_id("ssh-ed25519 AAAA"));
    }
}
