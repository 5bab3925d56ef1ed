//! Interview id → row number, for the one lookup per event that the report's event
//! facts and the model's features make (17.6 million lookups among a million ids at a
//! million interviews).
//!
//! A `HashMap<&str, u32>` spent about 16 % of a report's CPU time there: the events
//! are in time order, so consecutive lookups land anywhere in the map and each one
//! waits for a cache miss or two before the next starts. [`IdRows::rows_of`] takes
//! the whole column instead and works in a pipeline, like the ingest's
//! fingerprint set (`ingest::fpset`): it hashes every id first, then, while it
//! resolves id `i`, prefetches the slot of id `i + 2·AHEAD` and the stored text of
//! the candidate for id `i + AHEAD`, so the misses of many lookups overlap.
//!
//! The answer is exact: a slot holds 32 bits of the hash as a tag and the row, and a
//! tag that matches is confirmed by comparing the id's bytes with the stored text.

use xxhash_rust::xxh3::xxh3_64;

/// How far ahead the prefetches run (twice this for the slot).
const AHEAD: usize = 8;

/// Row number of an empty slot.
const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
struct Slot {
    tag: u32,
    row: u32,
    /// Where the id's text starts in `IdRows::text`.
    start: u64,
}

const EMPTY_SLOT: Slot = Slot { tag: 0, row: EMPTY, start: 0 };

/// Ids by row, hashed into an open-addressing table with linear probing.
#[derive(Debug)]
pub struct IdRows {
    slots: Vec<Slot>,
    mask: usize,
    /// Each id as its length (4 bytes, little-endian) and its bytes, back to back.
    text: Vec<u8>,
}

#[inline]
fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

impl IdRows {
    /// The table of `ids`, where `ids[i]` is the id of row `i` (`None`: a row no event
    /// can match). An id that repeats keeps its first row.
    pub fn new<'a>(ids: impl ExactSizeIterator<Item = Option<&'a str>>) -> IdRows {
        let n = ids.len();
        let size = (n.max(4) * 2).next_power_of_two();
        let mut table = IdRows { slots: vec![EMPTY_SLOT; size], mask: size - 1, text: Vec::with_capacity(n * 20) };
        for (row, id) in ids.enumerate() {
            let Some(id) = id else { continue };
            let hash = xxh3_64(id.as_bytes());
            if let Err(free) = table.probe(hash, id.as_bytes()) {
                let start = table.text.len() as u64;
                table.text.extend_from_slice(&(id.len() as u32).to_le_bytes());
                table.text.extend_from_slice(id.as_bytes());
                table.slots[free] = Slot { tag: tag_of(hash), row: row as u32, start };
            }
        }
        table
    }

    /// The row holding `id` (hashed to `hash`), or the free slot where it would go.
    #[inline]
    fn probe(&self, hash: u64, id: &[u8]) -> Result<u32, usize> {
        let (tag, mut i) = (tag_of(hash), hash as usize & self.mask);
        loop {
            let slot = self.slots[i];
            if slot.row == EMPTY {
                return Err(i);
            }
            if slot.tag == tag && self.stored(slot) == id {
                return Ok(slot.row);
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    fn stored(&self, slot: Slot) -> &[u8] {
        let at = slot.start as usize;
        let len = u32::from_le_bytes([self.text[at], self.text[at + 1], self.text[at + 2], self.text[at + 3]]) as usize;
        &self.text[at + 4..at + 4 + len]
    }

    /// The row of one id.
    pub fn get(&self, id: &str) -> Option<u32> {
        self.find(xxh3_64(id.as_bytes()), id.as_bytes())
    }

    #[inline]
    fn find(&self, hash: u64, id: &[u8]) -> Option<u32> {
        self.probe(hash, id).ok()
    }

    /// The row of each id of `ids`, in order (`None` for a null or an unknown id).
    /// `ids` is walked twice: once to hash, once to compare.
    pub fn rows_of<'a, I>(&self, ids: impl Fn() -> I, mut found: impl FnMut(usize, Option<u32>))
    where
        I: Iterator<Item = Option<&'a str>>,
    {
        const NO_ID: u64 = 0;
        // A hash of 0 stands for a missing id; an id that hashes to 0 is looked up
        // directly (never prefetched), so it still gets its answer.
        let hashes: Vec<u64> = ids().map(|id| id.map_or(NO_ID, |id| xxh3_64(id.as_bytes()))).collect();
        for (i, id) in ids().enumerate() {
            if let Some(&h) = hashes.get(i + 2 * AHEAD) {
                if h != NO_ID {
                    prefetch(&self.slots[h as usize & self.mask]);
                }
            }
            if let Some(&h) = hashes.get(i + AHEAD) {
                if h != NO_ID {
                    let slot = self.slots[h as usize & self.mask];
                    if slot.row != EMPTY && slot.tag == tag_of(h) {
                        prefetch(&self.text[slot.start as usize]);
                    }
                }
            }
            found(i, id.and_then(|id| self.find(hashes[i], id.as_bytes())));
        }
    }

    /// The row of each id of `ids` ([`IdRows::rows_of`]), both cores taking half of a
    /// long column.
    pub fn rows_of_column(&self, ids: &polars::prelude::StringChunked) -> Vec<Option<u32>> {
        let n = ids.len();
        let threads = if n < 1 << 16 { 1 } else { std::thread::available_parallelism().map_or(1, |t| t.get()).clamp(1, 8) };
        let per = n.div_ceil(threads).max(1);
        let parts: Vec<Vec<Option<u32>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n.div_ceil(per))
                .map(|t| {
                    let part = ids.slice((t * per) as i64, per.min(n - t * per));
                    scope.spawn(move || {
                        let mut rows = Vec::with_capacity(part.len());
                        self.rows_of(|| part.iter(), |_, row| rows.push(row));
                        rows
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
        });
        parts.concat()
    }
}

/// Asks the CPU to bring `at`'s cache line in (the ingest's fingerprint set uses it
/// too); it changes nothing any code reads.
#[inline]
pub(crate) fn prefetch<T>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of x86_64's baseline, and a prefetch of any address
        // neither faults nor changes memory (this one is a live element besides).
        unsafe { _mm_prefetch::<_MM_HINT_T0>((at as *const T).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_each_id_and_nothing_else() {
        let ids = [Some("iv-1"), None, Some("iv-2"), Some(""), Some("iv-1"), Some("面试-3")];
        let table = IdRows::new(ids.iter().copied());
        assert_eq!(table.get("iv-1"), Some(0), "a repeated id keeps its first row");
        assert_eq!(table.get("iv-2"), Some(2));
        assert_eq!(table.get(""), Some(3));
        assert_eq!(table.get("面试-3"), Some(5));
        assert_eq!(table.get("iv-3"), None);
        assert_eq!(table.get("iv-"), None);
        let wanted = [Some("面试-3"), None, Some("nope"), Some("iv-2"), Some("")];
        let mut got = Vec::new();
        table.rows_of(|| wanted.iter().copied(), |i, row| got.push((i, row)));
        assert_eq!(got, vec![(0, Some(5)), (1, None), (2, None), (3, Some(2)), (4, Some(3))]);
    }

    proptest! {
        /// The same rows as a `HashMap` keeping each id's first row, for ids drawn
        /// from a small alphabet so repeats and near misses are common.
        #[test]
        fn agrees_with_a_hash_map(rows in proptest::collection::vec(proptest::option::of("[ab]{0,4}"), 0..200),
                                  probes in proptest::collection::vec(proptest::option::of("[abc]{0,5}"), 0..300)) {
            let table = IdRows::new(rows.iter().map(|r| r.as_deref()));
            let mut map = std::collections::HashMap::new();
            for (i, r) in rows.iter().enumerate() {
                if let Some(r) = r {
                    map.entry(r.as_str()).or_insert(i as u32);
                }
            }
            let mut got = Vec::new();
            table.rows_of(|| probes.iter().map(|p| p.as_deref()), |i, row| got.push((i, row)));
            let want: Vec<_> = probes.iter().enumerate().map(|(i, p)| (i, p.as_deref().and_then(|p| map.get(p).copied()))).collect();
            prop_assert_eq!(got, want);
        }
    }
}
