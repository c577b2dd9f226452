//! Offline re-keying: decrypt a bundle with an old identity and encrypt it again to new
//! recipients, verifying every hash on the way, in constant memory. The plaintext exists only in
//! memory, chunk by chunk; the new ciphertext is staged next to the output, then assembled.

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
    if output.exists() {
        return Err(OpenError::Io(format!(
            "{} already exists; rekey never overwrites",
            output.display()
        )));
    }
    let stage = PathBuf::from(format!("{}.rekey-staging", output.display()));
    fs::create_dir(&stage).map_err(io_err(&stage.display().to_string()))?;
    let result = stage_all(input, ids, ring, &stage).and_then(|index| {
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
) -> Result<Index, OpenError> {
    let file = fs::File::open(input).map_err(io_err(&input.display().to_string()))?;
    let mut old: Option<Index> = None;
    let mut manifest: Option<Manifest> = None;
    let mut new_files: Vec<IndexFile> = Vec::new();
    let mut new_manifest: Option<IndexFile> = None;
    let mut pieces = open::Pieces::default();
    bundle::read(
        io::BufReader::new(file),
        |part, size, reader| -> Result<(), OpenError> {
            match (part, &old, &manifest) {
                (Part::Index, None, None) => {
                    old = Some(open::read_index_entry(reader, size)?);
                    Ok(())
                }
                (Part::Manifest, Some(index), None) => {
                    let (parsed, plain) = open::read_manifest_entry(reader, size, index, ids)?;
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
                    let n = new_files.len();
                    let (Some(entry), Some(meta)) = (index.files.get(n), m.files.get(n)) else {
                        return Err(OpenError::Bundle(format!(
                            "unexpected extra file {i:03}.age"
                        )));
                    };
                    if i as usize != n || size != entry.size {
                        return Err(OpenError::Bundle(format!(
                            "file {i:03}.age is out of order or of the wrong size"
                        )));
                    }
                    let in_pieces = pieces.begin(meta)?;
                    let path = stage.join(&entry.name);
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
                        index: i,
                        name: entry.name.clone(),
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
    if new_files.len() != old.files.len() {
        return Err(OpenError::Bundle(format!(
            "the bundle is truncated: {} of {} files present",
            new_files.len(),
            old.files.len()
        )));
    }
    pieces.finish()?;
    Ok(Index {
        key_ids: ring.ids(),
        manifest: new_manifest,
        files: new_files,
        ..old
    })
}

fn assemble(index: &Index, stage: &Path, output: &Path) -> Result<(), OpenError> {
    let partial = PathBuf::from(format!("{}.partial", output.display()));
    let out_name = output.display().to_string();
    let result = (|| -> io::Result<()> {
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)?;
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
