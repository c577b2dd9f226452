//! Offline re-keying: decrypt a bundle with an old identity and encrypt it again to new
//! recipients, verifying every hash on the way, in constant memory. The plaintext exists only in
//! memory, chunk by chunk; the new ciphertext is staged next to the output, then assembled.
//! A share (`sealdrop share`) is the same re-sealing with a [`Selection`]: the manifest loses the
//! contact details and credit name (and the message, or files, if asked), for a third party.

use crate::bundle::{self, Index, IndexFile, Part};
use crate::keys::{Identities, KeyRing};
use crate::open::{self, OpenError};
use crate::record::Manifest;
use crate::seal::{self, Sealer};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What a re-keying produced.
#[derive(Debug, Clone)]
pub struct Rekeyed {
    /// The case.
    pub case: String,
    /// Files re-encrypted (besides the manifest).
    pub files: usize,
    /// The new key ids.
    pub key_ids: Vec<String>,
}

/// What a re-sealed bundle keeps of the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Keep the contact details and the credit name.
    pub contact: bool,
    /// Keep the reporter's message.
    pub message: bool,
    /// Keep only these files (by index, as `sealdrop open` numbers them); `None`: all.
    pub files: Option<Vec<u32>>,
    /// Mark the bundle as a share, which `admin import` refuses.
    pub shared: bool,
}

impl Selection {
    /// Everything, byte for byte (a re-keying).
    pub fn all() -> Selection {
        Selection {
            contact: true,
            message: true,
            files: None,
            shared: false,
        }
    }

    /// What a third party gets by default: files and message, no personal data.
    pub fn share() -> Selection {
        Selection {
            contact: false,
            shared: true,
            ..Selection::all()
        }
    }

    fn keeps(&self, index: u32) -> bool {
        self.files.as_ref().is_none_or(|f| f.contains(&index))
    }

    /// Whether a manifest entry stays: a piece of a file stays with the file's first piece.
    fn keeps_entry(&self, f: &crate::record::ManifestFile) -> bool {
        let first = f.index.saturating_sub(f.piece.map_or(0, |p| p.n));
        self.keeps(first)
    }

    /// The manifest as the selection leaves it (files renumbered from 0).
    fn apply(&self, mut m: Manifest) -> Manifest {
        if !self.contact {
            m.contact = String::new();
            m.credit = None;
        }
        if !self.message {
            m.message = String::new();
        }
        m.files.retain(|f| self.keeps_entry(f));
        for (n, f) in m.files.iter_mut().enumerate() {
            f.index = n as u32;
        }
        m
    }
}

fn io_err(what: &str) -> impl Fn(io::Error) -> OpenError + '_ {
    move |e| OpenError::Io(format!("{what}: {e}"))
}

/// Re-encrypts `input` (an export bundle) for `ring`, writing the new bundle to `output`
/// (which must not exist).
pub fn rekey(
    input: &Path,
    ids: &Identities,
    ring: &KeyRing,
    output: &Path,
) -> Result<Rekeyed, OpenError> {
    reseal(input, ids, ring, output, &Selection::all())
}

/// Writes a new bundle of `input` for `ring` with only what `selection` keeps (which must not
/// exist); `sealdrop open` and stock age read it like any export.
pub fn reseal(
    input: &Path,
    ids: &Identities,
    ring: &KeyRing,
    output: &Path,
    selection: &Selection,
) -> Result<Rekeyed, OpenError> {
    if output.exists() {
        return Err(OpenError::Io(format!(
            "{} already exists; rekey never overwrites",
            output.display()
        )));
    }
    let stage = PathBuf::from(format!("{}.rekey-staging", output.display()));
    fs::create_dir(&stage).map_err(io_err(&stage.display().to_string()))?;
    let result = stage_all(input, ids, ring, &stage, selection).and_then(|index| {
        assemble(&index, &stage, output)?;
        Ok(Rekeyed {
            case: index.case.clone(),
            files: index.files.len(),
            key_ids: index.key_ids.iter().map(|k| k.0.clone()).collect(),
        })
    });
    let _ = fs::remove_dir_all(&stage);
    result
}

fn stage_all(
    input: &Path,
    ids: &Identities,
    ring: &KeyRing,
    stage: &Path,
    selection: &Selection,
) -> Result<Index, OpenError> {
    let file = fs::File::open(input).map_err(io_err(&input.display().to_string()))?;
    let mut old: Option<Index> = None;
    let mut manifest: Option<Manifest> = None;
    let mut new_files: Vec<IndexFile> = Vec::new();
    let mut new_manifest: Option<IndexFile> = None;
    let mut seen = 0usize;
    let mut pieces = open::Pieces::default();
    bundle::read(
        io::BufReader::new(file),
        |part, size, reader| -> Result<(), OpenError> {
            match (part, &old, &manifest) {
                (Part::Index, None, None) => {
                    let index = open::read_index_entry(reader, size)?;
                    let count = index.files.len();
                    if let Some(&missing) = selection
                        .files
                        .iter()
                        .flatten()
                        .find(|&&i| i as usize >= count)
                    {
                        return Err(OpenError::NoSuchFile {
                            index: missing,
                            count,
                        });
                    }
                    old = Some(index);
                    Ok(())
                }
                (Part::Manifest, Some(index), None) => {
                    let (parsed, mut plain) = open::read_manifest_entry(reader, size, index, ids)?;
                    if *selection != Selection::all() {
                        let kept = selection.apply(parsed.clone());
                        plain = serde_json::to_vec(&kept)
                            .map_err(|e| OpenError::Io(format!("manifest: {e}")))?;
                    }
                    let sealed = seal::seal_bytes(ring, &plain, &stage.join("manifest.age"))
                        .map_err(|e| OpenError::Io(e.to_string()))?;
                    new_manifest = Some(IndexFile {
                        index: 0,
                        name: "manifest.age".into(),
                        size: sealed.ciphertext_size,
                        digest: sealed.ciphertext_digest,
                    });
                    manifest = Some(parsed);
                    Ok(())
                }
                (Part::File(i), Some(index), Some(m)) => {
                    let (Some(entry), Some(meta)) = (index.files.get(seen), m.files.get(seen))
                    else {
                        return Err(OpenError::Bundle(format!(
                            "unexpected extra file {i:03}.age"
                        )));
                    };
                    if i as usize != seen || size != entry.size {
                        return Err(OpenError::Bundle(format!(
                            "file {i:03}.age is out of order or of the wrong size"
                        )));
                    }
                    seen += 1;
                    // A file sent in pieces is kept or left out whole.
                    if !selection.keeps_entry(meta) {
                        return Ok(());
                    }
                    let in_pieces = pieces.begin(meta)?;
                    let n = new_files.len() as u32;
                    let new_name = format!("{n:03}.age");
                    let path = stage.join(&new_name);
                    let mut sealer =
                        Sealer::create(ring, &path).map_err(|e| OpenError::Io(e.to_string()))?;
                    let (ct, pt, len) = open::decrypt_stream(
                        reader.take(size),
                        ids,
                        &entry.name,
                        &entry.digest,
                        &mut |chunk| {
                            pieces.update(chunk);
                            sealer
                                .write(chunk)
                                .map_err(|e| io::Error::other(e.to_string()))
                        },
                    )?;
                    if ct != entry.digest {
                        return Err(OpenError::Tampered(format!(
                            "{} does not match its digest",
                            entry.name
                        )));
                    }
                    if in_pieces {
                        pieces.end(meta, len)?;
                    } else if pt != meta.sha256 || len != meta.size {
                        return Err(OpenError::Tampered(format!(
                            "{} decrypted, but its content does not match the manifest",
                            entry.name
                        )));
                    }
                    let sealed = sealer.finish().map_err(|e| OpenError::Io(e.to_string()))?;
                    new_files.push(IndexFile {
                        index: n,
                        name: new_name,
                        size: sealed.ciphertext_size,
                        digest: sealed.ciphertext_digest,
                    });
                    Ok(())
                }
                (part, _, _) => Err(OpenError::Bundle(format!(
                    "bundle entries are out of order or repeated (at {part:?})"
                ))),
            }
        },
    )?;
    let (Some(old), Some(new_manifest)) = (old, new_manifest) else {
        return Err(OpenError::Bundle(
            "the bundle is incomplete (no index or manifest)".into(),
        ));
    };
    if seen != old.files.len() {
        return Err(OpenError::Bundle(format!(
            "the bundle is truncated: {} of {} files present",
            seen,
            old.files.len()
        )));
    }
    pieces.finish()?;
    Ok(Index {
        key_ids: ring.ids(),
        manifest: new_manifest,
        files: new_files,
        // A share stays a share when it is re-keyed.
        shared: old.shared || selection.shared,
        ..old
    })
}

fn assemble(index: &Index, stage: &Path, output: &Path) -> Result<(), OpenError> {
    let partial = PathBuf::from(format!("{}.partial", output.display()));
    let out_name = output.display().to_string();
    let result = (|| -> io::Result<()> {
        let file = crate::os::create_private_file(&partial)?;
        let mut w = io::BufWriter::with_capacity(256 << 10, file);
        bundle::write_index(index, stage, &mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::hard_link(&partial, output)?;
        Ok(())
    })();
    let _ = fs::remove_file(&partial);
    result.map_err(io_err(&out_name))?;
    Ok(())
}
