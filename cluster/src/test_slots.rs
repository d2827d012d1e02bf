//! Test slots: how many server-starting tests of one test binary run at once.
//!
//! Each crate's integration tests are one binary (linking 30 binaries costs minutes on two
//! cores), and the test harness runs its tests on as many threads as there are cores. Tests
//! that start clusters take a slot first: [`exclusive`] for the ones whose timing matters
//! (throughput, recovery, a node count), [`shared`] for the ones that may run beside one
//! other (two slots in all). The guard works from sync and async tests alike.

use std::sync::{Condvar, Mutex};

const SLOTS: usize = 2;

static TAKEN: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// Slots held until dropped.
pub struct Slot(usize);

fn take(n: usize) -> Slot {
    let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
    while *taken + n > SLOTS {
        taken = FREED.wait(taken).unwrap_or_else(|p| p.into_inner());
    }
    *taken += n;
    Slot(n)
}

/// The whole machine: no other server-starting test runs meanwhile.
pub fn exclusive() -> Slot {
    take(SLOTS)
}

/// One of two slots: at most one other such test runs meanwhile.
pub fn shared() -> Slot {
    take(1)
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = TAKEN.lock().unwrap_or_else(|p| p.into_inner());
        *taken -= self.0;
        FREED.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_exclusive_slot_waits_for_the_shared_ones() {
        let a = super::shared();
        let t = std::thread::spawn(|| {
            let _x = super::exclusive();
            std::time::Instant::now()
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        let released = std::time::Instant::now();
        drop(a);
        assert!(t.join().unwrap() >= released);
    }
}
