//! The key-value model (Porcupine's kv): `get`, `put` and `append` on string values.
//!
//! Values are never materialised in the hot loop. A value is a node of a trie: a literal
//! (a put value or the initial value) or a parent node plus an appended literal, with its
//! length and two polynomial hashes mod 2^61-1 kept incrementally, so an append is one
//! table look-up. A get compares length and hashes, and on a match checks the strings
//! exactly once (memoised), so verdicts never rest on a hash. The same string reached by
//! two different paths gives two nodes: that only costs memo hits, never correctness.
//!
//! With one key (the partitioned check) the state is the node; with several keys (the
//! unpartitioned variant) it is the id of an interned vector of nodes, one per key.

use super::model::{FxMap, SeqModel};

const NONE: u32 = u32::MAX;
const P: u64 = (1 << 61) - 1;
const BASES: [u64; 2] = [0x1f3d_5b79_a2c4_e681 % P, 0x0d1b_2a3c_4e5f_6071 % P];

#[inline]
fn mulmod(a: u64, b: u64) -> u64 {
    let r = a as u128 * b as u128;
    let s = (r as u64 & P) + (r >> 61) as u64;
    if s >= P {
        s - P
    } else {
        s
    }
}

#[inline]
fn addmod(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P {
        s - P
    } else {
        s
    }
}

/// A key-value op: `key` indexes the model's keys, `arg` is a literal id, `memo` the op's
/// position in its part (unique; memoises multi-key transitions).
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

struct Node {
    parent: u32,
    lit: u32,
    len: u64,
    hash: [u64; 2],
}

pub(crate) struct KvModel {
    lits: Vec<String>,
    lit_ids: FxMap<String, u32>,
    /// Per literal: the root node holding exactly it, and B^len for each base.
    lit_root: Vec<u32>,
    lit_pow: Vec<[u64; 2]>,
    nodes: Vec<Node>,
    children: FxMap<(u32, u32), u32>,
    verified: FxMap<(u32, u32), bool>,
    /// Per literal, hashes of its prefixes (filled on first use by a get).
    prefix_hashes: Vec<Vec<[u64; 2]>>,
    init_node: u32,
    maps: Vec<Box<[u32]>>,
    map_ids: FxMap<Box<[u32]>, u64>,
    memo: FxMap<(u64, u32), u64>,
    pub key_names: Vec<String>,
}

impl KvModel {
    /// A model whose keys all start as `initial` (Porcupine: the empty string).
    pub fn new(key_names: Vec<String>, initial: &str) -> Self {
        let mut m = KvModel {
            lits: Vec::new(),
            lit_ids: FxMap::default(),
            lit_root: Vec::new(),
            lit_pow: Vec::new(),
            nodes: Vec::new(),
            children: FxMap::default(),
            verified: FxMap::default(),
            prefix_hashes: Vec::new(),
            init_node: 0,
            maps: Vec::new(),
            map_ids: FxMap::default(),
            memo: FxMap::default(),
            key_names,
        };
        let init = m.intern_str(initial);
        m.init_node = m.lit_root[init as usize];
        if m.key_names.len() > 1 {
            let map: Box<[u32]> = vec![m.init_node; m.key_names.len()].into_boxed_slice();
            m.intern_map(map);
        }
        m
    }

    fn single(&self) -> bool {
        self.key_names.len() <= 1
    }

    /// The id of literal `s`, creating it (and its root node) if new.
    pub fn intern_str(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.lit_ids.get(s) {
            return id;
        }
        let id = self.lits.len() as u32;
        let mut hash = [0u64; 2];
        let mut pow = [1u64; 2];
        for b in s.bytes() {
            for k in 0..2 {
                hash[k] = addmod(mulmod(hash[k], BASES[k]), b as u64 + 1);
                pow[k] = mulmod(pow[k], BASES[k]);
            }
        }
        self.nodes.push(Node {
            parent: NONE,
            lit: id,
            len: s.len() as u64,
            hash,
        });
        self.lit_root.push(self.nodes.len() as u32 - 1);
        self.lit_pow.push(pow);
        self.prefix_hashes.push(Vec::new());
        self.lits.push(s.to_string());
        self.lit_ids.insert(s.to_string(), id);
        id
    }

    fn append(&mut self, node: u32, lit: u32) -> u32 {
        if let Some(&c) = self.children.get(&(node, lit)) {
            return c;
        }
        let (n, l) = (
            &self.nodes[node as usize],
            &self.nodes[self.lit_root[lit as usize] as usize],
        );
        let pow = self.lit_pow[lit as usize];
        let hash = [0, 1].map(|k| addmod(mulmod(n.hash[k], pow[k]), l.hash[k]));
        let child = Node {
            parent: node,
            lit,
            len: n.len + l.len,
            hash,
        };
        self.nodes.push(child);
        let c = self.nodes.len() as u32 - 1;
        self.children.insert((node, lit), c);
        c
    }

    /// The string a node stands for.
    fn text(&self, mut node: u32) -> String {
        let mut parts = Vec::new();
        while node != NONE {
            let n = &self.nodes[node as usize];
            parts.push(n.lit);
            node = n.parent;
        }
        parts
            .iter()
            .rev()
            .map(|&l| self.lits[l as usize].as_str())
            .collect()
    }

    fn equals(&mut self, node: u32, lit: u32) -> bool {
        let root = self.lit_root[lit as usize];
        if node == root {
            return true;
        }
        let (a, b) = (&self.nodes[node as usize], &self.nodes[root as usize]);
        if a.len != b.len || a.hash != b.hash {
            return false;
        }
        if let Some(&v) = self.verified.get(&(node, lit)) {
            return v;
        }
        let v = self.text(node) == self.lits[lit as usize];
        self.verified.insert((node, lit), v);
        v
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
}

impl SeqModel for KvModel {
    type Op = KvOp;
    fn init(&self) -> u64 {
        if self.single() {
            self.init_node as u64
        } else {
            0
        }
    }
    #[inline]
    fn step(&mut self, state: u64, op: &KvOp) -> Option<u64> {
        if self.single() {
            let node = state as u32;
            return match op.kind {
                KvKind::Get => self.equals(node, op.arg).then_some(state),
                KvKind::Put => Some(self.lit_root[op.arg as usize] as u64),
                KvKind::Append => Some(self.append(node, op.arg) as u64),
            };
        }
        let node = self.maps[state as usize][op.key as usize];
        if op.kind == KvKind::Get {
            return self.equals(node, op.arg).then_some(state);
        }
        if let Some(&next) = self.memo.get(&(state, op.memo)) {
            return Some(next);
        }
        let value = match op.kind {
            KvKind::Put => self.lit_root[op.arg as usize],
            _ => self.append(node, op.arg),
        };
        let mut map = self.maps[state as usize].clone();
        map[op.key as usize] = value;
        let next = self.intern_map(map);
        self.memo.insert((state, op.memo), next);
        Some(next)
    }
    fn read_only(op: &KvOp) -> bool {
        op.kind == KvKind::Get
    }
    fn same_effect(a: &KvOp, b: &KvOp) -> bool {
        (a.kind, a.key, a.arg) == (b.kind, b.key, b.arg)
    }
    fn bytes(&self) -> usize {
        // Roughly: nodes, hash-map entries (with control bytes), maps and prefix hashes.
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + (self.children.capacity() + self.verified.capacity()) * 16
            + self.memo.capacity() * 24
            + self.map_ids.capacity() * 24
            + self.maps.len() * (16 + 4 * self.key_names.len()) * 2
            + self
                .prefix_hashes
                .iter()
                .map(|p| p.capacity() * 16)
                .sum::<usize>()
    }
    fn resets(op: &KvOp) -> bool {
        op.kind == KvKind::Put
    }
    /// Appends only extend a value: a get of a value the current one is not a prefix of can
    /// never become legal. Decided by length and prefix hashes: differing hashes prove the
    /// strings differ, so a "dead" answer is exact.
    fn unreachable(&mut self, state: u64, read: &KvOp) -> bool {
        let node = if self.single() {
            state as u32
        } else {
            self.maps[state as usize][read.key as usize]
        };
        let n = &self.nodes[node as usize];
        let lit = read.arg as usize;
        let text = &self.lits[lit];
        if n.len > text.len() as u64 {
            return true;
        }
        if self.prefix_hashes[lit].is_empty() {
            let mut h = [0u64; 2];
            let mut out = Vec::with_capacity(text.len() + 1);
            out.push(h);
            for b in text.bytes() {
                for k in 0..2 {
                    h[k] = addmod(mulmod(h[k], BASES[k]), b as u64 + 1);
                }
                out.push(h);
            }
            self.prefix_hashes[lit] = out;
        }
        self.prefix_hashes[lit][n.len as usize] != n.hash
    }
    fn describe_state(&self, state: u64) -> String {
        let show = |node: u32| {
            let s = self.text(node);
            if s.chars().count() > 60 {
                let tail: Vec<char> = s.chars().rev().take(57).collect();
                format!("\"...{}\"", tail.into_iter().rev().collect::<String>())
            } else {
                format!("{s:?}")
            }
        };
        if self.single() {
            return show(state as u32);
        }
        let Some(map) = self.maps.get(state as usize) else {
            return format!("#{state}");
        };
        let parts: Vec<String> = map
            .iter()
            .zip(&self.key_names)
            .map(|(&v, k)| format!("{k}: {}", show(v)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: KvKind, key: u32, arg: u32, memo: u32) -> KvOp {
        KvOp {
            kind,
            key,
            arg,
            memo,
        }
    }

    #[test]
    fn one_key_get_put_append() {
        let mut m = KvModel::new(vec!["a".into()], "");
        let (empty, x, y, xy) = (
            m.intern_str(""),
            m.intern_str("x"),
            m.intern_str("y"),
            m.intern_str("xy"),
        );
        let s0 = m.init();
        assert_eq!(m.step(s0, &op(KvKind::Get, 0, empty, 0)), Some(s0));
        assert_eq!(m.step(s0, &op(KvKind::Get, 0, x, 0)), None);
        let s1 = m.step(s0, &op(KvKind::Put, 0, x, 1)).unwrap();
        let s2 = m.step(s1, &op(KvKind::Append, 0, y, 2)).unwrap();
        assert_eq!(m.step(s2, &op(KvKind::Get, 0, xy, 3)), Some(s2));
        assert_eq!(m.step(s2, &op(KvKind::Get, 0, x, 3)), None);
        // "" + "xy" and "x" + "y" are the same string by different paths.
        let s3 = m.step(s0, &op(KvKind::Append, 0, xy, 4)).unwrap();
        assert_eq!(m.step(s3, &op(KvKind::Get, 0, xy, 5)), Some(s3));
        assert_eq!(m.step(s1, &op(KvKind::Append, 0, y, 2)), Some(s2));
        assert_eq!(m.describe_state(s2), "\"xy\"");
    }

    #[test]
    fn several_keys_are_independent() {
        let mut m = KvModel::new(vec!["a".into(), "b".into()], "");
        let (empty, y) = (m.intern_str(""), m.intern_str("y"));
        let s0 = m.init();
        let s1 = m.step(s0, &op(KvKind::Append, 1, y, 0)).unwrap();
        assert_eq!(m.step(s1, &op(KvKind::Get, 1, y, 1)), Some(s1));
        assert_eq!(m.step(s1, &op(KvKind::Get, 0, empty, 2)), Some(s1));
        assert_eq!(m.step(s1, &op(KvKind::Get, 0, y, 2)), None);
        assert_eq!(m.step(s0, &op(KvKind::Append, 1, y, 0)), Some(s1));
        assert_eq!(m.describe_state(s1), "{a: \"\", b: \"y\"}");
    }
}
