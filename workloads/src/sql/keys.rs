//! The key pool every keyed workload draws from: a fixed number of live slots, each holding
//! a key and a count of what was done to it; when a slot's count reaches the workload's cap
//! its key is retired for good and a fresh key takes the slot. Retiring keys keeps each
//! key's history short (the linearizability checker is exponential in a key's concurrency,
//! Elle's inference wants small version orders) while the run goes on as long as it likes.
//! Shared by the main generator and the final reads, which read every key ever used.

use rand::Rng;

#[derive(Debug)]
pub struct KeyPool {
    /// `(key, count so far)` per live slot.
    live: Vec<(i64, i64)>,
    /// The next fresh key; every key below it has been used.
    next: i64,
}

impl KeyPool {
    /// `slots` live keys, `0..slots`.
    pub fn new(slots: usize) -> Self {
        let slots = slots.max(1) as i64;
        KeyPool {
            live: (0..slots).map(|k| (k, 0)).collect(),
            next: slots,
        }
    }

    /// Keys used so far: `0..used()`.
    pub fn used(&self) -> i64 {
        self.next
    }

    /// A random live slot.
    pub fn choose(&self, rng: &mut impl Rng) -> usize {
        rng.random_range(0..self.live.len())
    }

    /// The key in `slot`.
    pub fn key(&self, slot: usize) -> i64 {
        self.live[slot].0
    }

    /// Counts one more on `slot`'s key and returns the new count; the key retires when the
    /// count reaches `cap`.
    pub fn bump(&mut self, slot: usize, cap: usize) -> i64 {
        self.live[slot].1 += 1;
        let n = self.live[slot].1;
        if n >= cap.max(1) as i64 {
            self.live[slot] = (self.next, 0);
            self.next += 1;
        }
        n
    }

    /// A random live key, counting one op on it.
    pub fn touch(&mut self, rng: &mut impl Rng, cap: usize) -> i64 {
        let slot = self.choose(rng);
        let key = self.key(slot);
        self.bump(slot, cap);
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn keys_retire_after_the_cap_and_fresh_ones_take_their_slots() {
        let mut keys = KeyPool::new(2);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut counts = std::collections::BTreeMap::new();
        for _ in 0..100 {
            *counts.entry(keys.touch(&mut rng, 10)).or_insert(0) += 1;
        }
        assert!(counts.values().all(|&n| n <= 10), "{counts:?}");
        let retired = counts.values().filter(|&&n| n == 10).count();
        assert!(retired >= 9, "{counts:?}");
        assert_eq!(keys.used() as usize, 2 + retired);
        assert!(counts.keys().all(|&k| k < keys.used()));
    }
}
