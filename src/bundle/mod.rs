//! The export bundle: a tar of `index.json`, `manifest.age` and `NNN.age`. Writes bundles and
//! reads them as hostile input. The only module that uses `tar`.

mod guard;

use crate::digest::HashingReader;
use crate::keys::KeyId;
use crate::record::{Category, Record};
use guard::{HeaderGuard, Refused};
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::path::Path;

/// The bundle format tag.
pub const FORMAT: &str = "sealdrop-bundle/1";
/// Largest `index.json` a reader accepts.
pub const MAX_INDEX_BYTES: u64 = 1 << 20;

/// One ciphertext file in the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexFile {
    /// Position in the submission.
    pub index: u32,
    /// Entry name in the tar.
    pub name: String,
    /// Ciphertext bytes.
    pub size: u64,
    /// Ciphertext digest (`blake3:<hex>`, or SHA-256 hex in bundles from before: `sha256`).
    #[serde(alias = "sha256")]
    pub digest: String,
}

/// `index.json`: only what the server's record already holds in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Always [`FORMAT`].
    pub format: String,
    /// Submission id.
    pub id: String,
    /// Case number.
    pub case: String,
    /// Kind of report.
    pub category: Category,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// Keys that can read it.
    pub key_ids: Vec<KeyId>,
    /// The encrypted manifest.
    pub manifest: IndexFile,
    /// The encrypted files.
    pub files: Vec<IndexFile>,
    /// A copy for a third party (`sealdrop share`): it may lack the contact details, the
    /// message or files, so `admin import` refuses it (it must never replace the case).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl Index {
    /// The index of a stored record.
    pub fn of(record: &Record) -> Index {
        Index {
            format: FORMAT.into(),
            id: record.id.clone(),
            case: record.case.clone(),
            category: record.category,
            received_at: record.received_at.clone(),
            key_ids: record.key_ids.clone(),
            manifest: IndexFile {
                index: 0,
                name: "manifest.age".into(),
                size: record.manifest.size,
                digest: record.manifest.digest.clone(),
            },
            files: record
                .files
                .iter()
                .map(|f| IndexFile {
                    index: f.index,
                    name: f.blob_name(),
                    size: f.size,
                    digest: f.digest.clone(),
                })
                .collect(),
            shared: false,
        }
    }
}

fn header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o600);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Writes a bundle of `index` whose files are in `dir`, checking every file's size and SHA-256.
pub fn write_index(index: &Index, dir: &Path, out: impl Write) -> io::Result<()> {
    write_from(
        index,
        |name| {
            let file = std::fs::File::open(dir.join(name))?;
            let len = file.metadata()?.len();
            Ok((len, Box::new(file) as Box<dyn Read + Send>))
        },
        out,
    )
}

/// Writes a bundle of `index` whose files `open` gives (size and bytes, by name), checking
/// every file's size and SHA-256.
pub fn write_from(
    index: &Index,
    mut open: impl FnMut(&str) -> io::Result<(u64, Box<dyn Read + Send>)>,
    out: impl Write,
) -> io::Result<()> {
    let json = serde_json::to_vec_pretty(index).map_err(io::Error::other)?;
    let mut tar = tar::Builder::new(out);
    tar.append_data(
        &mut header(json.len() as u64),
        "index.json",
        json.as_slice(),
    )?;
    for f in std::iter::once(&index.manifest).chain(&index.files) {
        let (len, file) = open(&f.name)?;
        if len != f.size {
            return Err(io::Error::other(format!(
                "{} is {len} bytes on disk but the record says {}",
                f.name, f.size
            )));
        }
        let mut hashing = HashingReader::for_digest(file.take(f.size), &f.digest);
        tar.append_data(&mut header(f.size), &f.name, &mut hashing)?;
        let (digest, _) = hashing.finish()?;
        if digest != f.digest {
            return Err(io::Error::other(format!(
                "{} does not match its recorded SHA-256",
                f.name
            )));
        }
    }
    tar.into_inner()?.flush()
}

/// Why an archive (bundle or backup) is unusable; the text names the entry, made printable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BundleError(pub String);

/// What a bundle entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `index.json`
    Index,
    /// `manifest.age`
    Manifest,
    /// `NNN.age`
    File(u32),
}

/// Reads the entries of a (possibly hostile) bundle in order. Anything but a regular file with
/// one of the three expected names is an error; `f` gets each entry's kind, size and bytes.
pub fn read<R: Read, E: From<BundleError>>(
    input: R,
    mut f: impl FnMut(Part, u64, &mut dyn Read) -> Result<(), E>,
) -> Result<(), E> {
    read_regular(input, |name, size, reader| {
        let part = match name {
            "index.json" => Part::Index,
            "manifest.age" => Part::Manifest,
            n => match n.strip_suffix(".age") {
                Some(digits)
                    if (3..=6).contains(&digits.len())
                        && digits.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    Part::File(
                        digits
                            .parse()
                            .map_err(|_| E::from(BundleError("bad file entry".to_string())))?,
                    )
                }
                _ => {
                    return Err(E::from(BundleError(format!(
                        "unexpected bundle entry \"{}\" (a bundle holds only index.json, \
                         manifest.age and NNN.age)",
                        shown(n)
                    ))));
                }
            },
        };
        f(part, size, reader)
    })
}

fn shown(name: &str) -> String {
    name.chars()
        .take(80)
        .flat_map(char::escape_default)
        .collect()
}

/// Reads a (possibly hostile) tar archive in order, refusing anything but regular files;
/// `f` gets each entry's name (lossy UTF-8, as stored), size and bytes.
pub fn read_regular<R: Read, E: From<BundleError>>(
    input: R,
    mut f: impl FnMut(&str, u64, &mut dyn Read) -> Result<(), E>,
) -> Result<(), E> {
    let mut archive = tar::Archive::new(HeaderGuard::new(input));
    let entries = archive
        .entries()
        .map_err(|e| E::from(BundleError(format!("not a tar archive: {e}"))))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| match Refused::of(&e) {
            Some(refused) => E::from(BundleError(refused.0.clone())),
            None => E::from(BundleError(format!("damaged tar archive: {e}"))),
        })?;
        let kind = entry.header().entry_type();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !matches!(kind, tar::EntryType::Regular | tar::EntryType::Continuous) {
            return Err(E::from(BundleError(format!(
                "archive entry \"{}\" is not a regular file (links and folders are refused)",
                shown(&name)
            ))));
        }
        let size = entry.size();
        f(&name, size, &mut entry)?;
    }
    Ok(())
}

/// A tar archive being written: regular files only, fixed mode and time.
pub struct TarWriter<W: Write>(tar::Builder<W>);

impl<W: Write> TarWriter<W> {
    /// Starts an archive on `out`.
    pub fn new(out: W) -> Self {
        TarWriter(tar::Builder::new(out))
    }

    /// Appends `size` bytes from `data` as `name`.
    pub fn append(&mut self, name: &str, size: u64, data: impl Read) -> io::Result<()> {
        self.0.append_data(&mut header(size), name, data.take(size))
    }

    /// Writes the end marker and returns the output.
    pub fn finish(self) -> io::Result<W> {
        self.0.into_inner()
    }
}

/// Reads just the index of a bundle file (for commands that need its case number).
pub fn read_index(path: &Path) -> Result<Index, BundleError> {
    let file = std::fs::File::open(path)
        .map_err(|e| BundleError(format!("cannot read {}: {e}", path.display())))?;
    let mut index = None;
    let result = read(io::BufReader::new(file), |part, size, reader| {
        if part != Part::Index || size > MAX_INDEX_BYTES {
            return Err(BundleError(
                "the bundle does not start with its index.json".into(),
            ));
        }
        let mut buf = Vec::new();
        reader
            .take(size)
            .read_to_end(&mut buf)
            .map_err(|e| BundleError(e.to_string()))?;
        index = Some(
            serde_json::from_slice::<Index>(&buf)
                .map_err(|e| BundleError(format!("index.json is not a sealdrop index: {e}")))?,
        );
        // Stop after the first entry.
        Err(BundleError(String::new()))
    });
    match (index, result) {
        (Some(i), _) => Ok(i),
        (None, Err(e)) if !e.0.is_empty() => Err(e),
        _ => Err(BundleError("the bundle is empty".into())),
    }
}
