//! The fault switch of one node's disk: which [`DiskFault`] is on, and what it does to one
//! file operation. Shared between the FUSE threads (which ask [`FaultSwitch::check`] before
//! each operation) and the cluster (which flips it while the file system is mounted).

use faultline_core::db::DiskFault;
use rand::Rng;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// What kind of file operation is being asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Read,
    Write,
    Sync,
    /// Creates a name: create, mkdir, symlink, link.
    Create,
    /// Anything else: lookup, getattr, readdir, rename, unlink, statfs, ...
    Meta,
}

/// One node's switch; clones share it.
#[derive(Clone, Debug, Default)]
pub struct FaultSwitch {
    inner: Arc<(Mutex<DiskFault>, Condvar)>,
}

impl FaultSwitch {
    pub fn set(&self, fault: DiskFault) {
        let (lock, healed) = &*self.inner;
        *lock.lock().unwrap() = fault;
        healed.notify_all();
    }

    pub fn get(&self) -> DiskFault {
        *self.inner.0.lock().unwrap()
    }

    /// Applies the fault to one operation: waits out a hang, sleeps a delay, or returns the
    /// errno the operation must fail with. `grows` says whether a write grows its file; it
    /// is asked only while the disk is full.
    pub fn check(&self, op: Op, grows: impl FnOnce() -> bool) -> Result<(), i32> {
        let fault = {
            let (lock, healed) = &*self.inner;
            let mut fault = lock.lock().unwrap();
            while *fault == DiskFault::Hang {
                fault = healed.wait(fault).unwrap();
            }
            *fault
        };
        match fault {
            DiskFault::None | DiskFault::Hang => Ok(()),
            DiskFault::Delay { ms } => {
                if matches!(op, Op::Read | Op::Write | Op::Sync) {
                    std::thread::sleep(Duration::from_millis(ms));
                }
                Ok(())
            }
            DiskFault::Error { percent } => {
                let hit = matches!(op, Op::Write | Op::Sync)
                    && rand::rng().random_range(0..100u8) < percent;
                if hit {
                    Err(libc::EIO)
                } else {
                    Ok(())
                }
            }
            DiskFault::Full => {
                if op == Op::Create || (op == Op::Write && grows()) {
                    Err(libc::ENOSPC)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// True while the disk says it has no free space (statfs reports 0 free blocks).
    pub fn full(&self) -> bool {
        self.get() == DiskFault::Full
    }
}

#[cfg(test)]
mod tests {
    // Logic only: no file system is mounted here.
    use super::*;
    use std::time::Instant;

    #[test]
    fn each_fault_hits_the_operations_it_names() {
        let s = FaultSwitch::default();
        assert_eq!(s.check(Op::Write, || true), Ok(()));
        s.set(DiskFault::Error { percent: 100 });
        assert_eq!(s.check(Op::Write, || false), Err(libc::EIO));
        assert_eq!(s.check(Op::Sync, || false), Err(libc::EIO));
        assert_eq!(s.check(Op::Read, || false), Ok(()));
        s.set(DiskFault::Error { percent: 0 });
        assert_eq!(s.check(Op::Write, || false), Ok(()));
        s.set(DiskFault::Full);
        assert!(s.full());
        assert_eq!(s.check(Op::Write, || true), Err(libc::ENOSPC));
        assert_eq!(s.check(Op::Write, || false), Ok(()), "overwrites still fit");
        assert_eq!(s.check(Op::Create, || false), Err(libc::ENOSPC));
        assert_eq!(s.check(Op::Meta, || true), Ok(()));
        s.set(DiskFault::Delay { ms: 30 });
        let t = Instant::now();
        s.check(Op::Sync, || false).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(30));
        let t = Instant::now();
        s.check(Op::Meta, || false).unwrap();
        assert!(t.elapsed() < Duration::from_millis(30));
    }

    #[test]
    fn a_hung_operation_completes_after_the_heal() {
        let s = FaultSwitch::default();
        s.set(DiskFault::Hang);
        let worker = {
            let s = s.clone();
            std::thread::spawn(move || s.check(Op::Read, || false))
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(!worker.is_finished(), "the op must block while hung");
        s.set(DiskFault::None);
        assert_eq!(worker.join().unwrap(), Ok(()));
    }
}
