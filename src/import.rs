//! Server side of re-keying: replace a submission's ciphertext with a re-encrypted bundle from
//! `sealdrop rekey`, atomically (new folder → record flushed → old folder removed).

use crate::bundle::{self, Index, Part};
use crate::digest::HashingReader;
use crate::keys::{KeyError, KeyId};
use crate::portal::{Portal, PortalError};
use crate::record::{Record, StoredFile};
use crate::store::Ciphertext;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

fn refused(why: impl Into<String>) -> PortalError {
    PortalError::Import(why.into())
}

impl Portal {
    /// Reads a re-keyed bundle for `case` from `input` and installs it. Refuses a bundle for
    /// another submission, with another number of files, or truncated, one encrypted to no key
    /// that is active now (it would undo a rotation), and one encrypted to exactly the keys the
    /// submission already has; changes nothing then. Status changes, notes and follow-ups made
    /// while the bundle streams in are kept; a purge meanwhile wins and the import is refused.
    pub fn import_blocking(
        &self,
        case: &str,
        input: impl Read,
        actor: &crate::record::Actor,
    ) -> Result<Record, PortalError> {
        // The ring cannot change meanwhile: reloads and key edits take the same lock.
        let _guard = self.edit_lock()?;
        let active = self.keys().current().ids();
        let (before, after) = self
            .store()
            .replace_ciphertext(case, actor, |record, dir| {
                let index = receive(record, &active, input, dir)?;
                Ok::<_, PortalError>(Ciphertext {
                    key_ids: index.key_ids.clone(),
                    manifest: StoredFile {
                        index: 0,
                        size: index.manifest.size,
                        digest: index.manifest.digest.clone(),
                        piece: None,
                    },
                    // A re-keyed file is the same piece it was (the file count stays the same).
                    files: index
                        .files
                        .iter()
                        .map(|f| StoredFile {
                            index: f.index,
                            size: f.size,
                            digest: f.digest.clone(),
                            piece: record
                                .files
                                .iter()
                                .find(|o| o.index == f.index)
                                .and_then(|o| o.piece),
                        })
                        .collect(),
                })
            })?
            .ok_or_else(|| PortalError::NoSuchCase(case.to_owned()))?;
        tracing::info!(case = %before.case, key_ids = ?after.key_ids, "submission re-keyed");
        Ok(after)
    }
}

/// Refuses key ids that are malformed, that change nothing, or that include no `active` key.
fn check_keys(bundle: &[KeyId], record: &[KeyId], active: &[KeyId]) -> Result<(), PortalError> {
    if bundle.is_empty() {
        return Err(refused("the bundle names no key"));
    }
    if !bundle.iter().all(KeyId::is_well_formed) {
        return Err(refused("the bundle names a malformed key id"));
    }
    let set = |ids: &[KeyId]| {
        ids.iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    if set(bundle) == set(record) {
        return Err(KeyError::SameKeys(bundle.to_vec()).into());
    }
    if !bundle.iter().any(|k| active.contains(k)) {
        return Err(KeyError::NoActiveKey(bundle.to_vec()).into());
    }
    Ok(())
}

/// Checks the bundle against `record` and the `active` key ids, and writes its files (verified,
/// fsynced) into `dir`.
fn receive(
    record: &Record,
    active: &[KeyId],
    input: impl Read,
    dir: &Path,
) -> Result<Index, PortalError> {
    let mut index: Option<Index> = None;
    let mut next_file = 0usize;
    let mut have_manifest = false;
    bundle::read(input, |part, size, reader| -> Result<(), PortalError> {
        match (part, &index) {
            (Part::Index, None) => {
                if size > bundle::MAX_INDEX_BYTES {
                    return Err(refused("index.json is implausibly large"));
                }
                let mut buf = Vec::new();
                reader
                    .take(size)
                    .read_to_end(&mut buf)
                    .map_err(|e| refused(e.to_string()))?;
                let i: Index = serde_json::from_slice(&buf)
                    .map_err(|e| refused(format!("index.json is not a sealdrop index: {e}")))?;
                if i.format != bundle::FORMAT {
                    return Err(refused("unknown bundle format"));
                }
                if i.shared {
                    return Err(refused(
                        "this bundle is a share for a third party (it may lack the contact \
                         details, the message or files); only a re-keyed export replaces a case",
                    ));
                }
                if i.case != record.case || i.id != record.id {
                    return Err(refused(format!(
                        "the bundle is for case {}, not {}",
                        i.case.chars().take(20).collect::<String>(),
                        record.case
                    )));
                }
                if i.files.len() != record.files.len() {
                    return Err(refused(format!(
                        "the bundle has {} files, the submission {}",
                        i.files.len(),
                        record.files.len()
                    )));
                }
                check_keys(&i.key_ids, &record.key_ids, active)?;
                if i.files
                    .iter()
                    .enumerate()
                    .any(|(n, f)| f.index as usize != n || f.name != format!("{n:03}.age"))
                {
                    return Err(refused("the bundle's file list is inconsistent"));
                }
                index = Some(i);
                Ok(())
            }
            (Part::Manifest, Some(i)) if !have_manifest => {
                have_manifest = true;
                copy_verified(reader, size, &i.manifest, &dir.join("manifest.age"))
            }
            (Part::File(n), Some(i)) if have_manifest && n as usize == next_file => {
                let entry = i
                    .files
                    .get(next_file)
                    .ok_or_else(|| refused("unexpected extra file"))?;
                next_file += 1;
                copy_verified(reader, size, entry, &dir.join(&entry.name))
            }
            _ => Err(refused("bundle entries are out of order or repeated")),
        }
    })?;
    let index = index.ok_or_else(|| refused("the bundle is empty"))?;
    if !have_manifest || next_file != index.files.len() {
        return Err(refused(format!(
            "the bundle is truncated: {next_file} of {} files present",
            index.files.len()
        )));
    }
    Ok(index)
}

fn copy_verified(
    reader: &mut dyn Read,
    size: u64,
    expected: &bundle::IndexFile,
    path: &Path,
) -> Result<(), PortalError> {
    if size != expected.size {
        return Err(refused(format!("{} has the wrong size", expected.name)));
    }
    let io_err = |e: io::Error| refused(format!("{}: {e}", expected.name));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err)?;
    let mut hashing = HashingReader::for_digest(reader.take(size), &expected.digest);
    let copied = io::copy(&mut hashing, &mut file).map_err(io_err)?;
    let (digest, _) = hashing.finish().map_err(io_err)?;
    if copied != size {
        return Err(refused(format!("{} is truncated", expected.name)));
    }
    if digest != expected.digest {
        return Err(refused(format!(
            "{} does not match its SHA-256",
            expected.name
        )));
    }
    file.flush()
        .and_then(|()| file.sync_all())
        .map_err(io_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<KeyId> {
        list.iter().map(|s| KeyId((*s).to_owned())).collect()
    }

    const A: &str = "aaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbb";
    const C: &str = "cccccccccccc";

    #[test]
    fn a_bundle_needs_at_least_one_active_key() {
        let err = check_keys(&ids(&[C]), &ids(&[A]), &ids(&[B])).unwrap_err();
        assert!(
            matches!(err, PortalError::Keys(KeyError::NoActiveKey(_))),
            "{err}"
        );
        assert!(err.to_string().contains(C), "{err}");
        assert!(check_keys(&ids(&[B, C]), &ids(&[A]), &ids(&[B])).is_ok());
    }

    #[test]
    fn a_bundle_for_the_same_keys_in_any_order_changes_nothing_and_is_refused() {
        let err = check_keys(&ids(&[B, A]), &ids(&[A, B]), &ids(&[A, B])).unwrap_err();
        assert!(
            matches!(err, PortalError::Keys(KeyError::SameKeys(_))),
            "{err}"
        );
        assert!(check_keys(&ids(&[A]), &ids(&[A, B]), &ids(&[A, B])).is_ok());
    }

    #[test]
    fn malformed_or_missing_key_ids_are_refused() {
        assert!(check_keys(&[], &ids(&[A]), &ids(&[A])).is_err());
        assert!(check_keys(&ids(&["\u{1b}[2J"]), &ids(&[A]), &ids(&[A])).is_err());
    }
}
