//! Where a message's quotes are, found in one pass over the whole message, so the end of each string is
//! the next bit of a bitmap rather than a search of its own.
//!
//! The index is made only for messages with no backslash and no control character anywhere (no escapes,
//! and no whitespace but spaces): in those, the first quote after a string's opening quote closes it,
//! which is what the string-by-string search finds. Every other message is read by that search.

/// The longest message indexed; longer ones (rare: a typical event is 150–300 bytes) are searched string
/// by string.
pub(super) const INDEXED_MAX_BYTES: usize = 512;

/// Bytes per word of the bitmap.
const WORD_BYTES: usize = 64;

/// One bit per byte of a message, set where the byte is a quote.
pub(super) struct QuoteIndex {
    words: [u64; INDEXED_MAX_BYTES / WORD_BYTES],
    /// Every byte is ASCII (so the message is valid UTF-8 without a check of its own).
    pub(super) ascii: bool,
}

impl QuoteIndex {
    /// Fills this index (empty, from [`QuoteIndex::empty`]) with the quotes of `bytes`, and returns it;
    /// `None` (the index is then meaningless) when a byte is a backslash or a control character, or the
    /// message is shorter than 16 or longer than [`INDEXED_MAX_BYTES`] bytes.
    #[inline(always)]
    pub(super) fn fill(&mut self, bytes: &[u8]) -> Option<&Self> {
        let len = bytes.len();
        if !(BLOCK_BYTES..=INDEXED_MAX_BYTES).contains(&len) {
            return None;
        }
        let (mut special, mut high) = (0u32, 0u32);
        let whole = len / BLOCK_BYTES;
        for block in 0..whole {
            let (quotes, others, non_ascii) = classify(bytes, block * BLOCK_BYTES);
            self.words[block / 4] |= u64::from(quotes) << (block % 4 * BLOCK_BYTES);
            special |= others;
            high |= non_ascii;
        }
        let rest = len % BLOCK_BYTES;
        if rest != 0 {
            // The last sixteen bytes, overlapping the block before: keep the bits of the bytes after it.
            let (quotes, others, non_ascii) = classify(bytes, len - BLOCK_BYTES);
            let shift = BLOCK_BYTES - rest;
            let block = whole;
            self.words[block / 4] |= u64::from(quotes >> shift) << (block % 4 * BLOCK_BYTES);
            special |= others;
            high |= non_ascii;
        }
        self.ascii = high == 0;
        (special == 0).then_some(self)
    }

    /// An empty index, for [`QuoteIndex::fill`].
    #[inline(always)]
    pub(super) fn empty() -> Self {
        Self {
            words: [0; INDEXED_MAX_BYTES / WORD_BYTES],
            ascii: false,
        }
    }

    /// The end (after the closing quote) of the string whose opening quote is at `at`.
    #[inline(always)]
    pub(super) fn string_end(&self, at: usize) -> Option<usize> {
        let from = at + 1;
        let mut word = from / WORD_BYTES;
        let mut bits = *self.words.get(word)? & (u64::MAX << (from % WORD_BYTES));
        while bits == 0 {
            word += 1;
            bits = *self.words.get(word)?;
        }
        Some(word * WORD_BYTES + bits.trailing_zeros() as usize + 1)
    }
}

/// Bytes classified at a time.
pub(super) const BLOCK_BYTES: usize = 16;

/// The quotes of the sixteen bytes of `bytes` from `at`, its backslashes and control characters, and its
/// bytes that are not ASCII, one bit per byte.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(super) fn classify(bytes: &[u8], at: usize) -> (u32, u32, u32) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    assert!(at + BLOCK_BYTES <= bytes.len(), "a whole block");
    // SAFETY: SSE2 is part of every x86-64 processor (this is compiled only for targets with it), and the
    // sixteen bytes from `at` are readable (just checked; the callers' bounds let the check be optimised
    // away); the load has no alignment requirement.
    unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().add(at).cast::<__m128i>());
        // A byte is a control character when the smaller of it and 0x1f is itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let others = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)), control);
        let quotes = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        (
            _mm_movemask_epi8(quotes) as u32,
            _mm_movemask_epi8(others) as u32,
            // The high bit of each byte.
            _mm_movemask_epi8(v) as u32,
        )
    }
}

/// [`classify`] on other processors.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(super) fn classify(bytes: &[u8], at: usize) -> (u32, u32, u32) {
    let (mut quotes, mut special, mut high) = (0u32, 0u32, 0u32);
    for (i, &b) in bytes[at..at + BLOCK_BYTES].iter().enumerate() {
        quotes |= u32::from(b == b'"') << i;
        special |= u32::from(b == b'\\' || b < 0x20) << i;
        high |= u32::from(!b.is_ascii()) << i;
    }
    (quotes, special, high)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Each string ends where a byte-by-byte search finds its closing quote, and a message with a
        /// backslash or control character anywhere is not indexed.
        #[test]
        fn ends_strings_where_a_byte_search_does(bytes in proptest::collection::vec(
            prop_oneof![
                4 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 1 => 0x20u8..=0xff, 40 => b'a'..=b'z',
            ],
            0..600,
        )) {
            let plain = !bytes.iter().any(|&b| b == b'\\' || b < 0x20);
            let mut empty = QuoteIndex::empty();
            let index = empty.fill(&bytes);
            prop_assert_eq!(index.is_some(), plain && (16..=INDEXED_MAX_BYTES).contains(&bytes.len()));
            let Some(index) = index else {
                return Ok(());
            };
            prop_assert_eq!(index.ascii, bytes.is_ascii());
            for at in 0..bytes.len() + 70 {
                let expected = bytes
                    .get(at + 1..)
                    .and_then(|rest| rest.iter().position(|&b| b == b'"'))
                    .map(|i| at + 1 + i + 1);
                prop_assert_eq!(index.string_end(at), expected, "at {}", at);
            }
        }
    }
}
