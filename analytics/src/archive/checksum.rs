//! The checksum of each archive file, kept next to it as `<file>.parquet.xxh3`: the file's length and the
//! XXH3-128 of its bytes, taken while it is written. [`verify`] reads a file back against it, so a file
//! damaged on disk is refused before a query or a merge reads it.

use super::ArchiveError;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

/// The extension of a checksum file, after the Parquet file's own name.
pub const EXTENSION: &str = "xxh3";

/// What a checksum file records of the bytes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    /// Its length in bytes.
    pub length: u64,
    /// The XXH3-128 of its bytes.
    pub hash: u128,
}

impl Digest {
    fn line(self) -> String {
        format!("xxh3-128 {:032x} {}\n", self.hash, self.length)
    }

    fn parse(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        (words.next()? == "xxh3-128").then_some(())?;
        let hash = u128::from_str_radix(words.next()?, 16).ok()?;
        let length = words.next()?.parse().ok()?;
        words.next().is_none().then_some(Self { length, hash })
    }
}

/// The checksum file of the archive file at `path`.
pub fn path_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(EXTENSION);
    PathBuf::from(name)
}

/// A writer that hashes and counts what passes through it.
pub struct Hashing<W> {
    inner: W,
    hasher: Xxh3,
    length: u64,
}

impl<W: Write> Hashing<W> {
    /// Hashes what is written to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Xxh3::new(),
            length: 0,
        }
    }

    /// The writer and the digest of everything written.
    pub fn finish(self) -> (W, Digest) {
        let digest = Digest {
            length: self.length,
            hash: self.hasher.digest128(),
        };
        (self.inner, digest)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.length += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the checksum file of the archive file at `path` (fsynced; the caller syncs the directory).
pub fn record(path: &Path, digest: Digest) -> Result<(), ArchiveError> {
    let sum_path = path_of(path);
    let mut file =
        File::create(&sum_path).map_err(|e| ArchiveError::io("cannot create", &sum_path, e))?;
    file.write_all(digest.line().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| ArchiveError::io("cannot write", &sum_path, e))
}

/// What reading an archive file back against its checksum found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The file's bytes match its checksum.
    Intact,
    /// There is no checksum file.
    Unrecorded,
    /// The file or its checksum does not match; the reason says how.
    Damaged(String),
}

/// Reads the archive file at `path` against its checksum file.
pub fn verify(path: &Path) -> Result<Verdict, ArchiveError> {
    let sum_path = path_of(path);
    let recorded = match fs::read_to_string(&sum_path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Verdict::Unrecorded),
        Err(e) => return Err(ArchiveError::io("cannot read", &sum_path, e)),
    };
    let Some(expected) = Digest::parse(&recorded) else {
        return Ok(Verdict::Damaged(format!(
            "its checksum file {} is unreadable",
            sum_path.display()
        )));
    };
    let actual = digest(path)?;
    Ok(if actual == expected {
        Verdict::Intact
    } else if actual.length != expected.length {
        Verdict::Damaged(format!(
            "{} bytes where its checksum records {}",
            actual.length, expected.length
        ))
    } else {
        Verdict::Damaged(format!(
            "its bytes hash to {:032x}, its checksum records {:032x}",
            actual.hash, expected.hash
        ))
    })
}

/// The digest of the file at `path`, read in blocks.
pub fn digest(path: &Path) -> Result<Digest, ArchiveError> {
    let read_error = |e| ArchiveError::io("cannot read", path, e);
    let mut file = File::open(path).map_err(read_error)?;
    let mut hashing = Hashing::new(io::sink());
    let mut buffer = vec![0; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(read_error)?;
        if n == 0 {
            break;
        }
        hashing
            .write_all(&buffer[..n])
            .map_err(|e| ArchiveError::io("cannot hash", path, e))?;
    }
    Ok(hashing.finish().1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flipped_bit_a_cut_or_a_damaged_checksum_file_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p0-1-2.parquet");
        let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut writer = Hashing::new(File::create(&path).unwrap());
        writer.write_all(&bytes).unwrap();
        let (_, digest) = writer.finish();
        assert_eq!(digest, super::digest(&path).unwrap());
        assert_eq!(verify(&path).unwrap(), Verdict::Unrecorded);
        record(&path, digest).unwrap();
        assert_eq!(verify(&path).unwrap(), Verdict::Intact);

        for bit in (0..bytes.len() * 8).step_by(97) {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            fs::write(&path, &flipped).unwrap();
            assert!(
                matches!(verify(&path).unwrap(), Verdict::Damaged(_)),
                "bit {bit}"
            );
        }
        fs::write(&path, &bytes[..4000]).unwrap();
        assert!(matches!(verify(&path).unwrap(), Verdict::Damaged(r) if r.contains("4000 bytes")));
        fs::write(&path, &bytes).unwrap();
        fs::write(path_of(&path), "xxh3-128 zz 5000\n").unwrap();
        assert!(matches!(verify(&path).unwrap(), Verdict::Damaged(r) if r.contains("unreadable")));
    }
}
