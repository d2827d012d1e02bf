//! The key-value model (Porcupine's kv): `get`, `put` and `append` on string values.
//!
//! Values are never materialised in the hot loop. A value is a node of a trie: a literal
//! (a put value or the initial value) or a parent node plus an appended literal, with its
//! length, so an append is one table look-up. The text a get read is kept as it is (borrowed
//! from the history): a get compares lengths, then the node's last literal with the end of
//! the text, then (memoised) the rest of the chain, so verdicts rest on exact comparisons
//! only. The same string reached by two different paths gives two nodes: that only costs
//! memo hits, never correctness.
//!
//! With one key (the partitioned check) the state is the node; with several keys (the
//! unpartitioned variant) it is the id of an interned vector of nodes, one per key.

use super::counterexample::debug_is_quoted;
use super::model::{same_bytes, FxMap, SeqModel};
use std::borrow::Cow;
use std::collections::hash_map::Entry;

const NONE: u32 = u32::MAX;

/// A key-value op: `key` indexes the model's keys, `arg` is a literal id (put, append) or a
/// read id (get), `memo` the op's position in its part (unique; memoises multi-key
/// transitions).
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
}

pub(crate) struct KvModel<'h> {
    lits: Vec<Cow<'h, str>>,
    lit_ids: FxMap<Cow<'h, str>, u32>,
    /// Per literal: the root node holding exactly it.
    lit_root: Vec<u32>,
    /// What each get read.
    reads: Vec<Cow<'h, str>>,
    nodes: Vec<Node>,
    children: FxMap<(u32, u32), u32>,
    /// `(node, read)`: whether the node's text is a prefix of the read's, for chains of more
    /// than one literal whose last literal matches.
    prefix_memo: FxMap<(u32, u32), bool>,
    init_node: u32,
    /// The op count given to [`KvModel::new`]: the room the memos get when first used.
    room: usize,
    /// The interned maps of a multi-key model, one after another (one node per key): map
    /// `id` is `maps[id * keys..][..keys]`.
    maps: Vec<u32>,
    map_ids: FxMap<Box<[u32]>, u64>,
    /// The map a step builds before it is interned (no allocation for a map seen before).
    next_map: Vec<u32>,
    memo: FxMap<(u64, u32), u64>,
    pub key_names: Vec<String>,
}

impl<'h> KvModel<'h> {
    /// A model whose keys all start as `initial` (Porcupine: the empty string), with room
    /// for `ops` ops. One key needs no name (`key_names` may be empty).
    pub fn new(key_names: Vec<String>, initial: &str, ops: usize) -> Self {
        let mut m = KvModel {
            lits: Vec::with_capacity(ops + 1),
            lit_ids: FxMap::with_capacity_and_hasher(ops + 1, Default::default()),
            lit_root: Vec::with_capacity(ops + 1),
            reads: Vec::with_capacity(ops),
            nodes: Vec::with_capacity(2 * ops + 1),
            // Filled by appends and multi-literal gets only: allocated when first used.
            children: FxMap::default(),
            prefix_memo: FxMap::default(),
            init_node: 0,
            room: ops,
            maps: Vec::new(),
            map_ids: FxMap::default(),
            next_map: Vec::new(),
            memo: FxMap::default(),
            key_names,
        };
        let init = m.intern_str(initial.to_string());
        m.init_node = m.lit_root[init as usize];
        if m.key_names.len() > 1 {
            m.intern_map(&vec![m.init_node; m.key_names.len()]);
        }
        m
    }

    /// Room for `ops` more ops of a key checked next in this model (one key at a time).
    pub fn make_room(&mut self, ops: usize) {
        self.room = ops;
        self.lits.reserve(ops);
        self.lit_ids.reserve(ops);
        self.lit_root.reserve(ops);
        self.reads.reserve(ops);
        self.nodes.reserve(2 * ops);
    }

    fn single(&self) -> bool {
        self.key_names.len() <= 1
    }

    /// The id of literal `s` (a put or append value), creating it (and its root node) if
    /// new.
    pub fn intern_str(&mut self, s: impl Into<Cow<'h, str>>) -> u32 {
        let id = self.lits.len() as u32;
        // One hash and probe for a look-up and, if new, the insert.
        let slot = match self.lit_ids.entry(s.into()) {
            Entry::Occupied(e) => return *e.get(),
            Entry::Vacant(v) => v,
        };
        self.nodes.push(Node {
            parent: NONE,
            lit: id,
            len: slot.key().len() as u64,
        });
        self.lit_root.push(self.nodes.len() as u32 - 1);
        self.lits.push(slot.key().clone());
        slot.insert(id);
        id
    }

    /// The id of what a get read.
    pub fn add_read(&mut self, s: impl Into<Cow<'h, str>>) -> u32 {
        self.reads.push(s.into());
        self.reads.len() as u32 - 1
    }

    fn append(&mut self, node: u32, lit: u32) -> u32 {
        if self.children.capacity() == 0 {
            self.children.reserve(self.room);
        }
        let slot = match self.children.entry((node, lit)) {
            Entry::Occupied(e) => return *e.get(),
            Entry::Vacant(v) => v,
        };
        let len = self.nodes[node as usize].len + self.lits[lit as usize].len() as u64;
        self.nodes.push(Node {
            parent: node,
            lit,
            len,
        });
        let c = self.nodes.len() as u32 - 1;
        slot.insert(c);
        c
    }

    /// The string a node stands for.
    fn text(&self, mut node: u32) -> String {
        let len = self.nodes.get(node as usize).map_or(0, |n| n.len as usize);
        let mut parts = Vec::new();
        while node != NONE {
            let n = &self.nodes[node as usize];
            parts.push(n.lit);
            node = n.parent;
        }
        let mut text = String::with_capacity(len);
        for &l in parts.iter().rev() {
            text.push_str(&self.lits[l as usize]);
        }
        text
    }

    /// Whether the text of `node` is a prefix of what get `read` read.
    fn is_prefix(&mut self, node: u32, read: u32) -> bool {
        let n = &self.nodes[node as usize];
        let text = self.reads[read as usize].as_bytes();
        let Some(head) = text.get(..n.len as usize) else {
            return false;
        };
        // The last literal first, without the memo: different values usually differ there.
        let lit = self.lits[n.lit as usize].as_bytes();
        let Some(rest) = strip_suffix(head, lit) else {
            return false;
        };
        if n.parent == NONE {
            return true;
        }
        if let Some(&v) = self.prefix_memo.get(&(node, read)) {
            return v;
        }
        let v = self.spells(n.parent, rest);
        if self.prefix_memo.capacity() == 0 {
            self.prefix_memo.reserve(self.room);
        }
        self.prefix_memo.insert((node, read), v);
        v
    }

    /// Whether `node`'s text is exactly `text`.
    fn spells(&self, mut node: u32, mut text: &[u8]) -> bool {
        while node != NONE {
            let n = &self.nodes[node as usize];
            match strip_suffix(text, self.lits[n.lit as usize].as_bytes()) {
                Some(rest) => text = rest,
                None => return false,
            }
            node = n.parent;
        }
        text.is_empty()
    }

    fn equals(&mut self, node: u32, read: u32) -> bool {
        self.nodes[node as usize].len == self.reads[read as usize].len() as u64
            && self.is_prefix(node, read)
    }

    fn intern_map(&mut self, map: &[u32]) -> u64 {
        if let Some(&id) = self.map_ids.get(map) {
            return id;
        }
        let id = (self.maps.len() / map.len().max(1)) as u64;
        self.maps.extend_from_slice(map);
        self.map_ids.insert(map.into(), id);
        id
    }

    /// The node of `key` in map `state` of a multi-key model.
    fn node_of(&self, state: u64, key: u32) -> u32 {
        self.maps[state as usize * self.key_names.len() + key as usize]
    }

    /// Map `id` of a multi-key model, if there is one.
    fn map(&self, id: u64) -> Option<&[u32]> {
        let keys = self.key_names.len();
        let at = (id as usize).checked_mul(keys)?;
        self.maps.get(at..at.checked_add(keys)?)
    }
}

/// `text` without `suffix` at its end, if it ends so. Literals are mostly a few bytes:
/// those are compared inline ([`same_bytes`]), where `<[u8]>::strip_suffix` called memcmp
/// for each (a fifth of a check of Porcupine's c10-ok went there, mostly in the call).
#[inline]
fn strip_suffix<'t>(text: &'t [u8], suffix: &[u8]) -> Option<&'t [u8]> {
    let cut = text.len().checked_sub(suffix.len())?;
    let (rest, tail) = text.split_at(cut);
    same_bytes(tail, suffix).then_some(rest)
}

/// A value as a state shows it: quoted as `{:?}` does, the last 57 characters of a long one.
pub(crate) fn show_value(s: &str) -> String {
    if s.len() <= 60 && debug_is_quoted(s) {
        // What `{s:?}` writes for printable ASCII without quotes or backslashes.
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        q.push_str(s);
        q.push('"');
        q
    } else if s.chars().count() > 60 {
        let tail: Vec<char> = s.chars().rev().take(57).collect();
        format!("\"...{}\"", tail.into_iter().rev().collect::<String>())
    } else {
        format!("{s:?}")
    }
}

/// The state of several keys: `{k: "v", ...}`, keys in the order given.
pub(crate) fn show_map<K: AsRef<str>>(keys: &[K], values: &[String]) -> String {
    let mut out = String::with_capacity(2 + keys.len() * 16);
    out.push('{');
    for (i, (k, v)) in keys.iter().zip(values).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k.as_ref());
        out.push_str(": ");
        out.push_str(&show_value(v));
    }
    out.push('}');
    out
}

impl SeqModel for KvModel<'_> {
    type Op = KvOp;
    const PRUNES_READS: bool = true;
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
        let node = self.node_of(state, op.key);
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
        let mut map = std::mem::take(&mut self.next_map);
        map.clear();
        map.extend_from_slice(self.map(state).unwrap_or_default());
        map[op.key as usize] = value;
        let next = self.intern_map(&map);
        self.next_map = map;
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
        // Roughly: nodes, hash-map entries (with control bytes) and maps.
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + (self.children.capacity() + self.prefix_memo.capacity()) * 16
            + self.memo.capacity() * 24
            + self.map_ids.capacity() * 24
            + self.maps.capacity() * 4
            + self.map_ids.len() * (16 + 4 * self.key_names.len())
    }
    fn resets(op: &KvOp) -> bool {
        op.kind == KvKind::Put
    }
    /// Appends only extend a value: a get of a value the current one is not a prefix of can
    /// never become legal (decided exactly).
    fn unreachable(&mut self, state: u64, read: &KvOp) -> bool {
        let node = if self.single() {
            state as u32
        } else {
            self.node_of(state, read.key)
        };
        !self.is_prefix(node, read.arg)
    }
    fn describe_state(&self, state: u64) -> String {
        if self.single() {
            return show_value(&self.text(state as u32));
        }
        let Some(map) = self.map(state) else {
            return format!("#{state}");
        };
        let texts: Vec<String> = map.iter().map(|&v| self.text(v)).collect();
        show_map(&self.key_names, &texts)
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
    fn strip_suffix_agrees_with_the_slice_method() {
        let long = "x".repeat(40);
        let texts = [
            "",
            "a",
            "ab",
            "abc",
            "x 0 1 yx 0 2 y",
            long.as_str(),
            "é",
            "aé",
        ];
        for t in texts {
            for s in texts.iter().chain(&["b", "bc", "2 y", "é"]) {
                assert_eq!(
                    strip_suffix(t.as_bytes(), s.as_bytes()),
                    t.as_bytes().strip_suffix(s.as_bytes()),
                    "{t:?} {s:?}"
                );
            }
        }
    }

    #[test]
    fn one_key_get_put_append() {
        let mut m = KvModel::new(vec!["a".into()], "", 0);
        let (x, y, xy) = (m.intern_str("x"), m.intern_str("y"), m.intern_str("xy"));
        let (read_empty, read_x, read_xy, read_yy) = (
            m.add_read(""),
            m.add_read("x"),
            m.add_read("xy"),
            m.add_read("yy"),
        );
        let s0 = m.init();
        assert_eq!(m.step(s0, &op(KvKind::Get, 0, read_empty, 0)), Some(s0));
        assert_eq!(m.step(s0, &op(KvKind::Get, 0, read_x, 0)), None);
        let s1 = m.step(s0, &op(KvKind::Put, 0, x, 1)).unwrap();
        let s2 = m.step(s1, &op(KvKind::Append, 0, y, 2)).unwrap();
        assert_eq!(m.step(s2, &op(KvKind::Get, 0, read_xy, 3)), Some(s2));
        assert_eq!(m.step(s2, &op(KvKind::Get, 0, read_x, 3)), None);
        assert_eq!(m.step(s2, &op(KvKind::Get, 0, read_yy, 3)), None);
        // Appends can still make "x" into "xy", never into "yy" or "".
        assert!(!m.unreachable(s1, &op(KvKind::Get, 0, read_xy, 3)));
        assert!(m.unreachable(s1, &op(KvKind::Get, 0, read_yy, 3)));
        assert!(m.unreachable(s1, &op(KvKind::Get, 0, read_empty, 3)));
        // "" + "xy" and "x" + "y" are the same string by different paths.
        let s3 = m.step(s0, &op(KvKind::Append, 0, xy, 4)).unwrap();
        assert_eq!(m.step(s3, &op(KvKind::Get, 0, read_xy, 5)), Some(s3));
        assert_eq!(m.step(s1, &op(KvKind::Append, 0, y, 2)), Some(s2));
        assert_eq!(m.describe_state(s2), "\"xy\"");
        // Written as `{:?}` writes it, plain ASCII or not.
        for text in ["a\"b", "tab\there", "é", "it's"] {
            let lit = m.intern_str(text.to_string());
            let s = m.step(s0, &op(KvKind::Put, 0, lit, 6)).unwrap();
            assert_eq!(m.describe_state(s), format!("{text:?}"));
        }
    }

    #[test]
    fn several_keys_are_independent() {
        let mut m = KvModel::new(vec!["a".into(), "b".into()], "", 0);
        let y = m.intern_str("y");
        let (read_empty, read_y) = (m.add_read(""), m.add_read("y"));
        let s0 = m.init();
        let s1 = m.step(s0, &op(KvKind::Append, 1, y, 0)).unwrap();
        assert_eq!(m.step(s1, &op(KvKind::Get, 1, read_y, 1)), Some(s1));
        assert_eq!(m.step(s1, &op(KvKind::Get, 0, read_empty, 2)), Some(s1));
        assert_eq!(m.step(s1, &op(KvKind::Get, 0, read_y, 2)), None);
        assert_eq!(m.step(s0, &op(KvKind::Append, 1, y, 0)), Some(s1));
        assert_eq!(m.describe_state(s1), "{a: \"\", b: \"y\"}");
    }
}
