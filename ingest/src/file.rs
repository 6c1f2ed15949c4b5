//! An NDJSON file as a source: one partition, offset = 0-based line number, read as a stream in batches
//! (never loaded whole).

use crate::decode::RawBatch;
use bytes::{Bytes, BytesMut};
use memmap2::{Mmap, UncheckedAdvice};
use schemas::PartitionId;
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

/// How much is read from the file at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// What the range of pages let go of is rounded to: a multiple of every page size in use.
const RELEASE_ALIGN_BYTES: usize = 64 << 10;

/// How far behind the read position a mapped file's pages are let go of, and in steps of how much: well
/// beyond the batches that can be in flight at once (being decoded, queued and processed), so their lines
/// are normally done with, and in few calls, since each one interrupts the other cores to flush their
/// address translations.
const RELEASE_BEHIND_BYTES: usize = 64 << 20;

/// A file mapping as the owner of the [`Bytes`] its lines are slices of.
struct SharedMap(Arc<Mmap>);

impl AsRef<[u8]> for SharedMap {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// A mapped file's pages that the reader lets go of as it moves on, so the process's resident memory
/// stays near the batches in flight instead of growing to the file's size.
struct Released {
    map: Arc<Mmap>,
    /// Everything before this offset has been let go of.
    upto: usize,
    /// How far behind the read position pages are let go of, at least that much at a time.
    behind: usize,
}

/// A batch of a file's lines: the buffers they lie in, and where each line is. A line is a range of its
/// buffer rather than a [`Bytes`] of its own, so reading and decoding a line touches no reference count;
/// only a rejected line's bytes get a handle of their own ([`RawBatch::owned_payload`]).
#[derive(Debug, Default)]
pub struct LineBatch {
    partition: PartitionId,
    /// Whole lines, back to back: slices of the mapping for a mapped file, slices of the buffers read
    /// otherwise (a line that spans two reads is at the start of the second one's buffer). The input's
    /// last line, when no newline ends it, has a buffer of its own.
    buffers: Vec<Bytes>,
    lines: Vec<Line>,
}

/// Where one line of a [`LineBatch`] is.
#[derive(Debug, Clone)]
struct Line {
    /// The 0-based line number.
    offset: u64,
    /// Index into [`LineBatch::buffers`].
    buffer: usize,
    /// The line's bytes in its buffer, without the line ending.
    range: Range<usize>,
}

impl LineBatch {
    /// How many lines (blank lines are not in a batch).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Returns true if and only if the batch has no lines: at the end of the input.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Each line's number and bytes (without its line ending), in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.lines
            .iter()
            .map(|line| (line.offset, self.bytes_of(line)))
    }

    fn bytes_of(&self, line: &Line) -> &[u8] {
        &self.buffers[line.buffer][line.range.clone()]
    }

    /// Takes the lines at the start of `buffer` (whole lines; with `last`, the last one may lack its
    /// newline), up to `max` lines in the batch, and the part of `buffer` they are in; returns how many
    /// bytes that part is.
    fn take(
        &mut self,
        buffer: &mut Bytes,
        last: bool,
        max: usize,
        counter: &mut LineCounter,
    ) -> usize {
        let index = self.buffers.len();
        let mut start = 0;
        while self.lines.len() < max && start < buffer.len() {
            let end = match memchr::memchr(b'\n', &buffer[start..]) {
                Some(newline) => start + newline + 1,
                None if last => buffer.len(),
                None => break,
            };
            let line = &buffer[start..end];
            let offset = counter.next_line;
            counter.next_line += 1;
            counter.bytes_read += line.len() as u64;
            let content = line
                .iter()
                .rposition(|b| !matches!(b, b'\n' | b'\r'))
                .map_or(0, |last| last + 1);
            // Blank lines carry nothing and are skipped (their line numbers still count).
            if !line[..content].iter().all(u8::is_ascii_whitespace) {
                self.lines.push(Line {
                    offset,
                    buffer: index,
                    range: start..start + content,
                });
            }
            start = end;
        }
        self.buffers.push(buffer.split_to(start));
        start
    }
}

impl RawBatch for LineBatch {
    fn len(&self) -> usize {
        LineBatch::len(self)
    }

    fn position(&self, i: usize) -> (PartitionId, u64) {
        (self.partition, self.lines[i].offset)
    }

    fn payload(&self, i: usize) -> &[u8] {
        self.bytes_of(&self.lines[i])
    }

    fn owned_payload(&self, i: usize) -> Bytes {
        let line = &self.lines[i];
        self.buffers[line.buffer].slice(line.range.clone())
    }
}

/// How far a reader has got: the next line's number, and the bytes consumed.
#[derive(Debug, Default)]
struct LineCounter {
    next_line: u64,
    bytes_read: u64,
}

/// Reads newline-delimited messages from any reader, a megabyte at a time, and hands them out in
/// [`LineBatch`]es: each line is a range of the buffer it was read into, with no copy and no allocation of
/// its own. A regular file can instead be mapped ([`NdjsonReader::mapped`]), which also saves copying it
/// out of the page cache.
pub struct NdjsonReader<R> {
    reader: R,
    partition: PartitionId,
    counter: LineCounter,
    /// Whole lines read and not handed out yet.
    lines: Bytes,
    /// The start of a line whose end has not been read yet.
    partial: BytesMut,
    /// What each read fills: allocated by the first read (a mapped file never reads).
    chunk: Box<[u8]>,
    at_end: bool,
    /// For a mapped file: the mapping, and how much of it has been let go of.
    released: Option<Released>,
}

impl NdjsonReader<File> {
    /// A reader of a regular file that maps it into memory rather than reading it: its lines are slices of
    /// the mapping, so nothing is copied. The whole file is read from its start, wherever `file` stands.
    /// Anything that cannot be mapped (a pipe, a device, an empty file) is read as [`NdjsonReader::new`]
    /// reads it.
    ///
    /// # Safety
    ///
    /// Nobody may write to or truncate the file while the reader or any line it handed out is alive. The
    /// mapping is shared with the file: a write would change bytes already validated and parsed, and the
    /// pages cut off by a truncation would be gone from under the lines that point into them (the process
    /// would be stopped by `SIGBUS`). Appending is harmless: what is appended after the mapping was made is
    /// not read.
    pub unsafe fn mapped(file: File, partition: PartitionId) -> Self {
        // SAFETY: passed on to our caller.
        unsafe { Self::mapped_releasing(file, partition, RELEASE_BEHIND_BYTES) }
    }

    /// [`NdjsonReader::mapped`], letting go of pages `behind` bytes behind the read position.
    ///
    /// # Safety
    ///
    /// As for [`NdjsonReader::mapped`].
    unsafe fn mapped_releasing(file: File, partition: PartitionId, behind: usize) -> Self {
        let regular = file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0);
        // SAFETY: the mapping is read-only, and our caller guarantees that nobody writes to or truncates
        // the file while it is mapped.
        let map = regular.then(|| unsafe { Mmap::map(&file) }.ok()).flatten();
        let Some(map) = map else {
            return Self::new(file, partition);
        };
        let _ = map.advise(memmap2::Advice::Sequential);
        let map = Arc::new(map);
        let mut reader = Self::new(file, partition);
        // The mapping is everything a read would give: its whole lines, then the partial last line (copied,
        // at most one line), exactly as reading leaves them at the end of the file.
        let mut whole = Bytes::from_owner(SharedMap(map.clone()));
        let tail = memchr::memrchr(b'\n', &whole).map_or(0, |last| last + 1);
        reader.partial = BytesMut::from(&whole.split_off(tail)[..]);
        reader.lines = whole;
        reader.at_end = true;
        reader.released = Some(Released {
            map,
            upto: 0,
            behind,
        });
        reader
    }
}

impl<R: Read> NdjsonReader<R> {
    /// A reader of `reader` as partition `partition`.
    pub fn new(reader: R, partition: PartitionId) -> Self {
        Self {
            reader,
            partition,
            counter: LineCounter::default(),
            lines: Bytes::new(),
            partial: BytesMut::new(),
            chunk: Box::default(),
            at_end: false,
            released: None,
        }
    }

    /// Bytes consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.counter.bytes_read
    }

    /// Up to `max` more lines; an empty batch at the end. Blank lines carry nothing and are skipped (their
    /// line numbers still count).
    pub fn next_batch(&mut self, max: usize) -> std::io::Result<LineBatch> {
        let mut batch = LineBatch {
            partition: self.partition,
            buffers: Vec::new(),
            lines: Vec::with_capacity(max.min(1 << 16)),
        };
        while batch.lines.len() < max {
            if self.lines.is_empty() {
                if !self.at_end {
                    self.read_chunk()?;
                    continue;
                }
                if self.partial.is_empty() {
                    break;
                }
                // What is left at the end of the input: the last line, without a newline.
                let mut last = self.partial.split().freeze();
                batch.take(&mut last, true, max, &mut self.counter);
                break;
            }
            let taken = batch.take(&mut self.lines, false, max, &mut self.counter);
            // Not reached, as the buffer holds whole lines and the batch has room; checked all the same,
            // since taking nothing here would go round for ever.
            assert!(taken > 0, "a buffer of whole lines yields a line");
        }
        self.release_behind();
        Ok(batch)
    }

    /// Lets go of a mapped file's pages far enough behind the read position (a hint to the kernel: a line
    /// still using one of them reads it again from the page cache).
    fn release_behind(&mut self) {
        let Some(released) = &mut self.released else {
            return;
        };
        let upto = (self.counter.bytes_read as usize).saturating_sub(released.behind)
            / RELEASE_ALIGN_BYTES
            * RELEASE_ALIGN_BYTES;
        if upto >= released.upto + released.behind {
            // SAFETY: the mapping is a shared, read-only file mapping; after `DontNeed` its pages read the
            // file's contents again from the page cache, so every line stays the same bytes (the file is
            // not written meanwhile: the contract of `mapped`).
            let _ = unsafe {
                released.map.unchecked_advise_range(
                    UncheckedAdvice::DontNeed,
                    released.upto,
                    upto - released.upto,
                )
            };
            released.upto = upto;
        }
    }

    /// Reads up to a chunk more; the whole lines it completes become [`Self::lines`].
    fn read_chunk(&mut self) -> std::io::Result<()> {
        if self.chunk.is_empty() {
            self.chunk = vec![0; CHUNK_BYTES].into_boxed_slice();
        }
        let read = loop {
            match self.reader.read(&mut self.chunk) {
                Ok(read) => break read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        let start = self.partial.len();
        self.partial.extend_from_slice(&self.chunk[..read]);
        if read == 0 {
            self.at_end = true;
        } else if let Some(last) = memchr::memrchr(b'\n', &self.partial[start..]) {
            self.lines = self.partial.split_to(start + last + 1).freeze();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_lines_and_skips_blank_ones() {
        let text = b"a\r\n\nb\nc";
        let mut r = NdjsonReader::new(&text[..], 0);
        let first = r.next_batch(2).unwrap();
        assert_eq!(
            first
                .iter()
                .map(|(offset, line)| (offset, line.to_vec()))
                .collect::<Vec<_>>(),
            vec![(0, b"a".to_vec()), (2, b"b".to_vec())]
        );
        let rest = r.next_batch(10).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest.position(0), (0, 3));
        assert!(r.next_batch(10).unwrap().is_empty());
        assert_eq!(r.bytes_read(), text.len() as u64);
    }

    /// Every line of `reader`, as `(partition, offset, payload)`, read `per_batch` at a time; each payload
    /// is checked to be the same bytes as its own handle's.
    fn all_lines<R: Read>(
        reader: &mut NdjsonReader<R>,
        per_batch: usize,
    ) -> Vec<(PartitionId, u64, Bytes)> {
        let mut got = Vec::new();
        loop {
            let batch = reader.next_batch(per_batch).unwrap();
            if batch.is_empty() {
                return got;
            }
            assert!(batch.len() <= per_batch);
            for i in 0..batch.len() {
                let (partition, offset) = batch.position(i);
                let owned = batch.owned_payload(i);
                assert_eq!(batch.payload(i), &owned[..]);
                got.push((partition, offset, owned));
            }
        }
    }

    #[test]
    fn a_mapped_file_gives_the_lines_reading_gives_even_with_its_pages_let_go_of() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!(
                "{{\"line\":{i},\"pad\":\"{}\"}}\r\n",
                "x".repeat(i % 50)
            ));
            if i % 997 == 0 {
                text.push_str("  \n");
            }
        }
        text.push_str("no newline at the end");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, &text).unwrap();
        let read = all_lines(&mut NdjsonReader::new(File::open(&path).unwrap(), 0), 333);
        // Pages are let go of a few kilobytes behind while every earlier line is still held: those lines
        // must still read the same.
        // SAFETY: nothing writes the test's file while it is read.
        let mut mapped =
            unsafe { NdjsonReader::mapped_releasing(File::open(&path).unwrap(), 0, 4096) };
        assert!(mapped.released.is_some(), "a regular file is mapped");
        let mapped = all_lines(&mut mapped, 333);
        assert_eq!(mapped.len(), 20_000 + 1);
        assert_eq!(mapped, read);
        assert_eq!(
            mapped.last().unwrap().2,
            Bytes::from("no newline at the end")
        );
    }

    #[test]
    fn an_empty_file_is_read_not_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.ndjson");
        std::fs::write(&path, "").unwrap();
        // SAFETY: nothing writes the test's file while it is read.
        let mut reader = unsafe { NdjsonReader::mapped(File::open(&path).unwrap(), 0) };
        assert!(reader.released.is_none());
        assert!(reader.next_batch(10).unwrap().is_empty());
    }

    /// Returns at most `step` bytes per read, so lines end up split across reads.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_split_across_reads_and_longer_than_a_chunk_come_out_whole() {
        let long = "x".repeat(CHUNK_BYTES + 10);
        let text = format!("first\n{long}\r\n\n  \nlast");
        for step in [1, 7, 4096, usize::MAX] {
            let mut r = NdjsonReader::new(
                Trickle {
                    data: text.as_bytes(),
                    step,
                },
                3,
            );
            let got = all_lines(&mut r, 2);
            let expected = vec![
                (3, 0, Bytes::from("first")),
                (3, 1, Bytes::from(long.clone())),
                (3, 4, Bytes::from("last")),
            ];
            assert_eq!(got, expected, "reads of {step} bytes");
            assert_eq!(r.bytes_read(), text.len() as u64);
        }
    }
}
