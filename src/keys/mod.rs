//! Recipients files, key ids, the hot-swappable `KeyRing`, identity files and `keygen`.
//! The only module that parses age keys; `identities` reads the team's private keys, offline.

mod identities;
pub use identities::Identities;

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
    /// Post-quantum and classic recipients in one set: the classic ones would let a quantum
    /// computer read what the post-quantum ones protect.
    #[error(
        "{path} mixes post-quantum recipients ({}) with classic ones ({}): a file encrypted to \
         both is only as safe as the classic key, so the set must be one or the other",
        list_ids(.pq),
        list_ids(.classic)
    )]
    MixedClasses {
        /// The file.
        path: String,
        /// The post-quantum keys.
        pq: Vec<KeyId>,
        /// The classic keys.
        classic: Vec<KeyId>,
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
    /// An edit of the recipients file was refused.
    #[error("{0}")]
    Refused(String),
    /// A retirement reason that does not fit on one line of the recipients file.
    #[error("the reason must be a single line, but it holds a line break")]
    MultiLineReason,
    /// A re-keyed bundle would leave its submission readable by no active key.
    #[error(
        "import refused: the bundle is encrypted only to key(s) {}, none of which is active; \
         importing it would undo a key rotation",
        list_ids(.0)
    )]
    NoActiveKey(Vec<KeyId>),
    /// A re-keyed bundle is encrypted to exactly the keys its submission already has.
    #[error(
        "import refused: the submission is already encrypted to exactly these keys ({}); \
         nothing to import",
        list_ids(.0)
    )]
    SameKeys(Vec<KeyId>),
    /// An identity file could not be read.
    #[error("cannot use identity file {path}: {problem}")]
    Identity {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        problem: String,
    },
}

impl crate::hint::Hint for KeyError {
    fn hint(&self) -> Option<String> {
        match self {
            KeyError::Read { .. } => Some(
                "create it with one age recipient (age1…) per line; `sealdrop keygen -o identity.txt` \
                 on an offline machine prints one"
                    .into(),
            ),
            KeyError::BadLine { .. } => Some(
                "each line must be an age X25519 recipient (age1…), a hardware recipient (age1tag1… \
                 or the post-quantum age1tagpq1…), an ssh-ed25519 or ssh-rsa public key, a # \
                 comment or blank; plugin recipients are not supported"
                    .into(),
            ),
            KeyError::MixedClasses { .. } => Some(
                "for a post-quantum set, give every member an age1tagpq1… key (retire the others \
                 once their cases are re-keyed); to stay classic, take the age1tagpq1… lines out"
                    .into(),
            ),
            KeyError::Empty { .. } => Some(
                "add at least one recipient: run `sealdrop keygen -o identity.txt` on the team's \
                 offline machine and put the printed age1… line in this file"
                    .into(),
            ),
            KeyError::Exists(_) => Some("choose another file name; keygen never overwrites".into()),
            KeyError::Write { .. } => Some(
                "the server needs write access to the recipients file for `keys add` and \
                 `keys retire`; otherwise edit it by hand and run `sealdrop keys reload`"
                    .into(),
            ),
            KeyError::Refused(_) => Some("`sealdrop keys list` shows the keys and their ids".into()),
            KeyError::MultiLineReason => Some(
                "give the reason on one line, e.g. --reason \"laptop lost, ticket 42\"".into(),
            ),
            KeyError::NoActiveKey(_) => Some(
                "re-key the export to at least one active key (`sealdrop rekey EXPORT -i IDENTITY \
                 -r age1… -o NEW`); `sealdrop keys list` shows which keys are active"
                    .into(),
            ),
            KeyError::SameKeys(_) => Some(
                "nothing needs doing; to move the submission to other keys, re-key it to them \
                 (`sealdrop keys list` shows the active ones)"
                    .into(),
            ),
            KeyError::Identity { problem, .. } if problem.contains("on the PATH") => Some(
                "install the key's plugin program on this machine, in a folder on the PATH \
                 (for a YubiKey: age-plugin-yubikey)"
                    .into(),
            ),
            KeyError::Identity { .. } => Some(
                "pass an age identity file (AGE-SECRET-KEY-1…, or AGE-PLUGIN-…-1… for a key on \
                 hardware) or an unencrypted SSH private key with -i"
                    .into(),
            ),
        }
    }
}

/// Key ids for a message: at most eight, then how many more.
fn list_ids(ids: &[KeyId]) -> String {
    let shown: Vec<&str> = ids.iter().take(8).map(|k| k.0.as_str()).collect();
    match ids.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// A short, stable identifier of one recipient: the first 6 bytes of SHA-256 of its canonical
/// text, in hex.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct KeyId(pub String);

impl KeyId {
    /// True for an id as [`key_id`] makes them: 12 lowercase hex digits.
    pub fn is_well_formed(&self) -> bool {
        self.0.len() == 12
            && self
                .0
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of key a recipient is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// `age1…`: X25519, a key file.
    X25519,
    /// `age1tag1…`: P-256 (stanza `p256tag`), a key on hardware.
    P256Tag,
    /// `age1tagpq1…`: ML-KEM-768 + P-256 (stanza `mlkem768p256tag`), post-quantum, on hardware.
    Mlkem768P256Tag,
    /// An SSH public key (ssh-ed25519 or ssh-rsa).
    Ssh,
}

impl KeyKind {
    /// The kind of a canonical recipient text.
    pub fn of(recipient: &str) -> KeyKind {
        if recipient.starts_with("age1tagpq1") {
            KeyKind::Mlkem768P256Tag
        } else if recipient.starts_with("age1tag1") {
            KeyKind::P256Tag
        } else if recipient.starts_with("age1") {
            KeyKind::X25519
        } else {
            KeyKind::Ssh
        }
    }

    /// True when a file encrypted to it stays confidential against a quantum computer.
    pub fn post_quantum(self) -> bool {
        self == KeyKind::Mlkem768P256Tag
    }

    /// As `keys list` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::X25519 => "x25519",
            KeyKind::P256Tag => "p256tag",
            KeyKind::Mlkem768P256Tag => "mlkem768p256tag",
            KeyKind::Ssh => "ssh",
        }
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

impl Key {
    /// What kind of key it is.
    pub fn kind(&self) -> KeyKind {
        KeyKind::of(&self.recipient)
    }
}

impl Key {
    /// Whether an age header stanza is addressed to this key, told from the stanza alone,
    /// without any secret: `Some` for the types that carry a tag derived from the recipient
    /// (`p256tag`, `mlkem768p256tag` and the SSH types), `None` for a stanza that names no key
    /// (X25519, scrypt) or that this key's type never writes.
    pub fn addresses(&self, stanza: &str, args: &[&str]) -> Option<bool> {
        use base64::Engine;
        let b64 = |s: &str| base64::prelude::BASE64_STANDARD_NO_PAD.decode(s).ok();
        let tagged = |salt: &str, public: &[u8]| {
            let (tag, enc) = (b64(args.first()?)?, b64(args.get(1)?)?);
            let ikm = [&enc[..], &digest::sha256(public)[..4]].concat();
            Some(tag == digest::hkdf_extract_sha256(salt.as_bytes(), &ikm)[..4])
        };
        match (self.kind(), stanza) {
            (KeyKind::P256Tag, "p256tag") => {
                let point = recipient_bytes(&self.recipient, "age1tag")?;
                Some(tagged("age-encryption.org/p256tag", &point).unwrap_or(false))
            }
            (KeyKind::Mlkem768P256Tag, "mlkem768p256tag") => {
                let bytes = recipient_bytes(&self.recipient, "age1tagpq")?;
                // The classic half's uncompressed P-256 point closes the key.
                let point = bytes.get(bytes.len().checked_sub(65)?..)?;
                Some(tagged("age-encryption.org/mlkem768p256tag", point).unwrap_or(false))
            }
            (KeyKind::Ssh, "ssh-ed25519" | "ssh-rsa") => {
                let mut fields = self.recipient.split_whitespace();
                if fields.next() != Some(stanza) {
                    return Some(false);
                }
                let wire = base64::prelude::BASE64_STANDARD
                    .decode(fields.next()?)
                    .ok()?;
                let tag = b64(args.first()?)?;
                Some(tag == digest::sha256(&wire)[..4])
            }
            _ => None,
        }
    }
}

/// The bytes a Bech32 recipient encodes, when its prefix is `hrp`.
fn recipient_bytes(recipient: &str, hrp: &str) -> Option<Vec<u8>> {
    // age's own decoder: post-quantum recipients are longer than plain Bech32 allows.
    age_core::primitives::bech32_decode(
        recipient,
        |_| (),
        |found| (found.as_str() == hrp).then_some(()).ok_or(()),
        |_, data| Ok(data.collect::<Vec<u8>>()),
    )
    .ok()
}

/// Every key a recipients file names, the retired ones too (`# retired DATE (why): …`, as
/// `keys retire` leaves them, labelled with that line), in file order and without the checks
/// of a key set: for telling which key a stored object was sealed to.
pub fn known_keys(text: &str, origin: &str) -> Result<Vec<Key>, KeyError> {
    let mut keys: Vec<Key> = Vec::new();
    let mut label = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let retired = line
            .strip_prefix("# retired ")
            .and_then(|rest| rest.rsplit_once("): "));
        let (line, this_label) = match (retired, line.strip_prefix('#')) {
            (Some((when, recipient)), _) => {
                let retired = format!("retired {when})");
                let label = match label.take() {
                    Some(l) => format!("{l}; {retired}"),
                    None => retired,
                };
                (recipient.trim(), Some(label))
            }
            (None, Some(comment)) => {
                let c = comment.trim();
                label = (!c.is_empty()).then(|| c.to_owned());
                continue;
            }
            (None, None) if line.is_empty() => {
                label = None;
                continue;
            }
            (None, None) => (line, label.take()),
        };
        let (recipient, inner) = parse_recipient(line).map_err(|problem| KeyError::BadLine {
            path: origin.to_owned(),
            line: n + 1,
            problem,
        })?;
        let id = key_id(&recipient);
        if !keys.iter().any(|k| k.id == id) {
            keys.push(Key {
                id,
                recipient,
                label: this_label,
                inner,
            });
        }
    }
    Ok(keys)
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
        let (pq, classic): (Vec<&Key>, Vec<&Key>) =
            keys.iter().partition(|k| k.kind().post_quantum());
        if !pq.is_empty() && !classic.is_empty() {
            return Err(KeyError::MixedClasses {
                path: origin.to_owned(),
                pq: pq.iter().map(|k| k.id.clone()).collect(),
                classic: classic.iter().map(|k| k.id.clone()).collect(),
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
    let alone = || {
        if word.len() != line.len() {
            Err("unexpected text after the recipient (put comments on their own # line)".to_owned())
        } else {
            Ok(())
        }
    };
    // The native hardware types first, before anything that looks like a plugin: a P-256 key
    // meant for hardware (p256tag) and its post-quantum hybrid (mlkem768p256tag).
    if lower.starts_with("age1tagpq1") {
        alone()?;
        return match age::tagpq::Recipient::from_str(word) {
            Ok(r) => Ok((r.to_string(), Box::new(r))),
            Err(_) => Err(
                "not a valid age1tagpq1… recipient (check for a cut-off line: these \
                           are about 1,990 characters long)"
                    .into(),
            ),
        };
    }
    if lower.starts_with("age1tag1") {
        alone()?;
        return match age::tag::Recipient::from_str(word) {
            Ok(r) => Ok((r.to_string(), Box::new(r))),
            Err(_) => {
                Err("not a valid age1tag1… recipient (check for a typo or a cut-off line)".into())
            }
        };
    }
    if lower.starts_with("age1pq1") {
        return Err(
            "age1pq1… (age's software post-quantum keys, ML-KEM-768 + X25519) cannot be \
                    encrypted to by this portal yet: the age library it uses has no such \
                    recipient type. Use a post-quantum hardware key (age1tagpq1…) for a \
                    post-quantum set, or keep X25519 (age1…) keys"
                .into(),
        );
    }
    if lower.starts_with("age1yubikey1") {
        // The same P-256 key, written as age's native hardware type: the server encrypts to
        // that itself, and age-plugin-yubikey decrypts its p256tag stanzas.
        let native = recipient_bytes(&lower, "age1yubikey")
            .map(|point| {
                age_core::primitives::bech32_encode(bech32::Hrp::parse_unchecked("age1tag"), &point)
            })
            .filter(|tag| age::tag::Recipient::from_str(tag).is_ok());
        return Err(match native {
            Some(tag) => format!(
                "age1yubikey1… needs a plugin program, which this server never runs. The same \
                 YubiKey key in age's native form is {tag}: put that line in the file instead \
                 (age-plugin-yubikey decrypts files sealed to either form)"
            ),
            None => "age1yubikey1… needs a plugin program, which this server never runs, and \
                     this one is not a valid YubiKey recipient either (check for a cut-off line)"
                .into(),
        });
    }
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
        // last '1' (age1yubikey1…, age1se1…) is a plugin's recipient.
        let hrp = &lower[..lower.rfind('1').unwrap_or(3)];
        if hrp.len() > 3 {
            return Err(format!(
                "{hrp}1… is a plugin's recipient, and this server never runs a plugin program: \
                 use the key's native recipient instead (age1tag1… or age1tagpq1… for hardware \
                 keys, age1… for X25519, or an SSH key)"
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

/// The recipients-file text with `recipient` appended under a `# label` line.
/// Refuses invalid recipients and keys already present.
pub fn append_recipient(
    text: &str,
    recipient: &str,
    label: &str,
) -> Result<(String, KeyId), KeyError> {
    let line = recipient.trim();
    let (canonical, _) = parse_recipient(line).map_err(|problem| KeyError::BadLine {
        path: "the new recipient".into(),
        line: 1,
        problem,
    })?;
    let id = key_id(&canonical);
    if let Ok(ring) = KeyRing::parse(text, "recipients file")
        && ring.keys().iter().any(|k| k.id == id)
    {
        return Err(KeyError::Refused(format!("key {id} is already active")));
    }
    let label: String = label.chars().filter(|c| !c.is_control()).collect();
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    if !label.trim().is_empty() {
        out.push_str(&format!("# {}\n", label.trim()));
    }
    out.push_str(line);
    out.push('\n');
    Ok((out, id))
}

/// The recipients-file text with key `id` commented out as retired on `date` for `reason`.
/// Refuses unknown ids and retiring the last active key.
pub fn retire_recipient(
    text: &str,
    id: &KeyId,
    date: &str,
    reason: &str,
) -> Result<String, KeyError> {
    let ring = KeyRing::parse(text, "recipients file")?;
    if !ring.keys().iter().any(|k| &k.id == id) {
        return Err(KeyError::Refused(format!("no active key with id {id}")));
    }
    if ring.keys().len() == 1 {
        return Err(KeyError::Refused(format!(
            "key {id} is the last active key; add its successor first (`sealdrop keys add`)"
        )));
    }
    let reason = retirement_reason(reason)?;
    let mut out = String::with_capacity(text.len() + 64);
    for raw in text.lines() {
        let line = raw.trim();
        let matches = !line.is_empty()
            && !line.starts_with('#')
            && parse_recipient(line).is_ok_and(|(canonical, _)| &key_id(&canonical) == id);
        if matches {
            out.push_str(&format!("# retired {date} ({reason}): {line}\n"));
        } else {
            out.push_str(raw);
            out.push('\n');
        }
    }
    Ok(out)
}

/// A retirement reason as the recipients file and the audit trail keep it: one line, trimmed,
/// without control characters. Refuses line breaks rather than joining lines silently.
pub fn retirement_reason(reason: &str) -> Result<String, KeyError> {
    if reason.chars().any(|c| {
        matches!(
            c,
            '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    }) {
        return Err(KeyError::MultiLineReason);
    }
    let cleaned: String = reason.chars().filter(|c| !c.is_control()).collect();
    Ok(cleaned.trim().to_owned())
}

/// Replaces `path` with `text` atomically: temporary file, fsync, rename, fsync folder.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), KeyError> {
    use std::os::unix::fs::OpenOptionsExt;
    let werr = |source| KeyError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let mode = std::fs::metadata(path)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()))
        .unwrap_or(0o644);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode & 0o777)
        .open(&tmp)
        .map_err(werr)?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(werr)?;
    std::fs::rename(&tmp, path).map_err(werr)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(werr)?;
    Ok(())
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
    let created = crate::clock::Clock::system().text();
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

#[cfg(test)]
mod tests {
    const PQ: &str = "age1tagpq1m3e4wvp6hzcrn9exhy0ae3xfx2sjymp594k3tg7j4dpmj922we65vtnmrt2pyallax8669zqkr2pmfchptr4n38kug2xmcmp3adk2lnjqu00x5kxz5pvhmrltvfh9wuq973pcx35cnq8syn9qd3tzpehgztl4xpzr3tpd67g8af9trnjpc05gh7wu536aq4qt2y8zhsm4tvrfpsfl36qs5fpzysnk3sp9w77qzeg49357xex40v4s2lvt620swyys7u8yxdcnu4rkkwxdmt55gsuc3h5c5swahnegjgqwc60hn085ec3sjztwm45l44y3j2at9t6v9zra4ek3kek6waecqm98yaxl37w0d2zra626nz63jdm5sg59w7lyptw83zm6fntd8d0x03a9z6h9prfgpygzar6zrxjcrt4cdctk2mhf95s4a6v4zklfd49xhpsaeujm57thx2x3e3hwzc86ftfhmq5mkxxz3d6r8ws24xj4qfn73eyezg2wy094e3why592pghz27ruq3vkyegrv80eftnw9wqzwgvnwyseaus0yt84fylzrpzp6x2fguxuqjmgudr8xd33qm30evdpxd3jvjg8qh4q60kyq80jgff369k7nrepdc38grd2dava520excqp0ey0x39khx8ry03yffcatgv84fsx5j49djpapedsy693zute5xv5g2ewzrlj5se7akvkc4g4vmzhputpq8eyj9wz5dz6qtn7g3cfpd95nahw4ytspan0feyye04dcylv24ege7zkaj004gjwcxqxfqu2quawa83sx452jqjn8t48czp0xspwgnmvjyhttzzy6nhq8xzkdwnvsfefkwva6asrqc93zjn4rly5gnlv93xy3uzmr39szvjnf63426qzyeyvguc4vdcquwgsxgq236afcpqz866ny4tn7ckc0umefj242rt5vtvwqzzrvfev2mpvqcufp9pqvefyv4ftyuhgausfzuaadsczeykmft5wv3frzgrcp9ztr93h478ke4t86spp2uhyjkj73mp9g92ddk2fpv7v3njzsqgwhq3789sqrgkskehn0zjscckhwftyq4vet7vrlx2hs5kd9cwnq6t0djffhh3zquh4j3p0yaj9z2rc9wykg0usqw7983rrgur9jg8rnnqypwcz2lyclnnc705fc5g3an93ps60q6mxqp85u0ewtxdjlqcks84yduft0a0g6e7naew3v9u2d08knarvajn8q3gq9pgxde3s7nx94lus48wwvw2xjm7k82tvylec2393jdsuvch2xpe77w8hpv9nvsxfsrs270njpmfvpmgyk2cffl9tjp3qqcc4dfkf5rme2dg0x7ew8g39www5smm705q5da4eqvnqwrkavtq6xje9ss38hnkglz4eddz8f5qruvqmq2ff9l22gwkv8h432rdkysy0grkul8e2fedvkyyapfxt760udcgu92m54wl9yavmj4ga3ph9r5n99cjrq6wj5v33x33fe5vkjvfwnnt40wuv2hyexc9f4ylyqv9ldqq9epd4yuv8vrsfx2qy2kqz08kqhnzspy6s0x8fa5c2xkg5y2q0rvz4vnk7rp0acg6eksc3t7cxnn8y7glkjsqja3p56uz6vvhcw55d3ysad0hvsqxpjnc7svenf2gc5xn5kyr0et2vvyruxlnpqcdpqh9pzplumy5yzjxftyzh9ujfw0jq7ee60zx2x23p0jzyh9dvmly8p9h9ysptlqu7kwnejd65dnr75a0np2fvke8xen38r57w6z3wz3mycjmmn267wwxndfh9jdps7uxtct2wwfgamkpa5ap8s96lhfjztpwcm6fguhphu38yunu2v4vz3syzrvgwtqpemkewzp766nyu6texxvjlaemnhyyqutkcy6a42vqfsz49rw5wr4gt70r4vdaasehqjg46fnyts4sthrxadfllha3avu49wsj2c4jx";
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
    fn hardware_recipients_are_accepted_and_a_set_is_post_quantum_or_classic() {
        let tag = "age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e";
        let ring = KeyRing::parse(&format!("# alice's YubiKey\n{tag}\n{X1}\n"), "r.txt").unwrap();
        let kinds: Vec<KeyKind> = ring.keys().iter().map(Key::kind).collect();
        assert_eq!(kinds, [KeyKind::P256Tag, KeyKind::X25519]);
        assert_eq!(ring.keys()[0].recipient, tag);
        assert!(!kinds.iter().any(|k| k.post_quantum()));
        let ring = KeyRing::parse(PQ, "r.txt").unwrap();
        assert_eq!(ring.keys()[0].kind(), KeyKind::Mlkem768P256Tag);
        assert!(ring.keys()[0].kind().post_quantum());
        // A post-quantum set with a classic key in it protects nothing post-quantum.
        for classic in [X1, tag] {
            let err = KeyRing::parse(&format!("{PQ}\n{classic}\n"), "r.txt").unwrap_err();
            assert!(matches!(err, KeyError::MixedClasses { .. }), "{err}");
            assert!(err.to_string().contains("mixes post-quantum"), "{err}");
        }
        let cut = &PQ[..PQ.len() - 10];
        let err = KeyRing::parse(cut, "r.txt").unwrap_err();
        assert!(err.to_string().contains("cut-off"), "{err}");
    }

    #[test]
    fn software_post_quantum_keys_are_refused_with_their_reason() {
        let err = KeyRing::parse(
            "age1pq1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
            "r.txt",
        )
        .unwrap_err();
        assert!(err.to_string().contains("age1tagpq1"), "{err}");
        assert!(err.to_string().contains("no such"), "{err}");
    }

    #[test]
    fn plugin_recipients_are_refused() {
        let plugin = "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t";
        let err = KeyRing::parse(plugin, "r.txt").unwrap_err();
        assert!(err.to_string().contains("plugin"), "{err}");
        // The refusal gives the same key in the native form, ready to use.
        let text = err.to_string();
        let native = text
            .split_whitespace()
            .find(|w| w.starts_with("age1tag1"))
            .unwrap_or_else(|| panic!("names the native form: {text}"))
            .trim_end_matches(':');
        let ring = KeyRing::parse(native, "r.txt").unwrap();
        assert_eq!(ring.keys()[0].kind(), KeyKind::P256Tag);
        assert_eq!(
            recipient_bytes(native, "age1tag"),
            recipient_bytes(plugin, "age1yubikey"),
            "the same public key"
        );
        let other = "age1se1qgg72x2qfk9wg3wh0qg9u0v7l5dkq4jx69fv80p6wdus3ftg6flwg5dz2dp";
        let err = KeyRing::parse(other, "r.txt").unwrap_err();
        assert!(err.to_string().contains("never runs a plugin"), "{err}");
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

    const X2: &str = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";

    #[test]
    fn appending_validates_and_labels_the_new_key() {
        let (text, id) = append_recipient(&format!("{X1}\n"), X2, "bob laptop").unwrap();
        let ring = KeyRing::parse(&text, "r").unwrap();
        assert_eq!(ring.ids(), vec![key_id(X1), id]);
        assert_eq!(ring.keys()[1].label.as_deref(), Some("bob laptop"));
        assert!(append_recipient(&text, X2, "again").is_err());
        assert!(append_recipient(&text, "age1nope", "x").is_err());
    }

    #[test]
    fn retiring_comments_the_key_out_and_never_the_last_one() {
        let text = format!("# alice\n{X1}\n# bob\n{X2}\n");
        let out = retire_recipient(&text, &key_id(X1), "2026-11-28", "laptop lost").unwrap();
        assert!(out.contains(&format!("# retired 2026-11-28 (laptop lost): {X1}")));
        let ring = KeyRing::parse(&out, "r").unwrap();
        assert_eq!(ring.ids(), vec![key_id(X2)]);
        assert!(retire_recipient(&out, &key_id(X2), "2026-11-28", "x").is_err());
        assert!(retire_recipient(&out, &KeyId("000000000000".into()), "d", "x").is_err());
    }

    #[test]
    fn a_retirement_reason_must_fit_on_one_line() {
        let text = format!("# alice\n{X1}\n# bob\n{X2}\n");
        for reason in ["lost\nlaptop", "lost\r", "a\u{2028}b"] {
            let err = retire_recipient(&text, &key_id(X1), "2026-11-28", reason).unwrap_err();
            assert!(
                matches!(err, KeyError::MultiLineReason),
                "{reason:?}: {err}"
            );
        }
        assert_eq!(
            retirement_reason("  lost\u{7} \u{1b}[0mlaptop ").unwrap(),
            "lost [0mlaptop"
        );
    }

    #[test]
    fn well_formed_key_ids_are_twelve_lowercase_hex_digits() {
        assert!(key_id(X1).is_well_formed());
        for bad in [
            "",
            "00000000000",
            "00000000000G",
            "ABCDEF012345",
            "0000000000000",
        ] {
            assert!(!KeyId(bad.into()).is_well_formed(), "{bad}");
        }
    }
}
