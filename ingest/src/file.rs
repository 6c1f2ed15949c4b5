//! An NDJSON file as a source: one partition, offset = 0-based line number, read as a stream in batches
//! (never loaded whole).

use crate::source::RawMessage;
use bytes::{Bytes, BytesMut};
use schemas::PartitionId;
use std::io::Read;

/// How much is read from the file at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// Reads newline-delimited messages from any reader. Lines are read a megabyte at a time and handed out as
/// slices of one shared buffer: no copy and no allocation per line.
pub struct NdjsonReader<R> {
    reader: R,
    partition: PartitionId,
    next_line: u64,
    bytes_read: u64,
    /// Whole lines read and not handed out yet.
    lines: Bytes,
    /// The start of a line whose end has not been read yet.
    partial: BytesMut,
    /// What each read fills.
    chunk: Box<[u8]>,
    at_end: bool,
}

impl<R: Read> NdjsonReader<R> {
    /// A reader of `reader` as partition `partition`.
    pub fn new(reader: R, partition: PartitionId) -> Self {
        Self {
            reader,
            partition,
            next_line: 0,
            bytes_read: 0,
            lines: Bytes::new(),
            partial: BytesMut::new(),
            chunk: vec![0; CHUNK_BYTES].into_boxed_slice(),
            at_end: false,
        }
    }

    /// Bytes consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Up to `max` more messages; an empty vector at the end. Blank lines carry nothing and are skipped
    /// (their line numbers still count).
    pub fn next_batch(&mut self, max: usize) -> std::io::Result<Vec<RawMessage>> {
        let mut batch = Vec::with_capacity(max.min(1 << 16));
        while batch.len() < max {
            let Some(mut line) = self.next_line()? else {
                break;
            };
            self.bytes_read += line.len() as u64;
            let offset = self.next_line;
            self.next_line += 1;
            let content = line
                .iter()
                .rposition(|b| !matches!(b, b'\n' | b'\r'))
                .map_or(0, |last| last + 1);
            line.truncate(content);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            batch.push(RawMessage {
                partition: self.partition,
                offset,
                payload: line,
                produced_at: None,
            });
        }
        Ok(batch)
    }

    /// The next line with its newline, or what is left at the end of the input.
    fn next_line(&mut self) -> std::io::Result<Option<Bytes>> {
        loop {
            if let Some(newline) = memchr::memchr(b'\n', &self.lines) {
                return Ok(Some(self.lines.split_to(newline + 1)));
            }
            if self.at_end {
                return Ok((!self.partial.is_empty()).then(|| self.partial.split().freeze()));
            }
            self.read_chunk()?;
        }
    }

    /// Reads up to a chunk more; the whole lines it completes become [`Self::lines`].
    fn read_chunk(&mut self) -> std::io::Result<()> {
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
                .map(|m| (m.offset, m.payload.to_vec()))
                .collect::<Vec<_>>(),
            vec![(0, b"a".to_vec()), (2, b"b".to_vec())]
        );
        let rest = r.next_batch(10).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].offset, 3);
        assert!(r.next_batch(10).unwrap().is_empty());
        assert_eq!(r.bytes_read(), text.len() as u64);
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
            let mut got = Vec::new();
            loop {
                let batch = r.next_batch(2).unwrap();
                if batch.is_empty() {
                    break;
                }
                got.extend(
                    batch
                        .into_iter()
                        .map(|m| (m.partition, m.offset, m.payload)),
                );
            }
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
