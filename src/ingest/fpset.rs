//! The set of event-id fingerprints that deduplication probes once per event.
//!
//! At a million interviews the set holds 17.6 million fingerprints in about 512 MB, so
//! nearly every probe is a cache miss and a TLB miss: with `hashbrown` it was 11 % of
//! an ingest's CPU time, on the one thread that merges in reading order. This table
//! does the same job with two changes that make the misses cheap:
//!
//! * [`FpTable::insert_all`] takes a whole chunk of fingerprints and prefetches the
//!   slot of the one [`PREFETCH_AHEAD`] places later while it inserts the current one,
//!   so the memory system fetches many slots at once instead of one after another;
//! * the slot array asks the kernel for transparent huge pages (`madvise`), so one TLB
//!   entry covers 2 MB of it instead of 4 kB.
//!
//! Open addressing with linear probing over `u128` slots; 0 marks an empty slot, and
//! the fingerprint 0 itself (one chance in 2¹²⁸) is kept in a flag. Fingerprints are
//! XXH3-128 values, so their low bits index the table directly.

use crate::idrows::prefetch;

/// How many fingerprints ahead of the insertion the prefetch runs: enough to cover
/// a memory latency of a few hundred nanoseconds at a few nanoseconds an insert.
const PREFETCH_AHEAD: usize = 16;

/// The table grows when it would be more than this full (in eighths).
const MAX_LOAD_EIGHTHS: usize = 6;

#[derive(Debug, Default)]
pub struct FpTable {
    slots: Vec<u128>,
    /// Fingerprints held, besides `zero`.
    len: usize,
    /// Whether the fingerprint 0 is held.
    zero: bool,
}

impl FpTable {
    /// The number of fingerprints held.
    pub fn len(&self) -> usize {
        self.len + usize::from(self.zero)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Makes room for `more` fingerprints beyond those held, so the table is allocated
    /// once rather than grown by doubling.
    pub fn reserve(&mut self, more: usize) {
        let want = self.len.saturating_add(more);
        if want * 8 > self.slots.len() * MAX_LOAD_EIGHTHS {
            self.resize_for(want);
        }
    }

    fn resize_for(&mut self, n: usize) {
        let slots = (n.max(8) * 8 / MAX_LOAD_EIGHTHS + 1).next_power_of_two();
        let old = std::mem::replace(&mut self.slots, zeroed_slots(slots));
        self.len = 0;
        for fp in old.into_iter().filter(|&fp| fp != 0) {
            self.place(fp);
        }
    }

    /// Puts a fingerprint known to be non-zero into its slot; true when it was new.
    /// The table must have a free slot.
    #[inline]
    fn place(&mut self, fp: u128) -> bool {
        let mask = self.mask();
        let mut i = (fp as usize) & mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                self.slots[i] = fp;
                self.len += 1;
                return true;
            }
            if slot == fp {
                return false;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds one fingerprint; true when it was not held yet.
    pub fn insert(&mut self, fp: u128) -> bool {
        if fp == 0 {
            return !std::mem::replace(&mut self.zero, true);
        }
        self.reserve(1);
        self.place(fp)
    }

    /// Adds `fps` in order, calling `fresh(i, new)` for each: `new` is true when
    /// `fps[i]` was not held before (neither in the table nor earlier in `fps`).
    pub fn insert_all(&mut self, fps: &[u128], mut fresh: impl FnMut(usize, bool)) {
        self.reserve(fps.len());
        let mask = self.mask();
        for (i, &fp) in fps.iter().enumerate() {
            if let Some(&ahead) = fps.get(i + PREFETCH_AHEAD) {
                prefetch(&self.slots[(ahead as usize) & mask]);
            }
            let new = if fp == 0 { !std::mem::replace(&mut self.zero, true) } else { self.place(fp) };
            fresh(i, new);
        }
    }

    /// Calls `found(i, held)` for each `fps[i]` in order, prefetching ahead like
    /// [`FpTable::insert_all`].
    pub fn contains_all(&self, fps: &[u128], mut found: impl FnMut(usize, bool)) {
        let mask = self.mask();
        for (i, &fp) in fps.iter().enumerate() {
            if let (Some(&ahead), false) = (fps.get(i + PREFETCH_AHEAD), self.slots.is_empty()) {
                prefetch(&self.slots[(ahead as usize) & mask]);
            }
            found(i, self.contains(fp));
        }
    }

    pub fn contains(&self, fp: u128) -> bool {
        if fp == 0 {
            return self.zero;
        }
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.mask();
        let mut i = (fp as usize) & mask;
        loop {
            match self.slots[i] {
                0 => return false,
                slot if slot == fp => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }
}

impl FromIterator<u128> for FpTable {
    fn from_iter<I: IntoIterator<Item = u128>>(iter: I) -> FpTable {
        let iter = iter.into_iter();
        let mut table = FpTable::default();
        table.reserve(iter.size_hint().0);
        table.extend(iter);
        table
    }
}

impl Extend<u128> for FpTable {
    fn extend<I: IntoIterator<Item = u128>>(&mut self, iter: I) {
        for fp in iter {
            self.insert(fp);
        }
    }
}

/// A zeroed slot array. The allocation is lazily backed by the kernel (calloc of a
/// large block maps fresh zero pages), so advising huge pages before the first touch
/// lets the kernel back it with 2 MB pages where it can.
fn zeroed_slots(n: usize) -> Vec<u128> {
    let slots = vec![0u128; n];
    advise_huge_pages(&slots);
    slots
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(slots: &[u128]) {
    const HUGE: usize = 2 << 20;
    let start = slots.as_ptr() as usize;
    let end = start + std::mem::size_of_val(slots);
    let from = start.next_multiple_of(HUGE);
    if end > from + HUGE {
        let len = (end - from) / HUGE * HUGE;
        // SAFETY: the range lies inside `slots`' allocation, which stays mapped while
        // the Vec lives; MADV_HUGEPAGE only changes how the kernel backs those pages,
        // never their contents. Failure (no THP support) is harmless and ignored.
        unsafe {
            libc::madvise(from as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: &[u128]) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn agrees_with_a_hash_set_on_new_and_repeated_fingerprints() {
        // Values that collide in their low bits exercise the probing.
        let values: Vec<u128> = (0..5000u128).map(|i| (i % 1700) << 64 | (i % 37)).chain([0, 0, 1, u128::MAX]).collect();
        let mut table = FpTable::default();
        let mut set = HashSet::new();
        let mut got = Vec::new();
        table.insert_all(&values[..3000], |i, new| got.push((i, new)));
        for &fp in &values[3000..] {
            got.push((got.len(), table.insert(fp)));
        }
        let want: Vec<(usize, bool)> = values.iter().enumerate().map(|(i, &fp)| (i, set.insert(fp))).collect();
        assert_eq!(got, want);
        assert_eq!(table.len(), set.len());
        for probe in (0..3000u128).map(|i| i << 64 | (i % 37)) {
            assert_eq!(table.contains(probe), set.contains(&probe), "{probe}");
        }
        assert!(table.contains(0) && !FpTable::default().contains(0) && !FpTable::default().contains(5));
        let probes: Vec<u128> = (0..3000u128).map(|i| i << 64 | (i % 41)).collect();
        let mut held = Vec::new();
        table.contains_all(&probes, |i, h| held.push((i, h)));
        assert_eq!(held, probes.iter().enumerate().map(|(i, p)| (i, set.contains(p))).collect::<Vec<_>>());
        let copy: FpTable = set.iter().copied().collect();
        assert!(copy.len() == set.len() && set.iter().all(|&fp| copy.contains(fp)));
    }

    #[test]
    fn grows_past_its_reservation() {
        let mut table = FpTable::default();
        table.reserve(10);
        let fps: Vec<u128> = (1..=10_000u128).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)).collect();
        for chunk in fps.chunks(700) {
            table.insert_all(chunk, |_, new| assert!(new));
        }
        assert_eq!(table.len(), 10_000);
        assert!(fps.iter().all(|&fp| table.contains(fp)));
        table.insert_all(&fps[..100], |_, new| assert!(!new));
    }
}
