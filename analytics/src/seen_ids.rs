//! The dedupe set: 96-bit fingerprints of the event ids of months that are not final yet.
//!
//! A replay looks up every event's id in a set of millions, so a lookup is likely a cache miss. This set
//! is laid out so a lookup touches one cache line (linear probing over 16-byte slots that hold the whole
//! fingerprint and its month, four to a line) and so the engine can load the lines a micro-batch needs
//! before it works through the batch ([`SeenIds::warm`]): independent loads in a short loop overlap, where
//! one miss per event does not. docs/BENCHMARKS.md compares it with the hashbrown map it replaced and with
//! keeping the fingerprint halves and the months in three arrays (three lines per lookup).

use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 96-bit fingerprint of an `event_id`: a pair of different ids in the set shares one with
/// probability 2^-96, so even a billion ids held at once (5·10^17 pairs) collide with probability under
/// 10^-11. Its low half is never 0, which marks an empty slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    low: u64,
    high: u32,
}

impl Fingerprint {
    /// The fingerprint of `event_id`.
    pub fn of(event_id: &str) -> Self {
        let h = xxhash_rust::xxh3::xxh3_128(event_id.as_bytes());
        Self::from_halves(h as u64, (h >> 64) as u32)
    }

    fn from_halves(low: u64, high: u32) -> Self {
        Self {
            low: low.max(1),
            high,
        }
    }
}

/// One slot of the set: a fingerprint and the month of its event, or empty (`low == 0`).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(16))]
struct Slot {
    low: u64,
    high: u32,
    /// A [`schemas::YearMonth`] ordinal.
    month: i32,
}

impl Slot {
    /// The fingerprint held (meaningless for an empty slot).
    fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            low: self.low,
            high: self.high,
        }
    }
}

/// Fewest slots a set has; a power of two.
const MIN_SLOTS: usize = 1024;

/// `len` empty slots, written out now. Zeroed memory from the allocator is mapped lazily:
/// [`SeenIds::warm`] reads slots before inserts write them, so a slot first read would map the kernel's
/// shared zero page, and the write after it would cost a copy-on-write fault that interrupts every core to
/// flush its address translations (measured: 3 % of a replay). Written first, each page takes one plain
/// fault.
fn written_empty_slots(len: usize) -> Vec<Slot> {
    let mut slots = Vec::with_capacity(len);
    // Hidden from the optimiser, which could otherwise turn writing zeros back into a zeroed allocation.
    slots.resize(len, std::hint::black_box(Slot::default()));
    slots
}

/// Open addressing with linear probing over [`Slot`]s.
#[derive(Debug, Clone)]
pub(crate) struct SeenIds {
    slots: Vec<Slot>,
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
            slots: written_empty_slots(slots),
            len: 0,
        }
    }

    /// How many fingerprints the set holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn home(&self, fp: Fingerprint) -> usize {
        // The low half is xxh3 output: its low bits are as good an index as any mix of them.
        fp.low as usize & self.mask()
    }

    /// Adds `fp` (of an event in month `month`, a [`schemas::YearMonth`] ordinal); returns false if and
    /// only if it was already there.
    pub(crate) fn insert(&mut self, fp: Fingerprint, month: i32) -> bool {
        // At most 70 % full, so an absent fingerprint is found absent within a line or two.
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            self.grow();
        }
        let Err(empty) = self.probe(fp) else {
            return false;
        };
        self.slots[empty] = Slot {
            low: fp.low,
            high: fp.high,
            month,
        };
        self.len += 1;
        true
    }

    /// Returns true if and only if `fp` is held.
    pub(crate) fn contains(&self, fp: Fingerprint) -> bool {
        self.probe(fp).is_ok()
    }

    /// Walks `fp`'s probe chain: `Ok` with the slot that holds it, or `Err` with the empty slot that ends
    /// the chain.
    #[inline(always)]
    fn probe(&self, fp: Fingerprint) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = self.home(fp);
        loop {
            let slot = &self.slots[i];
            if slot.low == 0 {
                return Err(i);
            }
            if slot.fingerprint() == fp {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Loads the home slot of each fingerprint into the cache, so the inserts that follow hit it. The
    /// loads are independent, so the processor overlaps their misses.
    pub(crate) fn warm(&self, fingerprints: impl IntoIterator<Item = Fingerprint>) {
        let folded = fingerprints
            .into_iter()
            .fold(0u64, |acc, fp| acc ^ self.slots[self.home(fp)].low);
        std::hint::black_box(folded);
    }

    fn grow(&mut self) {
        let old = std::mem::replace(self, Self::with_slots(self.slots.len() * 2));
        for slot in old.occupied() {
            self.place(*slot);
        }
        self.len = old.len;
    }

    /// Puts an occupied slot that is not held yet (the set never holds a fingerprint twice) in the empty
    /// slot that ends its chain.
    fn place(&mut self, slot: Slot) {
        if let Err(empty) = self.probe(slot.fingerprint()) {
            self.slots[empty] = slot;
        }
    }

    /// Forgets every fingerprint of a month before `keep_from`, in place.
    pub(crate) fn retain_from(&mut self, keep_from: i32) {
        // A slot empty before anything is forgotten ends every probe chain (the set is never full), so
        // walking the table from there visits each chain from its beginning, even one that wraps past the
        // end. A slot emptied below can lie in the middle of a chain, so it would not do.
        let Some(start) = self.slots.iter().position(|slot| slot.low == 0) else {
            return;
        };
        for slot in &mut self.slots {
            if slot.low != 0 && slot.month < keep_from {
                slot.low = 0;
                self.len -= 1;
            }
        }
        // Emptied slots may now cut probe chains: re-place every survivor, in that order. Each one moves
        // back within its own chain at most (the entries before it are final already), so the starting
        // slot stays empty.
        let mask = self.mask();
        for step in 1..self.slots.len() {
            let i = (start + step) & mask;
            let slot = self.slots[i];
            if slot.low == 0 {
                continue;
            }
            self.slots[i].low = 0;
            self.place(slot);
        }
    }

    fn occupied(&self) -> impl Iterator<Item = &Slot> + '_ {
        self.slots.iter().filter(|slot| slot.low != 0)
    }
}

/// Checkpoints hold the set as `(low, high, month)` rows. `high` is a `u64`, as it was when fingerprints
/// had 128 bits: a checkpoint written then reads back as the same ids' 96-bit fingerprints, since
/// [`Fingerprint::of`] keeps the low 32 bits of the high half.
impl Serialize for SeenIds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Postcard needs the length up front, which a filtered iterator does not give `collect_seq`.
        let mut rows = s.serialize_seq(Some(self.len))?;
        for slot in self.occupied() {
            rows.serialize_element(&(slot.low, u64::from(slot.high), slot.month))?;
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
            seen.insert(Fingerprint::from_halves(low, high as u32), month);
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
            ops in prop::collection::vec((0u64..6000, 0u32..3, 0i32..6, 0u8..40), 1..3000),
        ) {
            let mut seen = SeenIds::default();
            let mut model: HashMap<(u64, u32), i32> = HashMap::new();
            for (low, high, month, prune) in ops {
                if prune == 0 {
                    seen.retain_from(month);
                    model.retain(|_, m| *m >= month);
                } else {
                    // Whatever the table's size, a third of the keys have their homes in its last eight
                    // slots, so their chains wrap past the end, and a third in its first eight, where the
                    // wrapped chains run on; the rest (and the table's growth) spread out.
                    let low = match low % 3 {
                        0 => !(low % 8),
                        1 => low % 8,
                        _ => low,
                    };
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
            let mut held: Vec<_> = seen.occupied().map(|s| ((s.low, s.high), s.month)).collect();
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
        assert!(seen.slots.len() >= 5000 * 10 / 7);
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
    fn pruning_keeps_a_chain_that_wraps_past_the_end() {
        // 1024 slots, home = low & 1023. Placed: 1022 → slot 1022, 2046 → 1023, 1023 → 0 (wrapped),
        // 1 → 1, 1024 → 2, 1025 → 3. Forgetting month 0 empties slots 1023 and 1, in the middle of the
        // chains of 1023, 1024 and 1025.
        let mut seen = SeenIds::default();
        let placed = [
            (1022, 1),
            (2046, 0),
            (1023, 1),
            (1, 0),
            (1024, 1),
            (1025, 1),
        ];
        for (low, month) in placed {
            assert!(seen.insert(Fingerprint::from_halves(low, 0), month));
        }
        seen.retain_from(1);
        assert_eq!(seen.len(), 4);
        for (low, month) in placed {
            assert_eq!(
                seen.contains(Fingerprint::from_halves(low, 0)),
                month >= 1,
                "low half {low}"
            );
        }
    }

    #[test]
    fn a_zero_low_half_is_kept_apart_from_empty_slots() {
        let mut seen = SeenIds::default();
        assert!(seen.insert(Fingerprint::from_halves(0, 7), 0));
        assert!(!seen.insert(Fingerprint::from_halves(0, 7), 0));
        assert_eq!(seen.len(), 1);
    }
}
