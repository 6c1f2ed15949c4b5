//! The dedupe set: 128-bit fingerprints of the event ids of months that are not final yet.
//!
//! A replay looks up every event's id in a set of millions, so a lookup is likely a cache miss. This set
//! is laid out so a lookup touches one cache line (linear probing over the fingerprints' low halves, eight
//! to a line) and so the engine can load the lines a micro-batch needs before it works through the batch
//! ([`SeenIds::warm`]): independent loads in a short loop overlap, where one miss per event does not.
//! Measured against the hashbrown map it replaced, the gain is modest (docs/BENCHMARKS.md): much of what
//! looked like the map's misses was the engine's first read of each freshly decoded message.

use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 128-bit fingerprint of an `event_id` (collisions are negligible at billions of events). Its low
/// half is never 0, which marks an empty slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    low: u64,
    high: u64,
}

impl Fingerprint {
    /// The fingerprint of `event_id`.
    pub fn of(event_id: &str) -> Self {
        let h = xxhash_rust::xxh3::xxh3_128(event_id.as_bytes());
        Self::from_halves(h as u64, (h >> 64) as u64)
    }

    fn from_halves(low: u64, high: u64) -> Self {
        Self {
            low: low.max(1),
            high,
        }
    }
}

/// Fewest slots a set has; a power of two.
const MIN_SLOTS: usize = 1024;

/// `len` zeros, written out now. Zeroed memory from the allocator is mapped lazily: [`SeenIds::warm`] reads
/// slots before inserts write them, so a slot first read would map the kernel's shared zero page, and the
/// write after it would cost a copy-on-write fault that interrupts every core to flush its address
/// translations (measured: 3 % of a replay). Written first, each page takes one plain fault.
fn written_zeros<T: Copy + Default>(len: usize) -> Vec<T> {
    let mut zeros = Vec::with_capacity(len);
    // Hidden from the optimiser, which could otherwise turn writing zeros back into a zeroed allocation.
    zeros.resize(len, std::hint::black_box(T::default()));
    zeros
}

/// Open addressing with linear probing. `low[i] == 0` marks slot `i` empty; `high` and `months` are
/// compared or kept only when the low half matches (a duplicate, or a 1-in-2^64 coincidence) and when
/// pruning (warming loads them too, since an insert writes them).
#[derive(Debug, Clone)]
pub(crate) struct SeenIds {
    low: Vec<u64>,
    high: Vec<u64>,
    months: Vec<i32>,
    len: usize,
}

impl Default for SeenIds {
    fn default() -> Self {
        Self::with_slots(MIN_SLOTS)
    }
}

impl SeenIds {
    fn with_slots(slots: usize) -> Self {
        Self {
            low: written_zeros(slots),
            high: written_zeros(slots),
            months: written_zeros(slots),
            len: 0,
        }
    }

    /// How many fingerprints the set holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn mask(&self) -> usize {
        self.low.len() - 1
    }

    fn home(&self, fp: Fingerprint) -> usize {
        // The low half is xxh3 output: its low bits are as good an index as any mix of them.
        fp.low as usize & self.mask()
    }

    /// Adds `fp` (of an event in month `month`, a [`schemas::YearMonth`] ordinal); returns false if and
    /// only if it was already there.
    pub(crate) fn insert(&mut self, fp: Fingerprint, month: i32) -> bool {
        // At most 70 % full, so an absent fingerprint is found absent within a line or two.
        if (self.len + 1) * 10 > self.low.len() * 7 {
            self.grow();
        }
        let mask = self.mask();
        let mut i = self.home(fp);
        loop {
            match self.low[i] {
                0 => {
                    self.put(i, fp, month);
                    self.len += 1;
                    return true;
                }
                low if low == fp.low && self.high[i] == fp.high => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Returns true if and only if `fp` is held.
    pub(crate) fn contains(&self, fp: Fingerprint) -> bool {
        let mask = self.mask();
        let mut i = self.home(fp);
        loop {
            match self.low[i] {
                0 => return false,
                low if low == fp.low && self.high[i] == fp.high => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn put(&mut self, i: usize, fp: Fingerprint, month: i32) {
        self.low[i] = fp.low;
        self.high[i] = fp.high;
        self.months[i] = month;
    }

    /// Loads the home slot of each fingerprint into the cache, in all three columns (an insert writes the
    /// other two), so the inserts that follow hit it. The loads are independent, so the processor overlaps
    /// their misses.
    pub(crate) fn warm(&self, fingerprints: impl IntoIterator<Item = Fingerprint>) {
        let folded = fingerprints.into_iter().fold(0u64, |acc, fp| {
            let i = self.home(fp);
            acc ^ self.low[i] ^ self.high[i] ^ self.months[i] as u64
        });
        std::hint::black_box(folded);
    }

    fn grow(&mut self) {
        let old = std::mem::replace(self, Self::with_slots(self.low.len() * 2));
        for (fp, month) in old.iter() {
            self.insert(fp, month);
        }
    }

    /// Forgets every fingerprint of a month before `keep_from`, in place.
    pub(crate) fn retain_from(&mut self, keep_from: i32) {
        for i in 0..self.low.len() {
            if self.low[i] != 0 && self.months[i] < keep_from {
                self.low[i] = 0;
                self.len -= 1;
            }
        }
        // Emptied slots may now cut probe chains: re-place every survivor, starting after an empty slot so
        // each chain is walked from its beginning (the entries before one in its chain are already final).
        let Some(start) = self.low.iter().position(|&low| low == 0) else {
            return;
        };
        let mask = self.mask();
        for step in 1..=self.low.len() {
            let i = (start + step) & mask;
            if self.low[i] == 0 {
                continue;
            }
            let (fp, month) = self.entry(i);
            self.low[i] = 0;
            let mut j = self.home(fp);
            while self.low[j] != 0 {
                j = (j + 1) & mask;
            }
            self.put(j, fp, month);
        }
    }

    /// The fingerprint and month in occupied slot `i`.
    fn entry(&self, i: usize) -> (Fingerprint, i32) {
        let fp = Fingerprint {
            low: self.low[i],
            high: self.high[i],
        };
        (fp, self.months[i])
    }

    fn iter(&self) -> impl Iterator<Item = (Fingerprint, i32)> + '_ {
        (0..self.low.len())
            .filter(|&i| self.low[i] != 0)
            .map(|i| self.entry(i))
    }
}

/// Checkpoints hold the set as `(low, high, month)` rows.
impl Serialize for SeenIds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Postcard needs the length up front, which a filtered iterator does not give `collect_seq`.
        let mut rows = s.serialize_seq(Some(self.len))?;
        for (fp, month) in self.iter() {
            rows.serialize_element(&(fp.low, fp.high, month))?;
        }
        rows.end()
    }
}

impl<'de> Deserialize<'de> for SeenIds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows: Vec<(u64, u64, i32)> = Vec::deserialize(d)?;
        let mut seen =
            Self::with_slots((rows.len() * 10 / 7 + 1).next_power_of_two().max(MIN_SLOTS));
        for (low, high, month) in rows {
            seen.insert(Fingerprint::from_halves(low, high), month);
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Inserting and pruning agree with a plain map, whatever the collisions in the low bits.
        #[test]
        fn behaves_like_a_map(
            ops in prop::collection::vec((0u64..4000, 0u64..3, 0i32..6, 0u8..40), 1..3000),
        ) {
            let mut seen = SeenIds::default();
            let mut model: HashMap<(u64, u64), i32> = HashMap::new();
            for (low, high, month, prune) in ops {
                if prune == 0 {
                    seen.retain_from(month);
                    model.retain(|_, m| *m >= month);
                } else {
                    // Even keys' low halves are multiples of 1024, so they share one or two home slots
                    // (long probe chains); odd keys fill the slots around them and wrap past the end.
                    let low = if low % 2 == 0 { low * 1024 } else { low };
                    let fp = Fingerprint::from_halves(low, high);
                    let fresh = !model.contains_key(&(fp.low, fp.high));
                    prop_assert_eq!(seen.contains(fp), !fresh);
                    if fresh {
                        model.insert((fp.low, fp.high), month);
                    }
                    prop_assert_eq!(seen.insert(fp, month), fresh);
                }
                prop_assert_eq!(seen.len(), model.len());
            }
            let mut held: Vec<_> = seen.iter().map(|(fp, m)| ((fp.low, fp.high), m)).collect();
            let mut expected: Vec<_> = model.into_iter().collect();
            held.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(held, expected);
        }
    }

    #[test]
    fn grows_past_its_first_size_and_survives_a_checkpoint() {
        let mut seen = SeenIds::default();
        for n in 0..5000 {
            assert!(seen.insert(Fingerprint::of(&format!("e{n}")), n % 3));
        }
        assert!(seen.low.len() >= 5000 * 10 / 7);
        let restored: SeenIds =
            serde_json::from_str(&serde_json::to_string(&seen).unwrap()).unwrap();
        assert_eq!(restored.len(), 5000);
        assert!(!restored.clone().insert(Fingerprint::of("e4999"), 0));
        let mut pruned = restored;
        pruned.retain_from(1);
        assert_eq!(pruned.len(), 5000 - 1667, "month 0 held every third id");
        assert!(pruned.insert(Fingerprint::of("e0"), 0), "e0 was in month 0");
        assert!(!pruned.insert(Fingerprint::of("e1"), 1));
    }

    #[test]
    fn a_zero_low_half_is_kept_apart_from_empty_slots() {
        let mut seen = SeenIds::default();
        assert!(seen.insert(Fingerprint::from_halves(0, 7), 0));
        assert!(!seen.insert(Fingerprint::from_halves(0, 7), 0));
        assert_eq!(seen.len(), 1);
    }
}
