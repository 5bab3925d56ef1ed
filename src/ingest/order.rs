//! The lake's row order, written once: by time, then id (as bytes). Interviews are
//! sorted by (`scheduled_at`, `interview_id`), events by (`ts`, `event_id`)
//! ([`crate::schema::InterviewColumn::ORDER`], [`crate::schema::EventColumn::ORDER`]);
//! the same rows therefore give the same files, whatever order they were read in.
//!
//! The time and the id's first sixteen bytes travel with the item, so the sort compares
//! integers in contiguous memory; full ids are looked up only when both tie. Sixteen,
//! not eight: events' times are mostly whole seconds, so many tie, and their ids often
//! share a long start (`100000001-00`, `100000001-01`): with eight bytes a third of an
//! ingest's sort comparisons went to decoding both full ids.

use crate::time::Micros;

/// The sort key of one item: its time, its id's prefix and where the item is (a row
/// number of a column store, or a record's byte offset in a spill buffer).
#[derive(Debug, Clone, Copy)]
pub struct SortKey {
    pub ts: Micros,
    pub id_prefix: u128,
    pub at: u64,
}

impl SortKey {
    pub fn new(ts: Micros, id: &[u8], at: u64) -> SortKey {
        SortKey { ts, id_prefix: id_prefix(id), at }
    }
}

/// The first sixteen bytes of an id, big-endian and zero-padded, so that it orders
/// like the bytes.
pub fn id_prefix(id: &[u8]) -> u128 {
    let mut a = [0u8; 16];
    let n = id.len().min(16);
    a[..n].copy_from_slice(&id[..n]);
    u128::from_be_bytes(a)
}

/// Sorts `keys` by (time, id); `id_at` gives the full id of an item (by its `at`).
pub fn sort_by_time_then_id<'a>(keys: &mut [SortKey], id_at: impl Fn(u64) -> &'a [u8]) {
    keys.sort_unstable_by(|a, b| a.ts.cmp(&b.ts).then(a.id_prefix.cmp(&b.id_prefix)).then_with(|| id_at(a.at).cmp(id_at(b.at))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_prefix_orders_like_bytes() {
        let ids: [&[u8]; 8] = [b"", b"\0", b"a", b"a\0", b"a\x01", b"abcdefghijklmnop", b"abcdefghijklmnoq", b"abcdefghz"];
        for w in ids.windows(2) {
            assert!(id_prefix(w[0]) <= id_prefix(w[1]), "{:?} {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn ties_on_time_and_prefix_fall_to_the_full_id() {
        let ids: [&[u8]; 4] = [b"b-very-long-id-number-2", b"b-very-long-id-number-10", b"a", b"z"];
        let times = [5, 5, 5, 1];
        let mut keys: Vec<SortKey> = ids.iter().zip(times).enumerate().map(|(i, (id, t))| SortKey::new(t, id, i as u64)).collect();
        sort_by_time_then_id(&mut keys, |at| ids[at as usize]);
        let order: Vec<u64> = keys.iter().map(|k| k.at).collect();
        assert_eq!(order, vec![3, 2, 1, 0]);
    }
}
