//! Sequential specifications the search checks against, and a fast hasher.
//!
//! Every model state is a `u64` so the search can memoise `(linearized set, state)` pairs as
//! plain words: register values are interned per key (`0` is nil, nothing written yet); the
//! key-value map is in [`super::kv`].
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
    /// Whether `op` may take the state somewhere [`SeqModel::unreachable`] does not foresee
    /// (a put or write, as opposed to an append).
    fn resets(_op: &Self::Op) -> bool {
        true
    }
    /// Bytes held by the model's tables, for the memory budget.
    fn bytes(&self) -> usize {
        0
    }
    /// Whether [`SeqModel::unreachable`] can ever say true: if not, the search does not
    /// look for the first pending reset at all.
    const PRUNES_READS: bool = false;
    /// Whether the read-only op `read` can never become legal from `state` as long as only
    /// ops that do not [`reset`](SeqModel::resets) follow. `false` when unsure.
    fn unreachable(&mut self, _state: u64, _read: &Self::Op) -> bool {
        false
    }
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
    /// Value id -> value, for counterexamples (index 0 is nil).
    pub names: Vec<RegValue>,
}

/// A register value as a counterexample shows it; rendered only when one is built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RegValue {
    Nil,
    Int(i64),
    /// Any other JSON value, rendered.
    Json(String),
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
        match self.names.get(state as usize) {
            Some(RegValue::Nil) => "nil".to_string(),
            Some(RegValue::Int(i)) => itoa::Buffer::new().format(*i).to_string(),
            Some(RegValue::Json(s)) => s.clone(),
            None => format!("#{state}"),
        }
    }
}

/// Whether two byte strings are equal, compared inline a word at a time up to 64 bytes
/// (keys, literals and most values read), where `==` calls memcmp, whose call costs more
/// than the compare.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n > 64 {
        return a == b;
    }
    if n >= 8 {
        // Whole words, then the last word (overlapping the ones before).
        let words = a.chunks_exact(8).zip(b.chunks_exact(8));
        return words.into_iter().all(|(x, y)| word8(x) == word8(y))
            && word8(&a[n - 8..]) == word8(&b[n - 8..]);
    }
    if n >= 4 {
        return word4(&a[..4]) == word4(&b[..4]) && word4(&a[n - 4..]) == word4(&b[n - 4..]);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

#[inline]
fn word8(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().unwrap_or_default())
}

#[inline]
fn word4(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().unwrap_or_default())
}

/// FxHash (rustc's hasher): one multiply per word. Good enough for interned ids.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const FX_K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Little-endian words, the last one zero-padded; built without a call to memcpy.
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.write_u64(le_word(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            self.write_u64(le_word(rest));
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

/// Up to 8 bytes as a little-endian word, zero-padded.
#[inline(always)]
fn le_word(w: &[u8]) -> u64 {
    let mut x = 0u64;
    for (i, &b) in w.iter().enumerate() {
        x |= (b as u64) << (8 * i);
    }
    x
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> RegisterModel {
        RegisterModel {
            init: NIL,
            names: vec![RegValue::Nil, RegValue::Int(1), RegValue::Int(2)],
        }
    }

    #[test]
    fn same_bytes_agrees_with_slice_equality() {
        let base: Vec<u8> = (0..80u8).map(|i| b'a' + i % 26).collect();
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(same_bytes(a, a));
            assert!(!same_bytes(a, &base[..len + 1]));
            // One byte different, anywhere: in a word, or in the tail after the words.
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x20;
                assert!(!same_bytes(a, &b), "{len} {at}");
            }
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
}
