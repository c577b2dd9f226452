//! The portal's receipt key on disk: `data_dir/receipt-key/` (mode 0700) holds `signing.key`
//! (the private key in use, OpenSSH format, mode 0600) and `keys.json` (every public key ever
//! used, with its validity period). A rotation makes a new key, retires the old one in
//! `keys.json` (its public half stays published) and deletes its private half; every step is
//! fsynced and renamed into place, and start-up finishes or undoes a rotation cut short.
//! Backups (`admin backup`) never contain this folder.

use super::allowed::{self, KeyEntry};
use super::document::Document;
use super::signing::{Secret, SigningKey};
use super::{ReceiptError, SignedReceipt};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The folder's name under `storage.data_dir`.
pub const DIR: &str = "receipt-key";
const KEY: &str = "signing.key";
const NEXT: &str = "signing.key.next";
const LIST: &str = "keys.json";

struct State {
    key: Arc<SigningKey>,
    entries: Vec<KeyEntry>,
}

/// The receipt key in use and the published list.
pub struct ReceiptKeys {
    dir: PathBuf,
    state: RwLock<State>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ReceiptError + '_ {
    move |source| ReceiptError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_new(path: &Path, data: &[u8]) -> Result<(), ReceiptError> {
    let _ = fs::remove_file(path);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(data).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

fn sync_dir(dir: &Path) -> Result<(), ReceiptError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

fn entry_of(key: &SigningKey, now: &str) -> KeyEntry {
    KeyEntry {
        public: key.public(),
        fingerprint: key.fingerprint(),
        created_at: now.to_owned(),
        retired_at: None,
    }
}

impl ReceiptKeys {
    /// Opens `data_dir/receipt-key/`, making the first key when there is none, and finishing
    /// a rotation that a crash cut short. `now` is RFC 3339 UTC.
    pub fn open(data_dir: &Path, now: &str) -> Result<ReceiptKeys, ReceiptError> {
        let dir = data_dir.join(DIR);
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io(&dir))?;
        let (key_path, next_path, list_path) = (dir.join(KEY), dir.join(NEXT), dir.join(LIST));
        let mut entries: Vec<KeyEntry> = match fs::read(&list_path) {
            Ok(raw) => serde_json::from_slice(&raw)
                .map_err(|e| ReceiptError::Key(format!("{LIST} is malformed: {e}")))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&list_path)(e)),
        };
        if next_path.exists() {
            let next = read_key(&next_path)?;
            let current = entries.iter().rfind(|e| e.retired_at.is_none());
            if current.is_some_and(|c| c.public == next.public()) {
                fs::rename(&next_path, &key_path).map_err(io(&key_path))?;
            } else {
                fs::remove_file(&next_path).map_err(io(&next_path))?;
            }
            sync_dir(&dir)?;
        }
        let key = if key_path.exists() {
            read_key(&key_path)?
        } else {
            let key = SigningKey::generate()?;
            write_new(&key_path, key.to_openssh()?.as_str().as_bytes())?;
            sync_dir(&dir)?;
            tracing::info!(key = %key.fingerprint(), "receipt key created");
            key
        };
        let listed = entries
            .iter()
            .any(|e| e.retired_at.is_none() && e.public == key.public());
        if !listed {
            for e in entries.iter_mut().filter(|e| e.retired_at.is_none()) {
                e.retired_at = Some(now.to_owned());
            }
            entries.push(entry_of(&key, now));
            write_list(&dir, &entries)?;
        }
        tracing::info!(key = %key.fingerprint(), published = entries.len(), "receipt key loaded");
        Ok(ReceiptKeys {
            dir,
            state: RwLock::new(State {
                key: Arc::new(key),
                entries,
            }),
        })
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The fingerprint of the key in use.
    pub fn fingerprint(&self) -> String {
        self.state().key.fingerprint()
    }

    /// Every key ever used, oldest first.
    pub fn entries(&self) -> Vec<KeyEntry> {
        self.state().entries.clone()
    }

    /// The allowed-signers file of every key ever used.
    pub fn allowed_signers(&self, principal: &str) -> String {
        allowed::render(principal, &self.state().entries)
    }

    /// Signs `doc` (its `signed_by` set to the key in use).
    pub fn sign(&self, mut doc: Document, principal: &str) -> Result<SignedReceipt, ReceiptError> {
        let (key, entry) = {
            let s = self.state();
            let entry = s.entries.iter().rfind(|e| e.retired_at.is_none()).cloned();
            (Arc::clone(&s.key), entry)
        };
        doc.signed_by = key.fingerprint();
        let text = doc.text();
        let signature = key.sign(&text)?;
        let line = entry
            .map(|e| allowed::render(principal, &[e]))
            .unwrap_or_default();
        Ok(SignedReceipt {
            text,
            signature,
            key: line.lines().last().unwrap_or_default().to_owned() + "\n",
        })
    }

    /// Replaces the key in use by a new one; the old public key stays published until `now`.
    /// Receipts signed before keep verifying.
    pub fn rotate(&self, now: &str) -> Result<KeyEntry, ReceiptError> {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        let key = SigningKey::generate()?;
        let next_path = self.dir.join(NEXT);
        write_new(&next_path, key.to_openssh()?.as_str().as_bytes())?;
        let mut entries = s.entries.clone();
        for e in entries.iter_mut().filter(|e| e.retired_at.is_none()) {
            e.retired_at = Some(now.to_owned());
        }
        let entry = entry_of(&key, now);
        entries.push(entry.clone());
        write_list(&self.dir, &entries)?;
        crate::faultpoint::crash_point("receipt-key-listed");
        let key_path = self.dir.join(KEY);
        fs::rename(&next_path, &key_path).map_err(io(&key_path))?;
        sync_dir(&self.dir)?;
        tracing::info!(old = %s.key.fingerprint(), new = %key.fingerprint(), "receipt key rotated");
        *s = State {
            key: Arc::new(key),
            entries,
        };
        Ok(entry)
    }
}

fn read_key(path: &Path) -> Result<SigningKey, ReceiptError> {
    let meta = fs::metadata(path).map_err(io(path))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(ReceiptError::Key(format!(
            "{} can be read by others (mode {:o}); run `chmod 600` on it",
            path.display(),
            meta.permissions().mode() & 0o777
        )));
    }
    let text = Secret::new(fs::read_to_string(path).map_err(io(path))?);
    SigningKey::from_openssh(&text)
}

fn write_list(dir: &Path, entries: &[KeyEntry]) -> Result<(), ReceiptError> {
    let json = serde_json::to_vec_pretty(entries)
        .map_err(|e| ReceiptError::Key(format!("cannot encode {LIST}: {e}")))?;
    let tmp = dir.join(format!("{LIST}.tmp"));
    write_new(&tmp, &json)?;
    let path = dir.join(LIST);
    fs::rename(&tmp, &path).map_err(io(&path))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::verify::verify;

    fn doc() -> Document {
        Document {
            portal: "https://drop.example.org".into(),
            case: "2026-0001".into(),
            follow_up_to: None,
            received_at: "2026-03-01T00:00:00Z".into(),
            category: "incident".into(),
            message_sha256: "00".repeat(32),
            files: Vec::new(),
            key_ids: vec!["k".into()],
            signed_by: String::new(),
        }
    }

    #[test]
    fn a_receipt_signed_before_a_rotation_verifies_after_it() {
        let dir = std::env::temp_dir().join(format!("sealdrop-rk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let keys = ReceiptKeys::open(&dir, "2026-01-01T00:00:00Z").unwrap();
        let key_mode = fs::metadata(dir.join(DIR).join(KEY))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(key_mode & 0o777, 0o600);
        let old = keys.sign(doc(), "drop.example.org").unwrap();
        // Signed by the old key, but dated after its retirement: a forgery once it leaks.
        let mut late = doc();
        late.received_at = "2026-08-01T00:00:00Z".into();
        let backdated = keys.sign(late.clone(), "drop.example.org").unwrap();
        keys.rotate("2026-06-01T00:00:00Z").unwrap();
        let reopened = ReceiptKeys::open(&dir, "2026-07-01T00:00:00Z").unwrap();
        assert_eq!(reopened.entries().len(), 2);
        let list = reopened.allowed_signers("drop.example.org");
        let v = verify(old.text.as_bytes(), &old.signature, &list, None).unwrap();
        assert_eq!(v.case, "2026-0001");
        assert!(matches!(
            verify(backdated.text.as_bytes(), &backdated.signature, &list, None),
            Err(ReceiptError::OutsideValidity { .. })
        ));
        let new = reopened.sign(late, "drop.example.org").unwrap();
        assert_ne!(new.key, old.key);
        assert!(verify(new.text.as_bytes(), &new.signature, &list, None).is_ok());
        assert!(matches!(
            verify(new.text.as_bytes(), &old.signature, &list, None),
            Err(ReceiptError::BadSignature(_))
        ));
        fs::remove_dir_all(&dir).unwrap();
    }
}
