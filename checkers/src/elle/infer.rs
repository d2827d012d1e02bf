//! What version-order inference produces, for either workload: the data-dependency edges
//! (ww, wr, rw), the evidence needed to explain them later, and precondition violations.

use super::fx::FxMap;
use super::graph::EdgeList;
use super::written::WrittenIndex;

/// Written values are unique per key; this stands for "the initial state" (nil) in
/// register version orders, so it may not be written.
pub const INITIAL: i64 = i64::MIN;

/// Facts about one written value `(key, value)`, in 8 bytes (there is one per append of
/// a history, millions of them): the writer, and the position in the key's inferred
/// version order with, in its top bit, whether this was the writer's last write to the
/// key (else reading it is G1b).
#[derive(Clone, Copy, Debug)]
pub struct Written {
    /// The transaction (position in the txn list) that wrote it.
    pub writer: u32,
    pos_last: u32,
}

const LAST: u32 = 1 << 31;

impl Written {
    pub fn new(writer: u32, last_in_txn: bool) -> Written {
        Written {
            writer,
            pos_last: UNOBSERVED | if last_in_txn { LAST } else { 0 },
        }
    }
    /// List-append: position in the key's inferred version order, or [`UNOBSERVED`].
    pub fn pos(&self) -> u32 {
        self.pos_last & !LAST
    }
    pub fn set_pos(&mut self, pos: u32) {
        self.pos_last = (self.pos_last & LAST) | (pos.min(UNOBSERVED - 1) & !LAST);
    }
    /// Whether this was the writer's last write to the key.
    pub fn last_in_txn(&self) -> bool {
        self.pos_last & LAST != 0
    }
}

pub const UNOBSERVED: u32 = LAST - 1;

/// What the explanations need to know about version orders.
#[derive(Default)]
pub struct Evidence {
    /// List-append: the written index, filled in only when there are cycles to explain.
    pub written: WrittenIndex,
    /// List-append: each key's version order (elements, oldest first).
    pub order: FxMap<i64, Vec<i64>>,
    /// rw-register: each key's direct version successions `(key, v) -> [w, ...]`, with
    /// [`INITIAL`] for the initial state.
    pub next: FxMap<(i64, i64), Vec<i64>>,
}

impl Evidence {
    pub fn writer(&self, key: i64, value: i64) -> Option<u32> {
        self.written.get(key, value).map(|w| w.writer)
    }

    /// Whether `value` was appended to `key` but is in no read's version order.
    pub fn unobserved(&self, key: i64, value: i64) -> bool {
        self.order.contains_key(&key)
            && self
                .written
                .get(key, value)
                .is_some_and(|x| x.pos() == UNOBSERVED)
    }

    /// Whether `w` directly follows `v` (or the initial state) in `key`'s version order.
    pub fn follows(&self, key: i64, v: Option<i64>, w: i64) -> bool {
        if let Some(order) = self.order.get(&key) {
            return match v {
                // An append no read observed follows the highest observed element.
                _ if self.unobserved(key, w) => v == order.last().copied(),
                None => order.first() == Some(&w),
                Some(v) => match self.written.get(key, v) {
                    Some(x) if x.pos() != UNOBSERVED => order.get(x.pos() as usize + 1) == Some(&w),
                    _ => false,
                },
            };
        }
        self.next
            .get(&(key, v.unwrap_or(INITIAL)))
            .is_some_and(|ws| ws.contains(&w))
    }
}

/// The output of inference for one history.
#[derive(Default)]
pub struct Inference {
    pub edges: EdgeList,
    pub evidence: Evidence,
    /// Violated preconditions: the inference could not trust these keys or ops.
    pub preconditions: Vec<String>,
    /// How many precondition violations there were (only the first few are kept).
    pub precondition_count: usize,
}

impl Inference {
    pub fn precondition(&mut self, msg: impl FnOnce() -> String) {
        self.precondition_count += 1;
        if self.preconditions.len() < 20 {
            self.preconditions.push(msg());
        }
    }
}
