//! An NDJSON file as a source: one partition, offset = 0-based line number, read as a stream in batches
//! (never loaded whole).

use crate::source::RawMessage;
use schemas::PartitionId;
use std::io::{BufRead, Read};

/// Reads newline-delimited messages from any reader.
pub struct NdjsonReader<R> {
    reader: R,
    partition: PartitionId,
    next_line: u64,
    bytes_read: u64,
}

impl<R: BufRead> NdjsonReader<R> {
    /// A reader of `reader` as partition `partition`.
    pub fn new(reader: R, partition: PartitionId) -> Self {
        Self {
            reader,
            partition,
            next_line: 0,
            bytes_read: 0,
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
            let mut line = Vec::new();
            let n = (&mut self.reader)
                .take(u64::MAX)
                .read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            self.bytes_read += n as u64;
            let offset = self.next_line;
            self.next_line += 1;
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
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
                .map(|m| (m.offset, m.payload.clone()))
                .collect::<Vec<_>>(),
            vec![(0, b"a".to_vec()), (2, b"b".to_vec())]
        );
        let rest = r.next_batch(10).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].offset, 3);
        assert!(r.next_batch(10).unwrap().is_empty());
        assert_eq!(r.bytes_read(), text.len() as u64);
    }
}
