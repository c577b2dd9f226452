//! Offline opening of an export bundle: verify ciphertext hashes, decrypt the manifest and files,
//! verify plaintext hashes, write files under safe names (never overwriting), plus a report.
//! The bundle is treated as hostile input.

use crate::bundle::{self, Index, Part};
use crate::digest::{Hasher, HashingReader};
use crate::keys::Identities;
use crate::record::{MANIFEST_FORMAT, Manifest};
pub use crate::terminal::{is_terminal_unsafe, terminal_safe};
use serde::Serialize;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

mod pieces;
pub(crate) use pieces::Pieces;

/// Largest encrypted manifest accepted.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// Most files a bundle may list.
pub const MAX_FILES: usize = 100_000;
/// Longest output file name, in bytes.
const MAX_NAME_BYTES: usize = 200;

/// Why a bundle could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The bundle is malformed or inconsistent.
    #[error("{0}")]
    Bundle(String),
    /// Hashes do not match: the bundle was altered or damaged.
    #[error("verification failed: {0}")]
    Tampered(String),
    /// None of the identities can decrypt it.
    #[error("cannot decrypt {what}: {problem}")]
    Decrypt {
        /// Which part.
        what: String,
        /// What age said.
        problem: String,
    },
    /// The output folder is not empty.
    #[error("output folder {0} is not empty")]
    OutputNotEmpty(PathBuf),
    /// Reading or writing files failed.
    #[error("{0}")]
    Io(String),
    /// A file chosen for a share is not in the bundle.
    #[error("the bundle has no file [{index:03}] (it has {count})")]
    NoSuchFile {
        /// The file asked for.
        index: u32,
        /// How many files the bundle has.
        count: usize,
    },
}

impl From<crate::bundle::BundleError> for OpenError {
    fn from(e: crate::bundle::BundleError) -> Self {
        OpenError::Bundle(e.0)
    }
}

impl crate::hint::Hint for OpenError {
    fn hint(&self) -> Option<String> {
        match self {
            OpenError::Bundle(_) => {
                Some("export the case again with `sealdrop admin export`".into())
            }
            OpenError::Tampered(_) => Some(
                "do not trust this bundle; export the case again and compare the SHA-256 values \
                 with `sealdrop admin show`"
                    .into(),
            ),
            OpenError::Decrypt { .. } => Some(
                "pass the identity of a key this case was encrypted to (its index.json lists the \
                 key ids; `sealdrop keys list` maps them)"
                    .into(),
            ),
            OpenError::OutputNotEmpty(_) => {
                Some("choose a new folder with -o; open never overwrites".into())
            }
            OpenError::NoSuchFile { .. } => Some(
                "`sealdrop open` lists the files as [000], [001], …: pass those numbers with \
                 --file"
                    .into(),
            ),
            OpenError::Io(_) => Some(
                "check the bundle's path, and that the folder or file given with -o can be \
                 written"
                    .into(),
            ),
        }
    }
}

/// One opened file.
#[derive(Debug, Clone, Serialize)]
pub struct OpenedFile {
    /// Position in the submission.
    pub index: u32,
    /// The name as sent (untrusted; may be hostile).
    pub original_name: String,
    /// Where it was written, relative to the output folder.
    pub path: String,
    /// Content type as sent (untrusted).
    pub content_type: String,
    /// Plaintext bytes.
    pub size: u64,
    /// Verified plaintext SHA-256.
    pub sha256: String,
}

/// What `open` produced, also written as `report.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Case number.
    pub case: String,
    /// Submission id.
    pub id: String,
    /// Kind of report.
    pub category: String,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// Keys it was encrypted to.
    pub key_ids: Vec<String>,
    /// The reporter's message.
    pub message: String,
    /// The reporter's contact details.
    pub contact: String,
    /// The name or handle the reporter asked to be credited as (`admin credit --as`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// The files, all verified.
    pub files: Vec<OpenedFile>,
}

fn io_err(context: &str) -> impl Fn(io::Error) -> OpenError + '_ {
    move |e| OpenError::Io(format!("{context}: {e}"))
}

/// Opens `bundle` with `identities` into the empty or new folder `out`.
pub fn open(bundle_path: &Path, identities: &Identities, out: &Path) -> Result<Report, OpenError> {
    let input = fs::File::open(bundle_path).map_err(io_err(&bundle_path.display().to_string()))?;
    open_reader(io::BufReader::new(input), identities, out)
}

/// Like [`open`], reading the bundle from `input`. On failure nothing it made is left: no
/// file, no `files/` folder, and no output folder (or parent) it created; an output folder that
/// existed before stays, empty.
pub fn open_reader(
    input: impl Read,
    identities: &Identities,
    out: &Path,
) -> Result<Report, OpenError> {
    let created = prepare_output(out)?;
    let mut state = State::default();
    let result = open_into(input, identities, out, &mut state);
    if result.is_err() {
        for f in &state.written {
            let _ = fs::remove_file(f);
        }
        let _ = fs::remove_dir(out.join("files"));
        if let Some(top) = created {
            // Only empty folders go: remove_dir never takes anything it did not make.
            for dir in out.ancestors() {
                if fs::remove_dir(dir).is_err() || dir == top {
                    break;
                }
            }
        }
    }
    result
}

/// Verifies and decrypts into `out`, listing every file it writes in `state.written`.
fn open_into(
    input: impl Read,
    identities: &Identities,
    out: &Path,
    state: &mut State,
) -> Result<Report, OpenError> {
    let files_dir = out.join("files");
    bundle::read(input, |part, size, reader| {
        state.take(part, size, reader, identities, &files_dir)
    })?;
    let report = state.finish()?;
    let json = serde_json::to_vec_pretty(&report).map_err(|e| OpenError::Io(e.to_string()))?;
    for (name, data) in [
        ("report.json", json),
        ("report.txt", render_text(&report).into_bytes()),
    ] {
        let path = out.join(name);
        write_new(&path, &data)?;
        state.written.push(path);
    }
    Ok(report)
}

/// Creates `out` when it does not exist; returns the outermost folder it created.
fn prepare_output(out: &Path) -> Result<Option<PathBuf>, OpenError> {
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(OpenError::OutputNotEmpty(out.to_owned()));
            }
            Ok(None)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let created = crate::os::first_missing_ancestor(out);
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(out)
                .map_err(io_err(&out.display().to_string()))?;
            Ok(created)
        }
        Err(e) => Err(io_err(&out.display().to_string())(e)),
    }
}

/// Writes a new file (never replacing one); removes it again when writing fails.
fn write_new(path: &Path, data: &[u8]) -> Result<(), OpenError> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err(&path.display().to_string()))?;
    f.write_all(data).map_err(|e| {
        let _ = fs::remove_file(path);
        io_err(&path.display().to_string())(e)
    })
}

#[derive(Default)]
struct State {
    index: Option<Index>,
    manifest: Option<Manifest>,
    opened: Vec<OpenedFile>,
    written: Vec<PathBuf>,
    /// File entries taken so far (a file in pieces has one per piece).
    entries: usize,
    pieces: Pieces,
}

impl State {
    fn take(
        &mut self,
        part: Part,
        size: u64,
        reader: &mut dyn Read,
        ids: &Identities,
        files_dir: &Path,
    ) -> Result<(), OpenError> {
        match (part, &self.index, &self.manifest) {
            (Part::Index, None, None) => {
                self.index = Some(read_index_entry(reader, size)?);
                Ok(())
            }
            (Part::Manifest, Some(index), None) => {
                let (manifest, _) = read_manifest_entry(reader, size, index, ids)?;
                self.manifest = Some(manifest);
                Ok(())
            }
            (Part::File(i), Some(index), Some(manifest)) => {
                let expected = self.entries;
                let (Some(entry), Some(meta)) =
                    (index.files.get(expected), manifest.files.get(expected))
                else {
                    return Err(OpenError::Bundle(format!(
                        "unexpected extra file {i:03}.age"
                    )));
                };
                if i as usize != expected || entry.index != i {
                    return Err(OpenError::Bundle(format!(
                        "file {i:03}.age is out of order"
                    )));
                }
                if size != entry.size {
                    return Err(OpenError::Tampered(format!(
                        "{i:03}.age has the wrong size"
                    )));
                }
                self.entries += 1;
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(files_dir)
                    .map_err(io_err("files folder"))?;
                let in_pieces = self.pieces.begin(meta)?;
                // A file in pieces is decrypted piece after piece into the partial file of its
                // first piece.
                let first = match meta.piece {
                    Some(p) if p.n > 0 => i.saturating_sub(p.n),
                    _ => i,
                };
                let path = files_dir.join(format!(".partial-{first:03}"));
                if first == i {
                    self.written.push(path.clone());
                }
                let (ct, pt, len) = if in_pieces {
                    let pieces = &mut self.pieces;
                    decrypt_file(reader.take(size), ids, &path, i, &entry.digest, &mut |c| {
                        pieces.update(c)
                    })?
                } else {
                    decrypt_file(reader.take(size), ids, &path, i, &entry.digest, &mut |_| {})?
                };
                if ct != entry.digest {
                    return Err(OpenError::Tampered(format!(
                        "{i:03}.age does not match its digest"
                    )));
                }
                let (sha256, len) = if in_pieces {
                    match self.pieces.end(meta, len)? {
                        Some(whole) => (whole.sha256, whole.size),
                        None => return Ok(()),
                    }
                } else {
                    if pt != meta.sha256 || len != meta.size {
                        return Err(OpenError::Tampered(format!(
                            "file {i} decrypted, but its content does not match the manifest"
                        )));
                    }
                    (pt, len)
                };
                let final_path = link_unique(&path, files_dir, &safe_name(&meta.name, first))?;
                self.written.push(final_path.clone());
                let _ = fs::remove_file(&path);
                self.opened.push(OpenedFile {
                    index: first,
                    original_name: meta.name.clone(),
                    path: format!(
                        "files/{}",
                        final_path
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default()
                    ),
                    content_type: meta.content_type.clone(),
                    size: len,
                    sha256,
                });
                Ok(())
            }
            (part, _, _) => Err(OpenError::Bundle(format!(
                "bundle entries are out of order or repeated (at {part:?})"
            ))),
        }
    }

    fn finish(&mut self) -> Result<Report, OpenError> {
        let (Some(index), Some(manifest)) = (self.index.take(), self.manifest.take()) else {
            return Err(OpenError::Bundle(
                "the bundle is incomplete (no index or manifest)".into(),
            ));
        };
        if self.entries != index.files.len() {
            return Err(OpenError::Bundle(format!(
                "the bundle is truncated: {} of {} files present",
                self.entries,
                index.files.len()
            )));
        }
        self.pieces.finish()?;
        Ok(Report {
            case: index.case,
            id: index.id,
            category: manifest.category.to_string(),
            received_at: manifest.received_at,
            key_ids: index.key_ids.iter().map(|k| k.0.clone()).collect(),
            message: manifest.message,
            contact: manifest.contact,
            credit: manifest.credit,
            files: std::mem::take(&mut self.opened),
        })
    }
}

/// Reads and checks a bundle's `index.json` entry.
pub(crate) fn read_index_entry(reader: &mut dyn Read, size: u64) -> Result<Index, OpenError> {
    if size > bundle::MAX_INDEX_BYTES {
        return Err(OpenError::Bundle("index.json is implausibly large".into()));
    }
    let mut buf = Vec::new();
    reader
        .take(size)
        .read_to_end(&mut buf)
        .map_err(io_err("index.json"))?;
    let index: Index = serde_json::from_slice(&buf)
        .map_err(|e| OpenError::Bundle(format!("index.json is not a sealdrop index: {e}")))?;
    check_index(&index)?;
    Ok(index)
}

/// Reads the `manifest.age` entry, checks its hash against `index`, decrypts and checks it;
/// returns the manifest and its exact plaintext.
pub(crate) fn read_manifest_entry(
    reader: &mut dyn Read,
    size: u64,
    index: &Index,
    ids: &Identities,
) -> Result<(Manifest, Vec<u8>), OpenError> {
    if size != index.manifest.size || size > MAX_MANIFEST_BYTES {
        return Err(OpenError::Tampered(
            "manifest.age has the wrong size".into(),
        ));
    }
    let mut buf = Vec::new();
    let mut hashing = HashingReader::for_digest(reader.take(size), &index.manifest.digest);
    hashing
        .read_to_end(&mut buf)
        .map_err(io_err("manifest.age"))?;
    let (digest, _) = hashing.finish().map_err(io_err("manifest.age"))?;
    if digest != index.manifest.digest {
        return Err(OpenError::Tampered(
            "manifest.age does not match its digest".into(),
        ));
    }
    let plain = decrypt_manifest_bytes(&buf, ids)?;
    let manifest: Manifest = serde_json::from_slice(&plain)
        .map_err(|e| OpenError::Bundle(format!("the manifest is malformed: {e}")))?;
    check_manifest(index, &manifest)?;
    Ok((manifest, plain))
}

fn check_index(index: &Index) -> Result<(), OpenError> {
    if index.format != bundle::FORMAT {
        return Err(OpenError::Bundle(format!(
            "unknown bundle format {:?}",
            index.format
        )));
    }
    if index.files.len() > MAX_FILES {
        return Err(OpenError::Bundle("the index lists too many files".into()));
    }
    for (n, f) in index.files.iter().enumerate() {
        if f.index as usize != n || f.name != format!("{n:03}.age") {
            return Err(OpenError::Bundle(
                "the index's file list is inconsistent".into(),
            ));
        }
    }
    Ok(())
}

fn check_manifest(index: &Index, m: &Manifest) -> Result<(), OpenError> {
    if m.format != MANIFEST_FORMAT || m.id != index.id || m.case != index.case {
        return Err(OpenError::Tampered(
            "the manifest belongs to another submission".into(),
        ));
    }
    if m.files.len() != index.files.len()
        || m.files
            .iter()
            .enumerate()
            .any(|(n, f)| f.index as usize != n)
    {
        return Err(OpenError::Tampered(
            "the manifest and the index list different files".into(),
        ));
    }
    Ok(())
}

/// Decrypts the manifest's exact plaintext bytes.
fn decrypt_manifest_bytes(ciphertext: &[u8], ids: &Identities) -> Result<Vec<u8>, OpenError> {
    let fail = |problem: String| OpenError::Decrypt {
        what: "manifest.age".into(),
        problem,
    };
    let dec = age::Decryptor::new_buffered(ciphertext).map_err(|e| fail(e.to_string()))?;
    let reader = dec.decrypt(ids.iter()).map_err(|e| fail(e.to_string()))?;
    let mut plain = Vec::new();
    reader
        .take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut plain)
        .map_err(|e| fail(e.to_string()))?;
    Ok(plain)
}

/// Decrypts one entry into `path` (appending when it exists: the later pieces of a file),
/// showing each plaintext chunk to `seen`; returns (ciphertext digest of the algorithm of
/// `expected`, plaintext SHA-256, plaintext size).
fn decrypt_file(
    input: impl Read,
    ids: &Identities,
    path: &Path,
    i: u32,
    expected: &str,
    seen: &mut dyn FnMut(&[u8]),
) -> Result<(String, String, u64), OpenError> {
    let mut out = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err(&path.display().to_string()))?;
    let hashes = decrypt_stream(input, ids, &format!("{i:03}.age"), expected, &mut |chunk| {
        seen(chunk);
        out.write_all(chunk)
    })?;
    out.sync_all()
        .map_err(io_err(&path.display().to_string()))?;
    Ok(hashes)
}

/// Decrypts an age stream into `sink`, hashing both sides; returns (ciphertext digest of the
/// algorithm of `expected`, plaintext SHA-256, plaintext size). `what` names the stream in
/// errors.
pub(crate) fn decrypt_stream(
    input: impl Read,
    ids: &Identities,
    what: &str,
    expected: &str,
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<(String, String, u64), OpenError> {
    let fail = |problem: String| OpenError::Decrypt {
        what: what.to_owned(),
        problem,
    };
    let mut hashing = HashingReader::for_digest(input, expected);
    let mut plain = Hasher::default();
    {
        let dec = age::Decryptor::new(io::BufReader::with_capacity(256 << 10, &mut hashing))
            .map_err(|e| fail(e.to_string()))?;
        let mut reader = dec.decrypt(ids.iter()).map_err(|e| fail(e.to_string()))?;
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(OpenError::Tampered(format!(
                        "{what} is damaged or truncated: {e}"
                    )));
                }
            };
            plain.update(&buf[..n]);
            sink(&buf[..n]).map_err(|e| OpenError::Io(format!("writing {what}: {e}")))?;
        }
    }
    let (ct, _) = hashing.finish().map_err(io_err(what))?;
    let (pt, len) = plain.finish();
    Ok((ct, pt, len))
}

/// Hard-links `tmp` to a free name in `dir` (adding " (2)", " (3)", … before the extension),
/// so no existing file is ever replaced.
fn link_unique(tmp: &Path, dir: &Path, name: &str) -> Result<PathBuf, OpenError> {
    let (stem, ext) = match name.rfind('.') {
        Some(p) if p > 0 => (&name[..p], &name[p..]),
        _ => (name, ""),
    };
    for n in 1..10_000 {
        let candidate = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match fs::hard_link(tmp, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(&candidate.display().to_string())(e)),
        }
    }
    Err(OpenError::Io(format!("no free name for {name}")))
}

/// Characters that draw nothing although they are not format characters: variation
/// selectors, the combining grapheme joiner, Hangul and Khmer fillers, the braille blank.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{34F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
        | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FFA0}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// Names Windows keeps for devices, whatever the extension (`NUL.tar.gz` is NUL too).
fn is_reserved_on_windows(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    let upper = stem.to_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) {
        return true;
    }
    let digit = |rest: &str| {
        let mut chars = rest.chars();
        matches!(
            (chars.next(), chars.next()),
            (Some('0'..='9' | '\u{B9}' | '\u{B2}' | '\u{B3}'), None)
        )
    };
    upper
        .strip_prefix("COM")
        .or_else(|| upper.strip_prefix("LPT"))
        .is_some_and(digit)
}

/// A file name that is safe to create inside the output folder, and to show and type: last
/// path component only; no controls, format or invisible characters; no leading dots or
/// dashes (hidden files, command-line options), no trailing dots or spaces (Windows drops
/// them); bounded length; never empty and never a Windows device name.
pub fn safe_name(original: &str, index: u32) -> String {
    let last = original.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !is_terminal_unsafe(*c) && !is_invisible(*c))
        .map(|c| {
            if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trim = |s: &str| -> String {
        s.trim_start_matches(|c: char| c == '.' || c == '-' || c.is_whitespace())
            .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
            .to_owned()
    };
    let mut name = trim(&cleaned);
    if name.len() > MAX_NAME_BYTES {
        let ext: String = match name.rfind('.') {
            Some(p) if name.len() - p <= 16 => name[p..].to_owned(),
            _ => String::new(),
        };
        let mut cut = MAX_NAME_BYTES - ext.len();
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name = trim(&format!("{}{ext}", &name[..cut]));
    }
    if name.is_empty() {
        name = format!("file-{index:03}");
    }
    if is_reserved_on_windows(&name) {
        name = format!("_{name}");
    }
    name
}

fn render_text(r: &Report) -> String {
    let indent = |t: &str| {
        let t = terminal_safe(t);
        if t.trim().is_empty() {
            "  (none)\n".to_owned()
        } else {
            t.lines().map(|l| format!("  {l}\n")).collect()
        }
    };
    let mut s = format!(
        "sealdrop report, case {}\n\nCategory:   {}\nReceived:   {}\nSubmission: {}\nKey ids:    {}\n\nContact:\n{}\nMessage:\n{}\nFiles ({}; ciphertext and plaintext SHA-256 verified):\n",
        terminal_safe(&r.case),
        r.category,
        terminal_safe(&r.received_at),
        terminal_safe(&r.id),
        terminal_safe(&r.key_ids.join(", ")),
        indent(&r.contact),
        indent(&r.message),
        r.files.len()
    );
    if let Some(name) = &r.credit {
        // The header line, not a contact line that happens to read the same (those are indented).
        let at = s.find("\nMessage:\n").map_or(s.len(), |i| i + 1);
        s.insert_str(
            at,
            &format!(
                "Credit (asked to be named as the discoverer):\n{}\n\n",
                indent(name).trim_end()
            ),
        );
    }
    for f in &r.files {
        s.push_str(&format!(
            "  [{:03}] {}\n        {} bytes, {}, sha256 {}\n        sent as {:?}\n",
            f.index,
            f.path,
            f.size,
            terminal_safe(&f.content_type),
            f.sha256,
            f.original_name
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_absolute_names_keep_only_their_last_component() {
        assert_eq!(safe_name("../../x", 0), "x");
        assert_eq!(safe_name("/etc/passwd", 0), "passwd");
        assert_eq!(safe_name("..\\..\\win.ini", 0), "win.ini");
        assert_eq!(safe_name("..", 3), "file-003");
        assert_eq!(safe_name("", 1), "file-001");
        assert_eq!(safe_name(".bashrc", 1), "bashrc");
    }

    #[test]
    fn control_and_bidi_characters_are_removed() {
        assert_eq!(safe_name("invoice\u{202E}fdp.exe", 0), "invoicefdp.exe");
        assert_eq!(safe_name("a\u{0}b\nc", 0), "abc");
        assert_eq!(safe_name("CON.txt", 0), "_CON.txt");
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let long = format!("{}.pdf", "é".repeat(300));
        let s = safe_name(&long, 0);
        assert!(s.len() <= MAX_NAME_BYTES);
        assert!(s.ends_with(".pdf"));
    }

    #[test]
    fn format_invisible_and_separator_characters_are_removed_from_names() {
        let hidden = [
            '\u{2028}',
            '\u{2029}',
            '\u{AD}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}',
            '\u{FE0F}',
            '\u{FE00}',
            '\u{E0100}',
            '\u{E01EF}',
            '\u{200B}',
            '\u{200D}',
            '\u{2060}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{61C}',
            '\u{180E}',
            '\u{34F}',
            '\u{3164}',
            '\u{9B}',
            '\u{7F}',
        ];
        for c in hidden {
            assert_eq!(
                safe_name(&format!("in{c}voice.pdf"), 0),
                "invoice.pdf",
                "{c:?}"
            );
        }
        assert_eq!(safe_name("\u{200B}\u{FEFF}", 4), "file-004");
    }

    #[test]
    fn trailing_dots_and_spaces_and_leading_dashes_are_removed() {
        assert_eq!(safe_name("report.pdf. . ", 0), "report.pdf");
        assert_eq!(safe_name("-rf", 0), "rf");
        assert_eq!(safe_name("--help.txt", 0), "help.txt");
        assert_eq!(safe_name(" -.-x", 0), "x");
        assert_eq!(safe_name("...", 2), "file-002");
        assert_eq!(safe_name("a-b.txt", 0), "a-b.txt");
        let long = format!("{} {}", "a".repeat(MAX_NAME_BYTES - 1), "b".repeat(50));
        assert_eq!(safe_name(&long, 0), "a".repeat(MAX_NAME_BYTES - 1));
    }

    #[test]
    fn every_windows_device_name_is_prefixed_whatever_its_case_or_extension() {
        for name in [
            "CON",
            "con",
            "Prn.txt",
            "aux.c",
            "NUL.tar.gz",
            "nul",
            "COM1",
            "com1.txt",
            "COM9.log",
            "COM0",
            "Lpt5.log",
            "LPT9",
            "conin$",
            "CONOUT$.txt",
            "prn.",
            "COM\u{B9}.txt",
            "lpt\u{B3}",
            "NUL .txt",
        ] {
            let safe = safe_name(name, 0);
            assert!(safe.starts_with('_'), "{name:?} became {safe:?}");
        }
        for name in [
            "COM10.txt",
            "console.txt",
            "CONX",
            "com",
            "LPT",
            "nullable",
            "auxiliary.c",
        ] {
            assert_eq!(safe_name(name, 0), name);
        }
    }

    #[test]
    fn terminal_text_loses_c1_controls_bidi_and_tag_characters() {
        assert_eq!(
            terminal_safe("a\u{9B}31mb\u{202E}c\u{E0041}d\u{2028}e"),
            "a\u{FFFD}31mb\u{FFFD}c\u{FFFD}d\u{FFFD}e"
        );
    }

    #[test]
    fn terminal_text_loses_escape_sequences_but_keeps_lines() {
        assert_eq!(terminal_safe("a\u{1b}[31mb\nc\td"), "a\u{FFFD}[31mb\nc\td");
    }
}
