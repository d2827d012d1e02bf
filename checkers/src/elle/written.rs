//! List-append's written index: for each appended `(key, value)`, its [`Written`] facts.
//!
//! Why not a hash map: there is one entry per append of a history (about 1.25 per
//! transaction), and a hash map of `(key, value) -> Written` costs 24 bytes a slot at a
//! load of at most 7/8 rounded up to a power of two, so up to 50 bytes an append, all of
//! it touched at random (about 840 MB and most of the inference time of a ten-million
//! transaction check). Here the entries are one array of 16 bytes each, grouped by key
//! (one small hash map from key to its segment) and sorted by value within a key, built
//! with exact counts: about a third of the memory, and a look-up is a small binary search
//! in one or two cache lines.
//!
//! Duplicate appends of one `(key, value)` (a violated precondition) stay in the array in
//! history order; a look-up finds the last, as a map's `insert` would have kept it.

use super::fx::{map_with_capacity, FxMap};
use super::history::{Mop, Txn};
use super::infer::Written;

/// One append: its value and facts (its key is its segment's).
#[derive(Clone, Copy, Debug)]
struct Entry {
    value: i64,
    w: Written,
}

/// The written index (see the module docs).
#[derive(Default)]
pub struct WrittenIndex {
    /// Per key, its segment of `entries` (start, end).
    keys: FxMap<i64, (u32, u32)>,
    entries: Vec<Entry>,
}

impl WrittenIndex {
    /// The index of every append of `txns`, positions unset ([`super::infer::UNOBSERVED`]).
    pub fn build(txns: &[Txn]) -> WrittenIndex {
        let mut keys: FxMap<i64, (u32, u32)> = map_with_capacity(1024);
        let mut total = 0usize;
        for t in txns {
            for m in t.mops().iter() {
                if let Mop::Append { key, .. } = m {
                    keys.entry(*key).or_insert((0, 0)).1 += 1;
                    total += 1;
                }
            }
        }
        assert!(total < u32::MAX as usize, "at most 2^32 - 1 appends");
        // Segments in key order of the map; `.0` becomes the start, `.1` the fill cursor.
        let mut start = 0u32;
        for seg in keys.values_mut() {
            let n = seg.1;
            *seg = (start, start);
            start += n;
        }
        let blank = Entry {
            value: 0,
            w: Written::new(0, false),
        };
        let mut entries = vec![blank; total];
        for (ti, t) in txns.iter().enumerate() {
            for (mi, m) in t.mops().iter().enumerate() {
                if let Mop::Append { key, value } = m {
                    let last = !t.mops()[mi + 1..]
                        .iter()
                        .any(|m| matches!(m, Mop::Append { key: k, .. } if k == key));
                    let seg = keys.get_mut(key).expect("counted above");
                    entries[seg.1 as usize] = Entry {
                        value: *value,
                        w: Written::new(ti as u32, last),
                    };
                    seg.1 += 1;
                }
            }
        }
        for &(s, e) in keys.values() {
            let seg = &mut entries[s as usize..e as usize];
            // Stable: duplicates keep their history order. Values usually come in order.
            if !seg.is_sorted_by_key(|x| x.value) {
                seg.sort_by_key(|x| x.value);
            }
        }
        WrittenIndex { keys, entries }
    }

    /// The position in `entries` of `(key, value)`'s last append.
    #[inline]
    fn find(&self, key: i64, value: i64) -> Option<usize> {
        let &(s, e) = self.keys.get(&key)?;
        let seg = &self.entries[s as usize..e as usize];
        let p = seg.partition_point(|x| x.value <= value);
        (p > 0 && seg[p - 1].value == value).then(|| s as usize + p - 1)
    }

    #[inline]
    pub fn get(&self, key: i64, value: i64) -> Option<&Written> {
        self.find(key, value).map(|i| &self.entries[i].w)
    }

    #[inline]
    pub fn get_mut(&mut self, key: i64, value: i64) -> Option<&mut Written> {
        self.find(key, value).map(|i| &mut self.entries[i].w)
    }

    /// The `(key, value)`s appended more than once, in no particular order.
    pub fn duplicates(&self) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for (&key, &(s, e)) in &self.keys {
            for pair in self.entries[s as usize..e as usize].windows(2) {
                if pair[0].value == pair[1].value && out.last() != Some(&(key, pair[0].value)) {
                    out.push((key, pair[0].value));
                }
            }
        }
        out
    }

    /// Sets the positions of each key's version order (elements not appended are skipped).
    pub fn set_positions(&mut self, order: &FxMap<i64, Vec<i64>>) {
        for (&key, ord) in order {
            for (i, v) in ord.iter().enumerate() {
                if let Some(w) = self.get_mut(key, *v) {
                    w.set_pos(i as u32);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elle::history::TxnBuilder;
    use faultline_core::{OpType, Process};

    fn txns(all: Vec<Vec<Mop>>) -> Vec<Txn> {
        let mut b = TxnBuilder::default();
        for (i, mops) in all.into_iter().enumerate() {
            let p = Process::Client(0);
            b.push(2 * i as u64, p, OpType::Invoke, "txn", Some(mops.clone()));
            b.push(2 * i as u64 + 1, p, OpType::Ok, "txn", Some(mops));
        }
        b.finish().txns
    }

    fn append(key: i64, value: i64) -> Mop {
        Mop::Append { key, value }
    }

    #[test]
    fn finds_every_append_and_the_last_duplicate() {
        let txns = txns(vec![
            vec![append(1, 5), append(2, 1), append(1, 3)],
            vec![append(1, 4), append(2, 1)],
            vec![append(3, -7)],
        ]);
        let mut w = WrittenIndex::build(&txns);
        assert_eq!(
            w.get(1, 5).map(|x| (x.writer, x.last_in_txn())),
            Some((0, false))
        );
        assert_eq!(
            w.get(1, 3).map(|x| (x.writer, x.last_in_txn())),
            Some((0, true))
        );
        assert_eq!(w.get(1, 4).map(|x| x.writer), Some(1));
        assert_eq!(w.get(2, 1).map(|x| x.writer), Some(1), "the later one wins");
        assert_eq!(w.get(3, -7).map(|x| x.writer), Some(2));
        assert!(w.get(1, 6).is_none() && w.get(4, 1).is_none() && w.get(1, 0).is_none());
        assert_eq!(w.duplicates(), vec![(2, 1)]);
        let mut order = FxMap::default();
        order.insert(1, vec![3, 4, 9]);
        w.set_positions(&order);
        assert_eq!(w.get(1, 4).map(|x| x.pos()), Some(1));
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }
}
