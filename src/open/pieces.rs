//! Files sent through the resumable path are stored as consecutive pieces, each a complete age
//! file (`NNN.age`). This checks that a bundle's pieces come complete and in order, and that
//! together they are exactly the file the manifest describes (size and SHA-256 of the whole).

use super::OpenError;
use crate::digest::Hasher;
use crate::record::ManifestFile;

/// The file being reassembled.
struct Run {
    first: u32,
    meta: ManifestFile,
    next: u32,
    done: u64,
    plain: Hasher,
}

/// A file whose last piece has been checked.
pub(crate) struct Whole {
    /// Its plaintext SHA-256, as the manifest says and as verified.
    pub sha256: String,
    /// Its plaintext bytes.
    pub size: u64,
}

/// Reassembly state across the entries of one bundle.
#[derive(Default)]
pub(crate) struct Pieces {
    run: Option<Run>,
}

fn same_file(a: &ManifestFile, b: &ManifestFile) -> bool {
    a.name == b.name
        && a.content_type == b.content_type
        && a.size == b.size
        && a.sha256 == b.sha256
        && a.piece.map(|p| p.of) == b.piece.map(|p| p.of)
}

impl Pieces {
    /// Checks the place of entry `meta` before it is decrypted. Returns true when it is a piece
    /// (false for a file stored whole, which must not interrupt a file in pieces).
    pub(crate) fn begin(&mut self, meta: &ManifestFile) -> Result<bool, OpenError> {
        let bad = |what: &str| Err(OpenError::Tampered(format!("file {}: {what}", meta.index)));
        let Some(piece) = meta.piece else {
            if self.run.is_some() {
                return bad("a file sent in pieces is incomplete");
            }
            return Ok(false);
        };
        if piece.n >= piece.of {
            return bad("a piece number is out of range");
        }
        match &mut self.run {
            None if piece.n == 0 && piece.offset == 0 => {
                self.run = Some(Run {
                    first: meta.index,
                    meta: meta.clone(),
                    next: 0,
                    done: 0,
                    plain: Hasher::default(),
                });
            }
            None => return bad("a piece comes without the pieces before it"),
            Some(run) => {
                if !same_file(&run.meta, meta) || piece.n != run.next || piece.offset != run.done {
                    return bad("the pieces of a file are out of order or mixed up");
                }
            }
        }
        Ok(true)
    }

    /// Adds decrypted plaintext of the current piece.
    pub(crate) fn update(&mut self, data: &[u8]) {
        if let Some(run) = &mut self.run {
            run.plain.update(data);
        }
    }

    /// After piece `meta` decrypted to `len` bytes: checks its size; once its last piece is in,
    /// checks the whole file against the manifest and returns it.
    pub(crate) fn end(
        &mut self,
        meta: &ManifestFile,
        len: u64,
    ) -> Result<Option<Whole>, OpenError> {
        let (Some(piece), Some(run)) = (meta.piece, self.run.as_mut()) else {
            return Err(OpenError::Bundle("a piece ended that never began".into()));
        };
        if len != piece.size || run.done + len > meta.size {
            return Err(OpenError::Tampered(format!(
                "piece {} of file {} has the wrong size",
                piece.n, run.first
            )));
        }
        run.done += len;
        run.next += 1;
        if run.next < piece.of {
            return Ok(None);
        }
        let Some(run) = self.run.take() else {
            return Ok(None);
        };
        let (sha256, size) = run.plain.finish();
        if sha256 != run.meta.sha256 || size != run.meta.size {
            return Err(OpenError::Tampered(format!(
                "file {} decrypted, but its pieces together do not match the manifest",
                run.first
            )));
        }
        Ok(Some(Whole { sha256, size }))
    }

    /// At the end of the bundle: no file may be left half.
    pub(crate) fn finish(&self) -> Result<(), OpenError> {
        match &self.run {
            Some(run) => Err(OpenError::Bundle(format!(
                "the bundle is truncated: file {} lacks pieces",
                run.first
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Piece;

    fn piece(index: u32, n: u32, of: u32, offset: u64, size: u64, whole: &[u8]) -> ManifestFile {
        ManifestFile {
            index,
            name: "disk.img".into(),
            content_type: String::new(),
            size: whole.len() as u64,
            sha256: crate::digest::sha256_hex(whole),
            piece: Some(Piece {
                n,
                of,
                offset,
                size,
            }),
        }
    }

    #[test]
    fn pieces_in_order_make_the_whole_file_and_anything_else_is_refused() {
        let whole = b"abcdefgh";
        let (a, b) = (piece(0, 0, 2, 0, 5, whole), piece(1, 1, 2, 5, 3, whole));
        let mut p = Pieces::default();
        assert!(p.begin(&a).unwrap());
        p.update(b"abcde");
        assert!(p.end(&a, 5).unwrap().is_none());
        assert!(p.finish().is_err());
        assert!(p.begin(&b).unwrap());
        p.update(b"fgh");
        let done = p.end(&b, 3).unwrap().unwrap();
        assert_eq!(done.size, 8);
        p.finish().unwrap();

        // The second piece alone, a piece twice, and altered content are all refused.
        assert!(Pieces::default().begin(&b).is_err());
        let mut p = Pieces::default();
        p.begin(&a).unwrap();
        p.update(b"abcde");
        p.end(&a, 5).unwrap();
        assert!(p.begin(&a).is_err());
        let mut p = Pieces::default();
        p.begin(&a).unwrap();
        p.update(b"abcdX");
        p.end(&a, 5).unwrap();
        p.begin(&b).unwrap();
        p.update(b"fgh");
        assert!(p.end(&b, 3).is_err());
    }
}
