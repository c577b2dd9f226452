//! `sealdrop inspect`: what an export bundle or a single `.age` file holds, told without any
//! key. Per object: the recipient stanzas of its age header, the key each one is addressed to
//! where the stanza says so, whether the object stays confidential against a quantum computer,
//! and its sizes; for a bundle, whether each object matches the index's size and digest.
//!
//! Reads hostile input: the header is read up to [`MAX_HEADER`] bytes and parsed by age's own
//! stanza parser, the rest is streamed through the digest, never held.

use crate::bundle::{self, Index, Part};
use crate::digest::{self, CtHasher};
use crate::keys::{Key, KeyId};
use serde::Serialize;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// The largest age header read (a header of 100 post-quantum stanzas is under 200 KiB).
pub const MAX_HEADER: usize = 1 << 20;
const MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// The STREAM payload: a 16-byte nonce, then chunks of 64 KiB of content with a 16-byte tag.
const NONCE: u64 = 16;
const CHUNK: u64 = 64 * 1024;
const TAG: u64 = 16;

/// Why a path could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// Not a bundle, or a bundle that breaks its format.
    #[error("{path}: {problem}")]
    Bundle {
        /// The path.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// An object that is not a well-formed age file.
    #[error("{path}: {object} is not a well-formed age file: {problem}")]
    NotAge {
        /// The path.
        path: String,
        /// The object in it.
        object: String,
        /// What is wrong.
        problem: String,
    },
}

impl crate::hint::Hint for InspectError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            InspectError::Read { .. } => "check the path".into(),
            InspectError::Bundle { .. } | InspectError::NotAge { .. } => {
                "pass a bundle from `sealdrop admin export` or a single .age file; export the case \
                 again if this one came from the portal"
                    .into()
            }
        })
    }
}

impl From<bundle::BundleError> for InspectError {
    fn from(e: bundle::BundleError) -> Self {
        InspectError::Bundle {
            path: String::new(),
            problem: e.0,
        }
    }
}

/// One path's findings.
#[derive(Debug, Serialize)]
pub struct Inspected {
    /// The path as given.
    pub path: String,
    /// For a bundle: what its index says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundleFacts>,
    /// Its age objects, in order.
    pub objects: Vec<Object>,
    /// For a bundle: the objects its index lists that it does not hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// The clear facts of a bundle's index.
#[derive(Debug, Serialize)]
pub struct BundleFacts {
    /// Case number.
    pub case: String,
    /// Submission id.
    pub id: String,
    /// When it was received.
    pub received_at: String,
    /// The keys the portal recorded for it.
    pub key_ids: Vec<KeyId>,
    /// A copy for a third party (`sealdrop share`).
    pub shared: bool,
}

/// One age object.
#[derive(Debug, Serialize)]
pub struct Object {
    /// `manifest.age`, `000.age`, … or the file's name.
    pub name: String,
    /// Bytes of ciphertext in all.
    pub size: u64,
    /// Bytes of its header.
    pub header: u64,
    /// Bytes of content it decrypts to (from the STREAM layout).
    pub content: u64,
    /// True when every stanza is post-quantum: only then can no quantum computer read it.
    pub post_quantum: bool,
    /// Its recipient stanzas (the random `…-grease` ones age adds left out).
    pub stanzas: Vec<Stanza>,
    /// For an object of a bundle: whether its size and digest match the index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_index: Option<bool>,
}

/// One recipient stanza.
#[derive(Debug, Serialize)]
pub struct Stanza {
    /// Its type (`X25519`, `p256tag`, `mlkem768p256tag`, `ssh-ed25519`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether the type is post-quantum.
    pub post_quantum: bool,
    /// The key it is addressed to, where its tag says so and the key is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyId>,
    /// That key's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// For a stanza that names no key (X25519): the keys of the index it may be for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<KeyId>,
    /// Its arguments (the tags that name a key are among them).
    #[serde(skip)]
    args: Vec<String>,
}

/// Inspects a bundle or a single `.age` file; `known` are the keys to recognise (a
/// recipients file with its retired lines).
pub fn inspect(path: &Path, known: &[Key]) -> Result<Inspected, InspectError> {
    let shown = path.display().to_string();
    let read_err = |source| InspectError::Read {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    inspect_reader(&shown, &name, io::BufReader::new(file), known)
}

/// Inspects what `input` holds: a bundle, or the single age file `name`. `shown` names it in
/// the findings and errors.
pub fn inspect_reader(
    shown: &str,
    name: &str,
    mut input: impl BufRead,
    known: &[Key],
) -> Result<Inspected, InspectError> {
    let shown = shown.to_owned();
    let head = input.fill_buf().map_err(|source| InspectError::Read {
        path: shown.clone(),
        source,
    })?;
    let single = head.starts_with(MAGIC);
    // Every tar header, GNU or POSIX, has "ustar" at offset 257.
    if !single && head.get(257..262) != Some(b"ustar".as_slice()) {
        return Err(bundle_err(
            &shown,
            "it is neither an age file (those start with age-encryption.org/v1) nor a bundle \
             (a tar archive)"
                .into(),
        ));
    }
    let mut found = Inspected {
        path: shown.clone(),
        bundle: None,
        objects: Vec::new(),
        missing: Vec::new(),
    };
    if single {
        let mut object = read_object(name, &mut input, None).map_err(|e| e.at(&shown))?;
        name_keys(&mut object, known, None);
        found.objects.push(object);
        return Ok(found);
    }
    let mut index: Option<Index> = None;
    bundle::read(input, |part, _size, reader| -> Result<(), InspectError> {
        let (name, listed) = match (&part, &index) {
            (Part::Index, Some(_)) => {
                return Err(bundle_err("", "it holds index.json twice".into()));
            }
            (Part::Index, None) => {
                let mut raw = Vec::new();
                reader
                    .take(bundle::MAX_INDEX_BYTES + 1)
                    .read_to_end(&mut raw)
                    .map_err(|e| bundle_err("", e.to_string()))?;
                let parsed: Index = serde_json::from_slice(&raw)
                    .map_err(|e| bundle_err("", format!("index.json: {e}")))?;
                index = Some(parsed);
                return Ok(());
            }
            (_, None) => return Err(bundle_err("", "index.json must come first".into())),
            (Part::Manifest, Some(ix)) => ("manifest.age".to_owned(), ix.manifest.clone()),
            (Part::File(n), Some(ix)) => {
                let entry = ix.files.iter().find(|f| f.index == *n).cloned();
                let entry = entry
                    .ok_or_else(|| bundle_err("", format!("{n:03}.age is not in the index")))?;
                (entry.name.clone(), entry)
            }
        };
        if found.objects.iter().any(|o| o.name == name) {
            return Err(bundle_err("", format!("it holds {name} twice")));
        }
        let object = read_object(&name, reader, Some(&listed))?;
        found.objects.push(object);
        Ok(())
    })
    .map_err(|e| e.at(&shown))?;
    let index = index.ok_or_else(|| bundle_err(&shown, "it holds no index.json".into()))?;
    for object in &mut found.objects {
        name_keys(object, known, Some(&index.key_ids));
    }
    found.missing = std::iter::once(&index.manifest)
        .chain(&index.files)
        .filter(|f| !found.objects.iter().any(|o| o.name == f.name))
        .map(|f| f.name.clone())
        .collect();
    found.bundle = Some(BundleFacts {
        case: index.case,
        id: index.id,
        received_at: index.received_at,
        key_ids: index.key_ids,
        shared: index.shared,
    });
    Ok(found)
}

fn bundle_err(path: &str, problem: String) -> InspectError {
    InspectError::Bundle {
        path: path.to_owned(),
        problem,
    }
}

impl InspectError {
    fn at(self, path: &str) -> InspectError {
        match self {
            InspectError::Bundle { path: p, problem } if p.is_empty() => InspectError::Bundle {
                path: path.to_owned(),
                problem,
            },
            InspectError::NotAge {
                path: p,
                object,
                problem,
            } if p.is_empty() => InspectError::NotAge {
                path: path.to_owned(),
                object,
                problem,
            },
            other => other,
        }
    }
}

/// Reads one age object: its header parsed, the rest streamed through the digest.
fn read_object(
    name: &str,
    reader: &mut dyn Read,
    listed: Option<&bundle::IndexFile>,
) -> Result<Object, InspectError> {
    let bad = |problem: String| InspectError::NotAge {
        path: String::new(),
        object: name.to_owned(),
        problem,
    };
    let algo = listed.and_then(|l| digest::algo_of(&l.digest));
    let mut hasher = algo.map(CtHasher::new);
    let mut head = Vec::new();
    let header_len = loop {
        let mut chunk = [0u8; 8192];
        let n = reader.read(&mut chunk).map_err(|e| bad(e.to_string()))?;
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = header_end(&head) {
            break end;
        }
        if n == 0 || head.len() > MAX_HEADER {
            return Err(bad(if n == 0 {
                "its header has no end".into()
            } else {
                format!("its header is over {} KiB", MAX_HEADER / 1024)
            }));
        }
    };
    if let Some(h) = hasher.as_mut() {
        h.update(&head);
    }
    let stanzas = parse_stanzas(&head[..header_len]).map_err(bad)?;
    let mut rest = (head.len() - header_len) as u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(|e| bad(e.to_string()))?;
        if n == 0 {
            break;
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        rest += n as u64;
    }
    let size = header_len as u64 + rest;
    let content = content_size(rest).ok_or_else(|| bad("its payload is cut off".into()))?;
    let matches_index = listed.map(|l| {
        let digest = hasher.map(|h| h.finish().0);
        l.size == size && digest.as_deref() == Some(l.digest.as_str())
    });
    let post_quantum = !stanzas.is_empty() && stanzas.iter().all(|s| s.post_quantum);
    Ok(Object {
        name: name.to_owned(),
        size,
        header: header_len as u64,
        content,
        post_quantum,
        stanzas,
        matches_index,
    })
}

/// Where the header ends: after the line `--- MAC`.
fn header_end(head: &[u8]) -> Option<usize> {
    let at = head.windows(5).position(|w| w == b"\n--- ")? + 1;
    let newline = head[at..].iter().position(|&b| b == b'\n')?;
    Some(at + newline + 1)
}

/// The stanzas of a header (age's own parser), without the grease ones.
fn parse_stanzas(header: &[u8]) -> Result<Vec<Stanza>, String> {
    let mut rest = header
        .strip_prefix(MAGIC)
        .ok_or("it does not start with age-encryption.org/v1")?;
    let mut out = Vec::new();
    while !rest.starts_with(b"---") {
        let (next, stanza) = age_core::format::read::age_stanza(rest)
            .map_err(|_| format!("stanza {} is malformed", out.len() + 1))?;
        rest = next;
        if stanza.tag.ends_with("-grease") {
            continue;
        }
        out.push(Stanza {
            kind: stanza.tag.to_owned(),
            post_quantum: matches!(stanza.tag, "mlkem768p256tag" | "mlkem768x25519"),
            key: None,
            label: None,
            one_of: Vec::new(),
            args: stanza.args.iter().map(|a| (*a).to_owned()).collect(),
        });
    }
    Ok(out)
}

/// The content bytes of a STREAM payload of `payload` bytes, or None where it cannot be one.
fn content_size(payload: u64) -> Option<u64> {
    let sealed = payload.checked_sub(NONCE)?;
    if sealed < TAG {
        return None;
    }
    let (full, rest) = (sealed / (CHUNK + TAG), sealed % (CHUNK + TAG));
    // A last chunk shorter than its tag is cut off; an empty last chunk after full ones is not
    // what age writes (only an empty file has an empty chunk).
    if (rest > 0 && rest < TAG) || (rest == TAG && full > 0) {
        return None;
    }
    let chunks = full + u64::from(rest > 0);
    Some(sealed - chunks * TAG)
}

/// Names each stanza's key: the known key its tag matches, or for a stanza that names no key,
/// the index's keys not matched by another stanza.
fn name_keys(object: &mut Object, known: &[Key], index_keys: Option<&[KeyId]>) {
    let mut matched = Vec::new();
    for stanza in &mut object.stanzas {
        let args: Vec<&str> = stanza.args.iter().map(String::as_str).collect();
        if let Some(key) = known
            .iter()
            .find(|k| k.addresses(&stanza.kind, &args) == Some(true))
        {
            stanza.key = Some(key.id.clone());
            stanza.label = key.label.clone();
            matched.push(key.id.clone());
        }
    }
    let Some(index_keys) = index_keys else {
        return;
    };
    for stanza in &mut object.stanzas {
        if stanza.key.is_some() || stanza.kind != "X25519" {
            continue;
        }
        let known_kind = |id: &KeyId| known.iter().find(|k| &k.id == id).map(Key::kind);
        stanza.one_of = index_keys
            .iter()
            .filter(|id| !matched.contains(id))
            .filter(|id| known_kind(id).is_none_or(|k| k == crate::keys::KeyKind::X25519))
            .cloned()
            .collect();
        if let [only] = stanza.one_of.as_slice() {
            stanza.key = Some(only.clone());
            stanza.label = known
                .iter()
                .find(|k| &k.id == only)
                .and_then(|k| k.label.clone());
        }
    }
}

/// The findings as a person reads them.
pub fn render(found: &Inspected) -> String {
    use std::fmt::Write;
    let safe = crate::terminal::terminal_safe;
    let mut o = String::new();
    match &found.bundle {
        Some(b) => {
            let _ = writeln!(
                o,
                "{}: {} of case {}, received {}",
                safe(&found.path),
                if b.shared { "shared copy" } else { "bundle" },
                safe(&b.case),
                safe(&b.received_at)
            );
            let ids: Vec<&str> = b.key_ids.iter().map(|k| k.0.as_str()).collect();
            let _ = writeln!(o, "  the portal recorded key(s): {}", safe(&ids.join(", ")));
        }
        None => {
            let _ = writeln!(o, "{}: age file", safe(&found.path));
        }
    }
    for object in &found.objects {
        let _ = writeln!(
            o,
            "  {}  {} bytes (header {}, content {}){}  {}",
            safe(&object.name),
            object.size,
            object.header,
            object.content,
            match object.matches_index {
                Some(true) => ", matches the index",
                Some(false) => ", DOES NOT MATCH THE INDEX",
                None => "",
            },
            if object.post_quantum {
                "post-quantum"
            } else {
                "classic: a quantum computer could read it"
            }
        );
        for s in &object.stanzas {
            let who = match (&s.key, s.one_of.len()) {
                (Some(key), n) => {
                    let label = s
                        .label
                        .as_deref()
                        .map(|l| format!(" ({})", safe(l)))
                        .unwrap_or_default();
                    let how = if n == 1 {
                        ", the only X25519 key recorded"
                    } else {
                        ""
                    };
                    format!("key {}{label}{how}", safe(&key.0))
                }
                (None, 0) if s.kind == "X25519" => {
                    "an X25519 key (the stanza does not say which)".into()
                }
                (None, 0) => "a key not among the known ones".into(),
                (None, _) => {
                    let ids: Vec<&str> = s.one_of.iter().map(|k| k.0.as_str()).collect();
                    format!("one of the X25519 keys {}", safe(&ids.join(", ")))
                }
            };
            let _ = writeln!(o, "    {:<16} {}", safe(&s.kind), who);
        }
    }
    for name in &found.missing {
        let _ = writeln!(
            o,
            "  {}  MISSING: the index lists it, the bundle lacks it",
            safe(name)
        );
    }
    let pq = found.objects.iter().filter(|o| o.post_quantum).count();
    let all = found.objects.len();
    let _ = writeln!(
        o,
        "  {}",
        match (pq, all) {
            (0, _) => "No object is post-quantum.".to_owned(),
            (p, a) if p == a => "Every object is post-quantum.".to_owned(),
            (p, a) => format!("{p} of {a} objects are post-quantum."),
        }
    );
    o
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn content_sizes_follow_the_stream_layout() {
        assert_eq!(content_size(16 + 16), Some(0));
        assert_eq!(content_size(16 + 16 + 5), Some(5));
        assert_eq!(content_size(16 + CHUNK + 16), Some(CHUNK));
        assert_eq!(content_size(16 + CHUNK + 16 + 1 + 16), Some(CHUNK + 1));
        assert_eq!(content_size(20), None);
        assert_eq!(
            content_size(16 + CHUNK + 16 + 5),
            None,
            "a cut-off last chunk"
        );
        assert_eq!(
            content_size(16 + CHUNK + 16 + 16),
            None,
            "an empty chunk after a full one"
        );
        assert_eq!(content_size(3), None);
    }

    /// An ssh-ed25519 public key line around the Ed25519 base point (a valid point).
    fn ssh_line() -> String {
        use base64::Engine;
        let mut wire = Vec::new();
        for field in [
            &b"ssh-ed25519"[..],
            &[[0x58u8].as_slice(), &[0x66u8; 31]].concat(),
        ] {
            wire.extend_from_slice(&(field.len() as u32).to_be_bytes());
            wire.extend_from_slice(field);
        }
        format!(
            "ssh-ed25519 {} carol@laptop",
            base64::prelude::BASE64_STANDARD.encode(wire)
        )
    }

    #[test]
    fn tagged_and_ssh_stanzas_name_their_key_and_retired_keys_are_known_by_their_line() {
        let tag = "age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e";
        let ssh = ssh_line();
        let file =
            format!("# carol\n{ssh}\n# alice's YubiKey\n# retired 2026-01-02 (lost): {tag}\n");
        let known = crate::keys::known_keys(&file, "r.txt").unwrap();
        assert_eq!(known.len(), 2);
        assert_eq!(
            known[1].label.as_deref(),
            Some("alice's YubiKey; retired 2026-01-02 (lost)")
        );
        let ring = crate::keys::KeyRing::parse(&format!("{ssh}\n{tag}\n"), "r").unwrap();
        let mut sealed = Vec::new();
        let mut w = age::Encryptor::with_recipients(ring.recipients())
            .unwrap()
            .wrap_output(&mut sealed)
            .unwrap();
        io::Write::write_all(&mut w, b"x").unwrap();
        w.finish().unwrap();
        let mut object = read_object("x.age", &mut sealed.as_slice(), None).unwrap();
        name_keys(&mut object, &known, None);
        let of = |kind: &str| object.stanzas.iter().find(|s| s.kind == kind).unwrap();
        assert_eq!(of("ssh-ed25519").key.as_ref(), Some(&known[0].id));
        assert_eq!(of("p256tag").key.as_ref(), Some(&known[1].id));
        assert_eq!(object.content, 1);
        // A key that is not among the known ones is not named.
        let mut object = read_object("x.age", &mut sealed.as_slice(), None).unwrap();
        name_keys(&mut object, &known[..1], None);
        assert_eq!(of_kind(&object, "p256tag").key, None);
    }

    fn of_kind<'a>(object: &'a Object, kind: &str) -> &'a Stanza {
        object.stanzas.iter().find(|s| s.kind == kind).unwrap()
    }

    #[test]
    fn a_header_is_read_with_its_stanzas_and_without_grease() {
        let id = age::x25519::Identity::generate();
        let mut sealed = Vec::new();
        let r: Box<dyn age::Recipient> = Box::new(id.to_public());
        let mut w = age::Encryptor::with_recipients(std::iter::once(r.as_ref()))
            .unwrap()
            .wrap_output(&mut sealed)
            .unwrap();
        io::Write::write_all(&mut w, &[7u8; 70_000]).unwrap();
        w.finish().unwrap();
        let object = read_object("x.age", &mut sealed.as_slice(), None).unwrap();
        assert_eq!(object.content, 70_000);
        assert_eq!(object.size, sealed.len() as u64);
        assert_eq!(object.stanzas.len(), 1, "{:?}", object.stanzas);
        assert_eq!(object.stanzas[0].kind, "X25519");
        assert!(!object.post_quantum);
        let err = read_object("x.age", &mut &sealed[..40], None).unwrap_err();
        assert!(err.to_string().contains("no end"), "{err}");
    }
}
