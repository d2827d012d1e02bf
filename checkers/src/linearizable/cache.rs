//! The memo of visited `(linearized set, model state)` configurations.
//!
//! Entries live in one flat arena of `u64` words (the bitset words, then the state), and an
//! open-addressing table of `(hash, entry)` slots points into it, so an insert allocates
//! nothing but amortised arena growth. The caller supplies the hash (the search keeps a
//! Zobrist hash of the bitset up to date in O(1) per step). [`Cache::bytes`] is what the
//! memory budget counts.
//!
//! Slots carry the generation of the search that filled them, so emptying the cache for
//! the next key is O(1): a slot of an older generation is free. The table keeps the size
//! the previous key grew it to (a worker's keys are alike), without clearing it.

/// One table slot: the configuration's hash, its entry in the arena, and the generation
/// that wrote it (16 bytes, as `(u64, u32)` alone would be with its padding).
#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    entry: u32,
    generation: u32,
}

/// A slot no search has written (generation 0 is never current).
const FREE: Slot = Slot {
    hash: 0,
    entry: 0,
    generation: 0,
};

pub(crate) struct Cache {
    words: usize,
    arena: Vec<u64>,
    /// A slot is in use when its generation is the current one.
    slots: Vec<Slot>,
    generation: u32,
    mask: usize,
    len: usize,
}

impl Cache {
    /// A cache for bitsets of `words` 64-bit words, sized for a search over `ops` ops that
    /// does not backtrack much (it grows as needed).
    pub fn new(words: usize, ops: usize) -> Self {
        let cap = Self::capacity(ops);
        Cache {
            words,
            arena: Vec::with_capacity(cap / 2 * (words + 1)),
            slots: vec![FREE; cap],
            generation: 1,
            mask: cap - 1,
            len: 0,
        }
    }

    /// Empties the cache for a new search over `ops` ops with bitsets of `words` words,
    /// keeping the allocations and the table's size (at least what [`Cache::new`] gives).
    pub fn reset(&mut self, words: usize, ops: usize) {
        let cap = Self::capacity(ops);
        self.words = words;
        self.arena.clear();
        self.len = 0;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Once in 2^32 searches: really clear, so no slot looks current by accident.
            self.slots.fill(FREE);
            self.generation = 1;
        }
        if self.slots.len() < cap {
            self.slots.resize(cap, FREE);
        }
        self.mask = self.slots.len() - 1;
    }

    fn capacity(ops: usize) -> usize {
        (2 * ops).clamp(64, 1 << 12).next_power_of_two()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the arena and the table.
    pub fn bytes(&self) -> usize {
        self.arena.capacity() * 8 + self.slots.capacity() * 16
    }

    /// Whether the next insert may reallocate, and the bytes held after that growth.
    #[inline]
    pub fn growth(&self) -> Option<usize> {
        let stride = self.words + 1;
        let arena_full = self.arena.len() + stride > self.arena.capacity();
        let table_full = (self.len + 1) * 2 > self.slots.len();
        if !arena_full && !table_full {
            return None;
        }
        let arena = if arena_full {
            self.arena.capacity() * 2
        } else {
            self.arena.capacity()
        };
        let slots = if table_full {
            self.grown_slots()
        } else {
            self.slots.len()
        };
        Some(arena.max(stride) * 8 + slots * 16)
    }

    /// Inserts `(bits, state)` unless present; returns whether it was new.
    #[inline(always)]
    pub fn insert(&mut self, bits: &[u64], state: u64, hash: u64) -> bool {
        debug_assert_eq!(bits.len(), self.words);
        let stride = self.words + 1;
        let mut i = (hash as usize) & self.mask;
        loop {
            let slot = self.slots[i];
            if slot.generation != self.generation {
                break;
            }
            if slot.hash == hash {
                let at = slot.entry as usize * stride;
                let entry = &self.arena[at..at + stride];
                // An inline loop: the bitsets are mostly a word or two, shorter than a
                // call to memcmp.
                if entry[self.words] == state && entry[..self.words].iter().eq(bits) {
                    return false;
                }
            }
            i = (i + 1) & self.mask;
        }
        let e = self.len as u32;
        if self.arena.len() + stride > self.arena.capacity() {
            self.arena.reserve_exact(self.arena.capacity().max(stride));
        }
        self.arena.extend_from_slice(bits);
        self.arena.push(state);
        self.slots[i] = Slot {
            hash,
            entry: e,
            generation: self.generation,
        };
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    /// The table grows fourfold while small (fewer rehashes for the many searches that
    /// end within a few thousand configurations), then twofold.
    fn grown_slots(&self) -> usize {
        if self.slots.len() < 1 << 16 {
            self.slots.len() * 4
        } else {
            self.slots.len() * 2
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let cap = self.grown_slots();
        let old = std::mem::replace(&mut self.slots, vec![FREE; cap]);
        self.mask = cap - 1;
        for slot in old {
            if slot.generation != self.generation {
                continue;
            }
            let mut i = (slot.hash as usize) & self.mask;
            while self.slots[i].generation == self.generation {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_once_and_survives_growth() {
        let mut c = Cache::new(2, 0);
        for i in 0..5000u64 {
            // Deliberately poor hashes: many collisions.
            assert!(c.insert(&[i, i / 3], i % 7, i % 13));
        }
        for i in 0..5000u64 {
            assert!(!c.insert(&[i, i / 3], i % 7, i % 13));
            assert!(c.insert(&[i, i / 3], 100 + i, i % 13));
        }
        assert_eq!(c.len(), 10000);
        assert!(c.bytes() >= 10000 * 24);
    }

    #[test]
    fn a_reset_forgets_everything_and_keeps_the_grown_table() {
        let mut c = Cache::new(1, 10);
        for i in 0..1000u64 {
            assert!(c.insert(&[i], 0, i));
        }
        let grown = c.slots.len();
        assert!(grown > Cache::capacity(10));
        for round in 0..3 {
            c.reset(1, 10);
            assert_eq!(c.len(), 0);
            assert_eq!(c.slots.len(), grown, "round {round}");
            // What the last search memoised is new to this one, once.
            for i in 0..1000u64 {
                assert!(c.insert(&[i], 0, i), "round {round}: {i} seen");
                assert!(!c.insert(&[i], 0, i));
            }
        }
        // A reset that needs a bigger table than the kept one grows it.
        c.reset(1, 100_000);
        assert_eq!(c.slots.len(), Cache::capacity(100_000).max(grown));
        // The generation wraps: a real clear, then the slots are free again.
        c.generation = u32::MAX;
        c.insert(&[7], 0, 7);
        c.reset(1, 10);
        assert_eq!(c.generation, 1);
        assert!(c.insert(&[7], 0, 7));
    }
}
