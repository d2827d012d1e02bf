//! The Wing-Gong-Lowe search for one key, as in Porcupine's `checkSingle`.
//!
//! The history becomes a doubly linked list of call and return entries in time order (index
//! arrays with head and tail sentinels). Walking the list, a call whose op is legal in the
//! current model state is tentatively linearized: its bit is set in the linearized bitset,
//! and if the configuration `(bitset, new state)` has not been seen before it is memoised,
//! pushed on the stack and its call and return entries are lifted out of the list. Reaching
//! a return entry means the op it returns was not linearized in time: backtrack (pop, unlift,
//! try the next call). An empty list means every op is linearized; backtracking from an
//! empty stack means none is possible.
//!
//! Two reductions prune the search without losing completeness. A legal read (an op that
//! never changes the state) that can be called now is linearized at once and is the only
//! child tried: any linearization from here can move it to the front. And of two pending
//! ops with the same effect that never returned (`info`), the later one is only tried once
//! the earlier one is linearized: swapping them in any linearization gives another one.
//! Models may add a third ([`SeqModel::unreachable`]): when only appends can be linearized
//! before a callable read returns, and the current value can never grow into what it read,
//! the branch is dead.
//!
//! A key whose ops never overlap has one order to check and is walked in it, without any
//! of this ([`sequential`]).
//!
//! Speed: the bitset is a `Vec<u64>` updated in place, its hash is a Zobrist hash kept up
//! to date in O(1), and the memo is a flat arena ([`Cache`]), so the loop does not allocate;
//! the buffers of one search serve the worker's next key, and a thread's next check
//! ([`Scratch`]).
//! Budgets (deadline, shared memory counter) are checked every 16384 steps, and before
//! every growth of the memo; cancellation every 256 steps.

use super::cache::Cache;
use super::model::SeqModel;
use super::prepare::{PreparedOp, INF};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// Limits shared by the searches of all keys of one check.
pub(crate) struct Budget {
    pub deadline: Option<Instant>,
    pub memory_limit: usize,
    pub memory_used: AtomicUsize,
    pub cancel: AtomicBool,
}

impl Budget {
    /// Why a search must stop now (another key failed, or the time is up), if it must.
    pub(crate) fn interrupted(&self) -> Option<Abort> {
        if self.cancel.load(Ordering::Relaxed) {
            Some(Abort::Cancelled)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(Abort::Timeout)
        } else {
            None
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Abort {
    Timeout,
    Memory,
    Cancelled,
}

pub(crate) enum Outcome {
    Linearizable,
    NotLinearizable(Failure),
    Aborted(Abort),
}

/// What the search learned about a key that is not linearizable.
pub(crate) struct Failure {
    /// Ops (positions in the part) of the longest linearizable prefix found, in order.
    pub prefix: Vec<u32>,
    /// Model state after the prefix, rendered.
    pub state: String,
    /// Ops that could come next (called before the earliest pending return), each with
    /// whether the model accepts it after the prefix (if it does, every continuation failed).
    pub candidates: Vec<(u32, bool)>,
}

/// Outcome plus statistics.
pub(crate) struct SearchResult {
    pub outcome: Outcome,
    pub configurations: usize,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
fn mix(h: u64, state: u64) -> u64 {
    h ^ state.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(32)
}

/// The buffers of a search, kept for the next one: the keys of a check are searched one
/// after another on each worker, and a small key should not pay for a dozen allocations.
/// A memo grown past [`Scratch::KEEP_MEMO`] bytes is not kept.
#[derive(Default)]
pub(crate) struct Scratch {
    /// `next` then `prev` links of the entry list.
    links: Vec<u32>,
    /// Position table or sort buffer of [`link_in_time_order`].
    at: Vec<u32>,
    events: Vec<(u64, u32)>,
    read_only: Vec<bool>,
    resets: Vec<u32>,
    /// Per op, its index in `resets` (NONE: not a reset).
    reset_rank: Vec<u32>,
    twin: Vec<u32>,
    effects: Vec<u32>,
    bits: Vec<u64>,
    /// `splitmix64(i)` for op `i`; only ever extended.
    zobrist: Vec<u64>,
    stack: Vec<(u32, u64)>,
    cache: Option<Cache>,
}

impl Scratch {
    const KEEP_MEMO: usize = 1 << 20;
    /// Buffers (besides the memo) are kept for another check up to this many bytes.
    const KEEP_BUFFERS: usize = 1 << 20;

    /// Whether these buffers are small enough to keep for the thread's next check.
    pub(crate) fn keep(&self) -> bool {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        let buffers = bytes(&self.links)
            + bytes(&self.at)
            + bytes(&self.events)
            + bytes(&self.read_only)
            + bytes(&self.resets)
            + bytes(&self.reset_rank)
            + bytes(&self.twin)
            + bytes(&self.effects)
            + bytes(&self.bits)
            + bytes(&self.zobrist)
            + bytes(&self.stack);
        buffers <= Self::KEEP_BUFFERS
    }
}

/// Searches for a linearization of `ops` (one key) under `model`.
pub(crate) fn search<M: SeqModel>(
    model: &mut M,
    ops: &[PreparedOp<M::Op>],
    budget: &Budget,
    scratch: &mut Scratch,
) -> SearchResult {
    let mut held = 0usize; // bytes of ours counted in budget.memory_used
    let r = run(model, ops, budget, &mut held, scratch);
    budget.memory_used.fetch_sub(held, Ordering::Relaxed);
    if scratch
        .cache
        .as_ref()
        .is_some_and(|c| c.bytes() > Scratch::KEEP_MEMO)
    {
        scratch.cache = None;
    }
    r
}

const NONE: u32 = u32::MAX;
const FORCED: u32 = 1 << 31;

/// For each op with an infinite return, the nearest earlier op with the same effect and an
/// infinite return (its "twin"), or NONE. Only the first few distinct effects are tracked:
/// the rule is an optimisation, never needed for completeness.
fn twins<M: SeqModel>(ops: &[PreparedOp<M::Op>], twin: &mut Vec<u32>, last: &mut Vec<u32>) {
    last.clear(); // latest op of each distinct effect seen
    twin.clear();
    twin.resize(ops.len(), NONE);
    for (i, o) in ops.iter().enumerate() {
        if o.ret != INF {
            continue;
        }
        match last
            .iter()
            .position(|&j| M::same_effect(&ops[j as usize].op, &o.op))
        {
            Some(k) => {
                twin[i] = last[k];
                last[k] = i as u32;
            }
            None if last.len() < 256 => last.push(i as u32),
            None => {}
        }
    }
}

/// Links the call and return nodes (call of op `i` is `i`, its return `n + i`) from `head`
/// to `tail` in time order: by position, returns at +infinity last in op order. `ops` are
/// in call order. Positions are distinct, so when they span a range not much wider than the
/// node count (a key with most of the history, the usual case) a table indexed by position
/// orders them in linear time; otherwise the returns are sorted and merged with the calls.
fn link_in_time_order<O>(
    ops: &[PreparedOp<O>],
    next: &mut [u32],
    prev: &mut [u32],
    at: &mut Vec<u32>,
    events: &mut Vec<(u64, u32)>,
) {
    let n = ops.len();
    debug_assert!(ops.windows(2).all(|w| w[0].call < w[1].call));
    let (head, tail) = (2 * n, 2 * n + 1);
    let mut last = head;
    let mut link = |node: u32| {
        next[last] = node;
        prev[node as usize] = last as u32;
        last = node as usize;
    };
    let first = ops.iter().map(|o| o.call).min().unwrap_or(0);
    let end = ops
        .iter()
        .map(|o| {
            if o.ret == INF {
                o.call
            } else {
                o.call.max(o.ret)
            }
        })
        .max()
        .unwrap_or(0);
    let span = (end - first) as usize + 1;
    if span <= 4 * n + 64 {
        at.clear();
        at.resize(span, NONE);
        for (i, o) in ops.iter().enumerate() {
            at[(o.call - first) as usize] = i as u32;
            if o.ret != INF {
                at[(o.ret - first) as usize] = (n + i) as u32;
            }
        }
        at.iter().filter(|&&x| x != NONE).for_each(|&x| link(x));
    } else {
        // The calls are in order already (ops come in call order): sort the returns alone
        // (mostly in order too) and merge.
        events.clear();
        events.extend(
            ops.iter()
                .enumerate()
                .filter(|(_, o)| o.ret != INF)
                .map(|(i, o)| (o.ret, (n + i) as u32)),
        );
        events.sort_unstable();
        let mut returns = events.iter().peekable();
        for (i, o) in ops.iter().enumerate() {
            while let Some(&(_, r)) = returns.next_if(|&&(ret, _)| ret < o.call) {
                link(r);
            }
            link(i as u32);
        }
        returns.for_each(|&(_, r)| link(r));
    }
    (0..n)
        .filter(|&i| ops[i].ret == INF)
        .for_each(|i| link((n + i) as u32));
    next[last] = tail as u32;
    prev[tail] = last as u32;
}

fn run<M: SeqModel>(
    model: &mut M,
    ops: &[PreparedOp<M::Op>],
    budget: &Budget,
    held: &mut usize,
    scratch: &mut Scratch,
) -> SearchResult {
    let n = ops.len();
    if n == 0 {
        return SearchResult {
            outcome: Outcome::Linearizable,
            configurations: 0,
        };
    }
    if let Some(r) = sequential(model, ops, budget) {
        return r;
    }
    // Nodes: call of op i is i, its return is n + i; then head and tail sentinels.
    let (head, tail) = (2 * n, 2 * n + 1);
    let Scratch {
        links,
        at,
        events,
        read_only,
        resets,
        reset_rank,
        twin,
        effects,
        bits,
        zobrist,
        stack,
        cache,
    } = scratch;
    links.clear();
    links.resize(2 * (2 * n + 2), 0);
    let (next, prev) = links.split_at_mut(2 * n + 2);
    link_in_time_order(ops, next, prev, at, events);

    read_only.clear();
    read_only.extend(ops.iter().map(|o| M::read_only(&o.op)));
    // Ops that may reset the state, in call order.
    resets.clear();
    reset_rank.clear();
    if M::PRUNES_READS {
        resets.extend((0..n as u32).filter(|&i| M::resets(&ops[i as usize].op)));
        reset_rank.resize(n, NONE);
        for (k, &r) in resets.iter().enumerate() {
            reset_rank[r as usize] = k as u32;
        }
    }
    // No pending reset comes before `resets[reset_cursor]` (it only moves back when a
    // reset is taken off the stack).
    let mut reset_cursor = 0usize;
    twins::<M>(ops, twin, effects);
    let words = n.div_ceil(64);
    bits.clear();
    bits.resize(words, 0);
    let known = zobrist.len() as u64;
    zobrist.extend((known..n as u64).map(splitmix64));
    // Slices of length exactly n: indices tested against n need no bounds check.
    let (read_only, twin, zobrist) = (&read_only[..n], &twin[..n], &zobrist[..n]);
    let mut hash = 0u64;
    let cache = match cache {
        Some(c) => {
            c.reset(words, n);
            c
        }
        None => cache.insert(Cache::new(words, n)),
    };
    let mut cache_counted = cache.bytes(); // bytes of the memo counted in the budget
    *held += cache_counted;
    budget
        .memory_used
        .fetch_add(cache_counted, Ordering::Relaxed);
    // (op | FORCED, state before it). A forced op was the only child worth trying.
    stack.clear();
    let mut state = model.init();
    // The deepest stack seen, copied lazily: at the first backtrack after a new maximum
    // (so a search that never backtracks copies nothing).
    let mut best: Vec<u32> = Vec::new();
    let mut best_state = state;
    let mut best_len = 0usize;
    let mut agree = 0usize; // leading entries of `best` equal to the stack's
    let mut model_bytes = model.bytes();
    *held += model_bytes;
    budget.memory_used.fetch_add(model_bytes, Ordering::Relaxed);
    // The memo starts sized for the history: that first allocation counts too.
    if budget.memory_used.load(Ordering::Relaxed) > budget.memory_limit {
        return SearchResult {
            outcome: Outcome::Aborted(Abort::Memory),
            configurations: 0,
        };
    }
    let mut entry = next[head] as usize;
    let mut fresh = true;
    let mut steps = 0u32;

    macro_rules! abort {
        ($why:expr) => {
            return SearchResult {
                outcome: Outcome::Aborted($why),
                configurations: cache.len(),
            }
        };
    }

    loop {
        if next[head] as usize == tail {
            return SearchResult {
                outcome: Outcome::Linearizable,
                configurations: cache.len(),
            };
        }
        steps = steps.wrapping_add(1);
        // Another key found not linearizable: the verdict is known. Looked at often (a
        // relaxed load), so a worker on a hard key stops soon after; the deadline and the
        // memory counter less often.
        if steps & 0xFF == 0 && budget.cancel.load(Ordering::Relaxed) {
            abort!(Abort::Cancelled);
        }
        if steps & 0x3FFF == 0 {
            if let Some(why) = budget.interrupted() {
                abort!(why);
            }
            // The model's own tables (interned values, memoised transitions) count too.
            let now = model.bytes();
            let delta = now.saturating_sub(model_bytes);
            let before = budget.memory_used.fetch_add(delta, Ordering::Relaxed);
            *held += delta;
            model_bytes = now.max(model_bytes);
            if before + delta > budget.memory_limit {
                abort!(Abort::Memory);
            }
        }
        // The op to try, whether it is forced, and the state after it.
        let mut candidate: Option<(usize, bool, u64)> = None;
        if fresh {
            // A new configuration: if some callable read is legal, it is the only child
            // worth trying (it can be moved to the front of any linearization from here).
            // And if only appends can follow, a read that can never become legal makes
            // this configuration dead.
            fresh = false;
            let mut e = next[head] as usize;
            let mut hopeless = false;
            let mut first_reset: Option<u64> = None; // call of the first pending reset
            while e < n {
                if read_only[e] {
                    if let Some(s) = model.step(state, &ops[e].op) {
                        candidate = Some((e, true, s));
                        break;
                    }
                    if !M::PRUNES_READS {
                        e = next[e] as usize;
                        continue;
                    }
                    let reset_call = *first_reset.get_or_insert_with(|| {
                        while let Some(&r) = resets.get(reset_cursor) {
                            if bits[r as usize / 64] & (1u64 << (r % 64)) == 0 {
                                break;
                            }
                            reset_cursor += 1;
                        }
                        resets
                            .get(reset_cursor)
                            .map_or(INF, |&r| ops[r as usize].call)
                    });
                    // No reset can come before this read: only appends can.
                    if reset_call > ops[e].ret && model.unreachable(state, &ops[e].op) {
                        hopeless = true;
                        break;
                    }
                }
                e = next[e] as usize;
            }
            entry = if hopeless { head } else { next[head] as usize };
        }
        if candidate.is_none() && entry < n {
            let e = entry;
            entry = next[e] as usize;
            // Reads were tried by the pre-scan in this very state: none is legal.
            let twin_pending =
                twin[e] != NONE && bits[twin[e] as usize / 64] & (1u64 << (twin[e] % 64)) == 0;
            if !twin_pending && !read_only[e] {
                if let Some(s) = model.step(state, &ops[e].op) {
                    candidate = Some((e, false, s));
                }
            }
            if candidate.is_none() {
                continue;
            }
        }
        if let Some((e, forced, new_state)) = candidate {
            let growth = cache.growth();
            if let Some(after) = growth {
                let delta = after.saturating_sub(cache_counted);
                if budget.memory_used.load(Ordering::Relaxed) + delta > budget.memory_limit {
                    abort!(Abort::Memory);
                }
            }
            let (w, b) = (e / 64, 1u64 << (e % 64));
            bits[w] |= b;
            let new_hash = hash ^ zobrist[e];
            let inserted = cache.insert(bits, new_state, mix(new_hash, new_state));
            if growth.is_some() {
                // Count what the insert really grew: a configuration seen before grows nothing
                // (counting the growth it might have needed leaked budget at every such hit).
                let delta = cache.bytes().saturating_sub(cache_counted);
                budget.memory_used.fetch_add(delta, Ordering::Relaxed);
                *held += delta;
                cache_counted += delta;
            }
            if inserted {
                stack.push((e as u32 | if forced { FORCED } else { 0 }, state));
                state = new_state;
                hash = new_hash;
                // Lift the call and its return out of the list.
                let (p, q) = (prev[e], next[e]);
                next[p as usize] = q;
                prev[q as usize] = p;
                let r = n + e;
                let (p, q) = (prev[r], next[r]);
                next[p as usize] = q;
                prev[q as usize] = p;
                best_len = best_len.max(stack.len());
                fresh = true;
                continue;
            }
            bits[w] &= !b;
            if !forced {
                continue;
            }
            // A forced child explored before: this configuration is dead.
        }
        // Here entry is a return (an op not linearized in time) or the configuration is dead:
        // backtrack, past forced ops, whose parents have no other child worth trying.
        if stack.len() == best_len && best.len() < best_len {
            // Only what changed since the last copy: `best` and the stack agree up to
            // `agree` (the stack has not been popped below it since).
            best.truncate(agree);
            best.extend(stack[agree..].iter().map(|s| s.0 & !FORCED));
            agree = stack.len();
            best_state = state;
        }
        loop {
            let Some((top, old_state)) = stack.pop() else {
                let failure = explain(model, ops, best, best_state);
                return SearchResult {
                    outcome: Outcome::NotLinearizable(failure),
                    configurations: cache.len(),
                };
            };
            agree = agree.min(stack.len());
            let e = (top & !FORCED) as usize;
            state = old_state;
            bits[e / 64] &= !(1u64 << (e % 64));
            if M::PRUNES_READS {
                reset_cursor = reset_cursor.min(reset_rank[e] as usize);
            }
            hash ^= zobrist[e];
            // Unlift: the return first, then the call.
            let r = n + e;
            next[prev[r] as usize] = r as u32;
            prev[next[r] as usize] = r as u32;
            next[prev[e] as usize] = e as u32;
            prev[next[e] as usize] = e as u32;
            entry = next[e] as usize;
            if top & FORCED == 0 {
                break;
            }
        }
    }
}

/// A key whose ops never overlap (each returns before the next is called; only the last
/// may never return) has one order to check: the ops as they came. Linearizable iff the
/// model accepts them in that order (the last one, if it never returned, may also not have
/// happened). No list, bitset or memo is built: `None` when some ops overlap. The time
/// budget and cancellation are checked as in the search.
fn sequential<M: SeqModel>(
    model: &mut M,
    ops: &[PreparedOp<M::Op>],
    budget: &Budget,
) -> Option<SearchResult> {
    let overlap = ops
        .windows(2)
        .any(|w| w[0].ret == INF || w[0].ret > w[1].call);
    if overlap {
        return None;
    }
    let mut state = model.init();
    for (i, o) in ops.iter().enumerate() {
        if i & 0x3FFF == 0x3FFF {
            if let Some(why) = budget.interrupted() {
                return Some(SearchResult {
                    outcome: Outcome::Aborted(why),
                    configurations: i,
                });
            }
        }
        match model.step(state, &o.op) {
            Some(s) => state = s,
            None if o.ret == INF => break, // the last op, which may not have happened
            None => {
                let prefix = (0..i as u32).collect();
                return Some(SearchResult {
                    outcome: Outcome::NotLinearizable(explain(model, ops, prefix, state)),
                    configurations: i,
                });
            }
        }
    }
    Some(SearchResult {
        outcome: Outcome::Linearizable,
        configurations: ops.len(),
    })
}

/// The ops that could follow the longest prefix, and whether the model accepts each.
fn explain<M: SeqModel>(
    model: &mut M,
    ops: &[PreparedOp<M::Op>],
    prefix: Vec<u32>,
    state: u64,
) -> Failure {
    let mut done = vec![false; ops.len()];
    for &i in &prefix {
        done[i as usize] = true;
    }
    let first_return = ops
        .iter()
        .zip(&done)
        .filter(|(_, d)| !**d)
        .map(|(o, _)| o.ret)
        .min()
        .unwrap_or(u64::MAX);
    let candidates = ops
        .iter()
        .enumerate()
        .filter(|(i, o)| !done[*i] && o.call < first_return)
        .map(|(i, o)| (i as u32, model.step(state, &o.op).is_some()))
        .collect();
    Failure {
        prefix,
        state: model.describe_state(state),
        candidates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizable::model::{RegOp, RegValue, RegisterModel, NIL};

    /// Twenty concurrent writes, then a read of a value none of them wrote: not
    /// linearizable, but only after every order of the writes was tried (millions of
    /// configurations). Another key has already failed: the search stops at its first look
    /// at the flag, after 256 steps, not after 16384.
    #[test]
    fn a_cancelled_search_stops_within_256_steps() {
        let n = 20;
        let write = |i: usize| PreparedOp {
            op: RegOp::Write(i as u64 + 1),
            call: i as u64,
            ret: (n + i) as u64,
            invoke: i,
            complete: Some(n + i),
        };
        let mut ops: Vec<PreparedOp<RegOp>> = (0..n).map(write).collect();
        ops.push(PreparedOp {
            op: RegOp::Read(n as u64 + 1),
            call: 2 * n as u64,
            ret: 2 * n as u64 + 1,
            invoke: 2 * n,
            complete: Some(2 * n + 1),
        });
        let names = std::iter::once(RegValue::Nil)
            .chain((1..=n as i64 + 1).map(RegValue::Int))
            .collect();
        let mut model = RegisterModel { init: NIL, names };
        let budget = |cancel| Budget {
            deadline: None,
            memory_limit: usize::MAX,
            memory_used: AtomicUsize::new(0),
            cancel: AtomicBool::new(cancel),
        };
        let r = search(&mut model, &ops, &budget(true), &mut Scratch::default());
        assert!(matches!(r.outcome, Outcome::Aborted(Abort::Cancelled)));
        assert!(
            r.configurations <= 256,
            "{} configurations",
            r.configurations
        );
        // Not cancelled, the same search goes on well past that (here: up to a deadline).
        let mut late = budget(false);
        late.deadline = Some(Instant::now() + std::time::Duration::from_millis(500));
        let r = search(&mut model, &ops, &late, &mut Scratch::default());
        assert!(matches!(r.outcome, Outcome::Aborted(Abort::Timeout)));
        assert!(
            r.configurations > 16384,
            "{} configurations",
            r.configurations
        );
    }
}
