//! Sequential specifications the search checks against, and a fast hasher.
//!
//! Every model state is a `u64` so the search can memoise `(linearized set, state)` pairs as
//! plain words: register values are interned per key (`0` is nil, nothing written yet), and
//! the key-value map interns its strings and whole maps, with a memo of transitions so the
//! hot loop does one table look-up per write-like step.
//!
//! Models:
//! - register: `read` (must see the current value) and `write`;
//! - cas-register: register plus `cas(old, new)` that succeeds only on `old`; an indeterminate
//!   cas may have swapped or not; an observed failed compare (`"swapped": false`, Porcupine's
//!   etcd semantics) asserts the value was not `old`;
//! - kv: Porcupine's key-value map with `get`, `put` and `append` on string values; a missing
//!   key reads as the empty string. Partitioned (one search per key) or not (one search over
//!   the whole map, Porcupine's "unpartitioned" variant, far slower; for comparison only).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Register value id of nil (nothing written yet).
pub(crate) const NIL: u64 = 0;

/// A sequential object the search steps through. `step` returns the next state when `op` is
/// legal in `state`. Models take `&mut self` so they can intern and memoise as they go.
pub(crate) trait SeqModel {
    type Op: Copy + Send + Sync;
    fn init(&self) -> u64;
    fn step(&mut self, state: u64, op: &Self::Op) -> Option<u64>;
    /// A short human-readable rendering of a state, for counterexamples.
    fn describe_state(&self, state: u64) -> String;
    /// Whether `op` never changes the state (a read): if legal now, it may be linearized
    /// now without loss of generality.
    fn read_only(op: &Self::Op) -> bool;
    /// Whether two ops have the same effect in every state (interchangeable).
    fn same_effect(a: &Self::Op, b: &Self::Op) -> bool;
}

/// A register op over interned value ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RegOp {
    Read(u64),
    Write(u64),
    /// A cas that definitely swapped.
    Cas {
        old: u64,
        new: u64,
    },
    /// A cas whose outcome is unknown: swaps if the value is `old`, otherwise changes nothing.
    CasMaybe {
        old: u64,
        new: u64,
    },
    /// A cas observed to fail its compare: the value was not `old`.
    CasFailed {
        old: u64,
    },
}

/// Register and cas-register: the state is the id of the current value.
pub(crate) struct RegisterModel {
    pub init: u64,
    /// Value id -> rendered value, for counterexamples (index 0 is nil).
    pub names: Vec<String>,
}

impl SeqModel for RegisterModel {
    type Op = RegOp;
    fn init(&self) -> u64 {
        self.init
    }
    #[inline]
    fn step(&mut self, state: u64, op: &RegOp) -> Option<u64> {
        match *op {
            RegOp::Read(v) => (state == v).then_some(state),
            RegOp::Write(v) => Some(v),
            RegOp::Cas { old, new } => (state == old).then_some(new),
            RegOp::CasMaybe { old, new } => Some(if state == old { new } else { state }),
            RegOp::CasFailed { old } => (state != old).then_some(state),
        }
    }
    fn read_only(op: &RegOp) -> bool {
        matches!(op, RegOp::Read(_) | RegOp::CasFailed { .. })
    }
    fn same_effect(a: &RegOp, b: &RegOp) -> bool {
        a == b
    }
    fn describe_state(&self, state: u64) -> String {
        self.names
            .get(state as usize)
            .cloned()
            .unwrap_or_else(|| format!("#{state}"))
    }
}

/// A key-value op. `key` indexes the model's key table; strings are interned ids;
/// `memo` is the op's position in its partition (unique, used to memoise transitions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KvOp {
    pub kind: KvKind,
    pub key: u32,
    pub arg: u32,
    pub memo: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KvKind {
    Get,
    Put,
    Append,
}

/// The key-value map: state is the id of an interned map (a vector of string ids, one per
/// key of the partition). A partitioned check has one key per model.
pub(crate) struct KvModel {
    strings: Vec<String>,
    string_ids: FxMap<String, u32>,
    concat: FxMap<(u32, u32), u32>,
    maps: Vec<Box<[u32]>>,
    map_ids: FxMap<Box<[u32]>, u64>,
    memo: FxMap<(u64, u32), u64>,
    pub key_names: Vec<String>,
}

impl KvModel {
    /// A model whose keys all start as `initial` (Porcupine: the empty string).
    pub fn new(key_names: Vec<String>, initial: &str) -> Self {
        let mut m = KvModel {
            strings: Vec::new(),
            string_ids: FxMap::default(),
            concat: FxMap::default(),
            maps: Vec::new(),
            map_ids: FxMap::default(),
            memo: FxMap::default(),
            key_names,
        };
        let init = m.intern_str(initial);
        let map: Box<[u32]> = vec![init; m.key_names.len()].into_boxed_slice();
        m.intern_map(map);
        m
    }

    pub fn intern_str(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.string_ids.insert(s.to_string(), id);
        id
    }

    fn intern_map(&mut self, map: Box<[u32]>) -> u64 {
        if let Some(&id) = self.map_ids.get(&map) {
            return id;
        }
        let id = self.maps.len() as u64;
        self.maps.push(map.clone());
        self.map_ids.insert(map, id);
        id
    }

    fn with_key(&mut self, state: u64, key: u32, value: u32) -> u64 {
        let mut map = self.maps[state as usize].clone();
        map[key as usize] = value;
        self.intern_map(map)
    }
}

impl SeqModel for KvModel {
    type Op = KvOp;
    fn init(&self) -> u64 {
        0
    }
    #[inline]
    fn step(&mut self, state: u64, op: &KvOp) -> Option<u64> {
        if op.kind == KvKind::Get {
            return (self.maps[state as usize][op.key as usize] == op.arg).then_some(state);
        }
        if let Some(&next) = self.memo.get(&(state, op.memo)) {
            return Some(next);
        }
        let value = match op.kind {
            KvKind::Put => op.arg,
            _ => {
                let cur = self.maps[state as usize][op.key as usize];
                match self.concat.get(&(cur, op.arg)) {
                    Some(&id) => id,
                    None => {
                        let s = format!(
                            "{}{}",
                            self.strings[cur as usize], self.strings[op.arg as usize]
                        );
                        let id = self.intern_str(&s);
                        self.concat.insert((cur, op.arg), id);
                        id
                    }
                }
            }
        };
        let next = self.with_key(state, op.key, value);
        self.memo.insert((state, op.memo), next);
        Some(next)
    }
    fn read_only(op: &KvOp) -> bool {
        op.kind == KvKind::Get
    }
    fn same_effect(a: &KvOp, b: &KvOp) -> bool {
        (a.kind, a.key, a.arg) == (b.kind, b.key, b.arg)
    }
    fn describe_state(&self, state: u64) -> String {
        let Some(map) = self.maps.get(state as usize) else {
            return format!("#{state}");
        };
        let show = |id: u32| {
            let s = &self.strings[id as usize];
            if s.chars().count() > 60 {
                let tail: String = s
                    .chars()
                    .rev()
                    .take(57)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("\"...{tail}\"")
            } else {
                format!("{s:?}")
            }
        };
        if map.len() == 1 {
            return show(map[0]);
        }
        let parts: Vec<String> = map
            .iter()
            .zip(&self.key_names)
            .map(|(&v, k)| format!("{k}: {}", show(v)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

/// FxHash (rustc's hasher): one multiply per word. Good enough for interned ids.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(FX_K);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> RegisterModel {
        RegisterModel {
            init: NIL,
            names: vec!["nil".into(), "1".into(), "2".into()],
        }
    }

    #[test]
    fn register_reads_see_the_last_write() {
        let mut m = reg();
        let s = m.init();
        assert_eq!(m.step(s, &RegOp::Read(NIL)), Some(NIL));
        assert_eq!(m.step(s, &RegOp::Read(1)), None);
        let s = m.step(s, &RegOp::Write(1)).unwrap();
        assert_eq!(m.step(s, &RegOp::Read(1)), Some(1));
        assert_eq!(m.step(s, &RegOp::Read(NIL)), None);
        assert_eq!(m.describe_state(s), "1");
    }

    #[test]
    fn cas_swaps_only_on_the_expected_value() {
        let mut m = reg();
        assert_eq!(m.step(1, &RegOp::Cas { old: 1, new: 2 }), Some(2));
        assert_eq!(m.step(2, &RegOp::Cas { old: 1, new: 2 }), None);
        assert_eq!(m.step(2, &RegOp::CasMaybe { old: 1, new: 2 }), Some(2));
        assert_eq!(m.step(1, &RegOp::CasMaybe { old: 1, new: 2 }), Some(2));
        assert_eq!(m.step(NIL, &RegOp::CasMaybe { old: 1, new: 2 }), Some(NIL));
        assert_eq!(m.step(1, &RegOp::CasFailed { old: 1 }), None);
        assert_eq!(m.step(2, &RegOp::CasFailed { old: 1 }), Some(2));
    }

    #[test]
    fn kv_get_put_append() {
        let mut m = KvModel::new(vec!["a".into(), "b".into()], "");
        let empty = m.intern_str("");
        let x = m.intern_str("x");
        let xy = m.intern_str("xy");
        let y = m.intern_str("y");
        let op = |kind, key, arg, memo| KvOp {
            kind,
            key,
            arg,
            memo,
        };
        let s0 = m.init();
        assert_eq!(m.step(s0, &op(KvKind::Get, 0, empty, 0)), Some(s0));
        assert_eq!(m.step(s0, &op(KvKind::Get, 0, x, 0)), None);
        let s1 = m.step(s0, &op(KvKind::Put, 0, x, 1)).unwrap();
        let s2 = m.step(s1, &op(KvKind::Append, 0, y, 2)).unwrap();
        assert_eq!(m.step(s2, &op(KvKind::Get, 0, xy, 3)), Some(s2));
        assert_eq!(m.step(s2, &op(KvKind::Get, 1, empty, 4)), Some(s2));
        // Memoised transitions give the same ids again.
        assert_eq!(m.step(s1, &op(KvKind::Append, 0, y, 2)), Some(s2));
        let s3 = m.step(s0, &op(KvKind::Append, 1, y, 5)).unwrap();
        assert_eq!(m.step(s3, &op(KvKind::Get, 1, y, 6)), Some(s3));
        assert_eq!(m.describe_state(s2), "{a: \"xy\", b: \"\"}");
    }
}
