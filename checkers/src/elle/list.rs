//! List reads' elements, stored shared: a read is a range of a reference-counted buffer.
//!
//! Why: in a list-append history almost every read of a key is a prefix of a later,
//! longer read of it, so storing each read whole costs far more memory than the history
//! has distinct elements (about 170 MB of a million-transaction check, in millions of
//! allocations of a few dozen bytes). The history reader parses a block's reads into one
//! [`Pool`], then [`Pool::share`] gives each key one buffer, its longest read of the
//! block, and points every read that is a prefix of it there; only reads that are not (an
//! anomaly the checker will report) get buffers of their own. What a read holds never
//! changes, only where it is stored.
//!
//! A [`List`] is 16 bytes (a thin pointer and a length: every read is a prefix of its
//! buffer), not the 24 of a slice range. Its last bytes would be padding; one of them is a
//! `Niche` instead, a byte with a single valid value, and the compiler keeps the tags of
//! [`ReadValue`] and [`Mop`] in its invalid values, so a read value is 16 bytes and a
//! micro-op 24 (each was 8 more with the tags beside the data). Over the 25 million
//! micro-ops of a ten-million-transaction check that is 200 MB. All safe Rust: the layout
//! is the compiler's, and a test asserts the sizes.

use super::fx::FxMap;
use super::history::{Mop, ReadValue};
use std::sync::Arc;

/// A shared buffer of list elements: a thin pointer (the slice's length lives in the box).
type Buf = Arc<Box<[i64]>>;

/// The elements of a list read, oldest first (derefs to `[i64]`): the first `len`
/// elements of a shared buffer.
#[derive(Clone)]
pub struct List {
    buf: Buf,
    len: u32,
    #[expect(dead_code, reason = "never read: it is there for its invalid values")]
    niche: Niche,
}

/// A byte that is always zero, in what would be `List`'s padding: its 255 other values
/// are where `ReadValue` and `Mop` keep their tags (see the module docs).
#[derive(Clone, Copy)]
#[repr(u8)]
enum Niche {
    Zero = 0,
}

impl List {
    /// A list with a buffer of its own.
    pub fn new(xs: &[i64]) -> List {
        List {
            buf: Arc::new(xs.into()),
            len: xs.len() as u32,
            niche: Niche::Zero,
        }
    }
}

impl std::ops::Deref for List {
    type Target = [i64];
    fn deref(&self) -> &[i64] {
        &self.buf[..self.len as usize]
    }
}

impl From<Vec<i64>> for List {
    fn from(v: Vec<i64>) -> List {
        List::new(&v)
    }
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        **self == **other
    }
}

impl Eq for List {}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The elements of a block's list reads while the block is parsed. Lists made by
/// [`Pool::list`] are pending (their buffer is the pool's empty marker and their `len` the
/// number of their range in `ranges`): they must go through [`Pool::share`] before
/// anything reads them.
pub struct Pool {
    ints: Vec<i64>,
    ranges: Vec<(u32, u32)>,
    pending: Buf,
}

impl Default for Pool {
    fn default() -> Pool {
        Pool {
            ints: Vec::new(),
            ranges: Vec::new(),
            pending: Arc::new(Box::new([])),
        }
    }
}

impl Pool {
    /// Starts a list at the end of the pool; [`Pool::push_int`] adds its elements.
    pub fn start(&self) -> usize {
        self.ints.len()
    }

    pub fn push_int(&mut self, x: i64) {
        self.ints.push(x);
    }

    /// The pending list of the elements pushed since `start`.
    pub fn list(&mut self, start: usize) -> List {
        self.ranges.push((start as u32, self.ints.len() as u32));
        List {
            buf: Arc::clone(&self.pending),
            len: (self.ranges.len() - 1) as u32,
            niche: Niche::Zero,
        }
    }

    /// What `l` holds, pending or not.
    fn content<'a>(&'a self, l: &'a List) -> &'a [i64] {
        if Arc::ptr_eq(&l.buf, &self.pending) {
            let (s, e) = self.ranges[l.len as usize];
            &self.ints[s as usize..e as usize]
        } else {
            l
        }
    }

    /// Resolves the pending lists of `batch` and shares buffers per key (see the module
    /// docs); empties the pool.
    pub fn share(&mut self, batch: &mut [&mut Vec<Mop>]) {
        let pool = &*self;
        // Per key, where its longest read is: (batch entry, micro-op).
        let mut longest: FxMap<i64, (usize, usize)> = FxMap::default();
        for (bi, ms) in batch.iter().enumerate() {
            for (mi, m) in ms.iter().enumerate() {
                let Mop::Read {
                    key,
                    value: ReadValue::List(l),
                } = m
                else {
                    continue;
                };
                let c = pool.content(l);
                match longest.get_mut(key) {
                    Some(best) => {
                        let Mop::Read {
                            value: ReadValue::List(b),
                            ..
                        } = &batch[best.0][best.1]
                        else {
                            unreachable!("longest points at a list read")
                        };
                        let b = pool.content(b);
                        if c.len() > b.len() && c.starts_with(b) {
                            *best = (bi, mi);
                        }
                    }
                    None => {
                        longest.insert(*key, (bi, mi));
                    }
                }
            }
        }
        let bufs: FxMap<i64, List> = longest
            .into_iter()
            .map(|(key, (bi, mi))| {
                let Mop::Read {
                    value: ReadValue::List(l),
                    ..
                } = &batch[bi][mi]
                else {
                    unreachable!("longest points at a list read")
                };
                let shared = if Arc::ptr_eq(&l.buf, &pool.pending) {
                    List::new(pool.content(l))
                } else {
                    l.clone()
                };
                (key, shared)
            })
            .collect();
        for ms in batch.iter_mut() {
            for m in ms.iter_mut() {
                let Mop::Read {
                    key,
                    value: ReadValue::List(l),
                } = m
                else {
                    continue;
                };
                let best = &bufs[key];
                let c = pool.content(l);
                if best.starts_with(c) {
                    let len = c.len() as u32;
                    *l = List {
                        buf: Arc::clone(&best.buf),
                        len,
                        niche: Niche::Zero,
                    };
                } else if Arc::ptr_eq(&l.buf, &pool.pending) {
                    *l = List::new(c);
                }
            }
        }
        self.ints.clear();
        self.ranges.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(key: i64, l: List) -> Mop {
        Mop::Read {
            key,
            value: ReadValue::List(l),
        }
    }

    fn pending(pool: &mut Pool, xs: &[i64]) -> List {
        let s = pool.start();
        for &x in xs {
            pool.push_int(x);
        }
        pool.list(s)
    }

    #[test]
    fn prefixes_share_one_buffer_and_contents_never_change() {
        let mut pool = Pool::default();
        let mut a = vec![
            read(1, pending(&mut pool, &[1, 2])),
            read(2, pending(&mut pool, &[9])),
        ];
        let mut b = vec![read(1, pending(&mut pool, &[1, 2, 3]))];
        let mut c = vec![read(1, pending(&mut pool, &[1, 5]))];
        let mut d = vec![read(1, List::new(&[1]))];
        pool.share(&mut [&mut a, &mut b, &mut c, &mut d]);
        let lists: Vec<&List> = [&a[0], &a[1], &b[0], &c[0], &d[0]]
            .iter()
            .map(|m| match m {
                Mop::Read {
                    value: ReadValue::List(l),
                    ..
                } => l,
                _ => unreachable!(),
            })
            .collect();
        let got: Vec<Vec<i64>> = lists.iter().map(|l| l.to_vec()).collect();
        assert_eq!(
            got,
            vec![vec![1, 2], vec![9], vec![1, 2, 3], vec![1, 5], vec![1]]
        );
        assert!(
            Arc::ptr_eq(&lists[0].buf, &lists[2].buf),
            "[1 2] is a prefix of [1 2 3]"
        );
        assert!(Arc::ptr_eq(&lists[4].buf, &lists[2].buf));
        assert!(!Arc::ptr_eq(&lists[3].buf, &lists[2].buf), "[1 5] is not");
        assert!(pool.ints.is_empty() && pool.ranges.is_empty());
    }

    #[test]
    fn tags_live_in_the_niche_byte() {
        assert_eq!(std::mem::size_of::<List>(), 16);
        assert_eq!(std::mem::size_of::<ReadValue>(), 16);
        assert_eq!(std::mem::size_of::<Mop>(), 24);
        // Every variant and its fields read back through the shared byte.
        let mops = [
            Mop::Append {
                key: -1,
                value: i64::MIN,
            },
            Mop::Write {
                key: i64::MAX,
                value: -1,
            },
            Mop::Read {
                key: 0,
                value: ReadValue::Nil,
            },
            Mop::Read {
                key: 7,
                value: ReadValue::Int(i64::MIN),
            },
            Mop::Read {
                key: -7,
                value: ReadValue::List(List::new(&[1, 2, 3])),
            },
        ];
        let got: Vec<String> = mops.iter().map(|m| m.to_json().to_string()).collect();
        let min = i64::MIN;
        let max = i64::MAX;
        let want = [
            format!(r#"["append",-1,{min}]"#),
            format!(r#"["w",{max},-1]"#),
            r#"["r",0,null]"#.to_string(),
            format!(r#"["r",7,{min}]"#),
            r#"["r",-7,[1,2,3]]"#.to_string(),
        ];
        assert_eq!(got, want);
        assert_eq!(mops.clone(), mops);
    }
}
