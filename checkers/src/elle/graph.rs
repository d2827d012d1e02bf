//! The dependency graph: one vertex per transaction, typed edges.
//!
//! Edge kinds are bits so an edge set is a mask: `ww` (write-write: T1 installed a version,
//! T2 the next one), `wr` (T2 read what T1 wrote), `rw` (T1 read a version that T2
//! overwrote: anti-dependency), `process` (same process, one after the other) and
//! `realtime` (T1 completed before T2 was invoked). Realtime edges are kept as a transitive
//! reduction computed by a sweep over the history (Elle's frontier method): each
//! invocation links from the current frontier of completed transactions not yet followed
//! by another completed one, so edges stay near `n × concurrency`, not `n²`.
//!
//! The graph is a compressed adjacency array built by a counting pass (no sort); the same
//! pair may appear once per kind.

use super::fx::FxMap;
use super::history::{Status, Txn};
use faultline_core::Process;

pub const WW: u8 = 1;
pub const WR: u8 = 2;
pub const RW: u8 = 4;
pub const PROCESS: u8 = 8;
pub const REALTIME: u8 = 16;
pub const DATA: u8 = WW | WR | RW;
pub const ALL: u8 = DATA | PROCESS | REALTIME;

/// The name of one edge kind, as Elle spells it.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        PROCESS => "process",
        REALTIME => "realtime",
        _ => "?",
    }
}

/// Edges collected before the graph is frozen: per edge its source with its kind in the
/// top bits, and its target (8 bytes an edge: inference collects tens of millions), in
/// chunks of `EDGE_CHUNK` edges that [`Graph::build`] frees one by one as it copies them
/// into the adjacency array, so the list and the array are not both whole at once.
#[derive(Default)]
pub struct EdgeList {
    chunks: Vec<EdgeChunk>,
    len: usize,
}

#[derive(Default)]
struct EdgeChunk {
    from_kind: Vec<u32>,
    to: Vec<u32>,
}

/// Edges per chunk after the first (which grows from empty): large enough (36 MB a column)
/// that the allocator maps each column on its own and gives it back when it is freed.
const EDGE_CHUNK: usize = 9 << 20;
/// Vertices are below `1 << KIND_SHIFT`; above are the kind's bit number.
const KIND_SHIFT: u32 = 29;

impl EdgeList {
    #[inline]
    pub fn add(&mut self, from: u32, to: u32, kind: u8) {
        if from == to {
            return;
        }
        assert!(from.max(to) <= VERTEX, "at most 2^29 vertices");
        let full = self
            .chunks
            .last()
            .is_none_or(|c| c.from_kind.len() >= EDGE_CHUNK);
        if full {
            let cap = if self.chunks.is_empty() {
                0
            } else {
                EDGE_CHUNK
            };
            self.chunks.push(EdgeChunk {
                from_kind: Vec::with_capacity(cap),
                to: Vec::with_capacity(cap),
            });
        }
        let c = self.chunks.last_mut().expect("pushed above");
        c.from_kind
            .push(from | (kind.trailing_zeros() << KIND_SHIFT));
        c.to.push(to);
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The sources of all edges, in order.
    fn sources(&self) -> impl Iterator<Item = u32> + '_ {
        let mask = (1 << KIND_SHIFT) - 1;
        self.chunks
            .iter()
            .flat_map(move |c| c.from_kind.iter().map(move |&f| f & mask))
    }

    /// Calls `f(from, to, kind)` on each edge in order, freeing each chunk after it.
    fn drain(self, mut f: impl FnMut(u32, u32, u8)) {
        let mask = (1 << KIND_SHIFT) - 1;
        for c in self.chunks {
            for (&fk, &to) in c.from_kind.iter().zip(&c.to) {
                f(fk & mask, to, 1 << (fk >> KIND_SHIFT));
            }
        }
    }
}

/// A frozen adjacency array.
pub struct Graph {
    offsets: Vec<u32>,
    /// Per edge its target with its kind's bit number in the top bits (as in
    /// [`EdgeList`]): four bytes an edge.
    targets: Vec<u32>,
}

const VERTEX: u32 = (1 << KIND_SHIFT) - 1;

#[inline]
fn pack(to: u32, kind: u8) -> u32 {
    to | (kind.trailing_zeros() << KIND_SHIFT)
}

impl Graph {
    /// The graph of `list`'s edges.
    pub fn build(n: usize, list: EdgeList) -> Graph {
        Graph::build_with(n, list, |_| {})
    }

    /// The graph of the data edges `data` (from inference) followed by the process and
    /// realtime edges of `txns`. Those are generated straight into the adjacency array, once
    /// to count and once to fill, so they never sit in an edge list as well (they are about
    /// half the edges). Each vertex's out-edges are in the order of
    /// [`add_process_edges`] and [`add_realtime_edges`] after `data`, as with one list.
    pub fn with_order_edges(txns: &[Txn], data: EdgeList) -> Graph {
        // The events are recomputed per pass rather than held while the data edges are
        // copied (the peak of the build).
        Graph::build_with(txns.len(), data, |emit| {
            let events = events_in_order(txns);
            process_edges(txns, &events, emit);
            realtime_edges(txns, &events, emit);
        })
    }

    /// The graph of `list`'s edges then those `more` emits (called twice: it must emit
    /// the same edges in the same order both times).
    fn build_with(n: usize, list: EdgeList, more: impl Fn(&mut dyn FnMut(u32, u32, u8))) -> Graph {
        assert!(n <= VERTEX as usize + 1, "at most 2^29 vertices");
        let mut offsets = vec![0u32; n + 1];
        for a in list.sources() {
            offsets[a as usize + 1] += 1;
        }
        more(&mut |a, b, _| {
            if a != b {
                offsets[a as usize + 1] += 1;
            }
        });
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let m = offsets[n] as usize;
        let mut targets = vec![0u32; m];
        // `offsets[a]` is `a`'s fill cursor (no copy of the array): it ends at `a`'s end,
        // which is `a + 1`'s start, so the array is shifted back by one afterwards.
        let mut put = |a: u32, b: u32, k: u8| {
            let slot = offsets[a as usize] as usize;
            offsets[a as usize] += 1;
            targets[slot] = pack(b, k);
        };
        list.drain(&mut put);
        more(&mut |a, b, k| {
            if a != b {
                put(a, b, k)
            }
        });
        offsets.copy_within(0..n, 1);
        offsets[0] = 0;
        Graph { offsets, targets }
    }

    pub fn vertex_count(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// The range of `v`'s out-edges in [`Graph::edge`] positions.
    #[inline]
    pub fn out_range(&self, v: u32) -> std::ops::Range<usize> {
        self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize
    }

    #[inline]
    pub fn edge(&self, i: usize) -> (u32, u8) {
        let t = self.targets[i];
        (t & VERTEX, 1 << (t >> KIND_SHIFT))
    }

    /// All kinds of the edges from `a` to `b`, as a mask.
    pub fn kinds_between(&self, a: u32, b: u32) -> u8 {
        self.out_range(a)
            .map(|i| self.edge(i))
            .filter(|&(t, _)| t == b)
            .fold(0, |m, (_, k)| m | k)
    }

    /// Edge counts per kind, for the report.
    pub fn counts(&self) -> [(&'static str, usize); 5] {
        let mut c = [0usize; 5];
        for &t in &self.targets {
            c[(t >> KIND_SHIFT) as usize] += 1;
        }
        [
            ("ww", c[0]),
            ("wr", c[1]),
            ("rw", c[2]),
            ("process", c[3]),
            ("realtime", c[4]),
        ]
    }
}

/// Non-failed transactions' invocations and ok transactions' completions in history
/// order, each as `txn << 1 | is_completion`. Positions are dense in real histories, so
/// this is a bucket pass, not a sort; a sort is the fallback for sparse or repeated ones.
fn events_in_order(txns: &[Txn]) -> Vec<u32> {
    let mut max = 0usize;
    let mut count = 0usize;
    for t in txns.iter().filter(|t| t.status != Status::Fail) {
        count += 1;
        max = max.max(t.invoke_pos as usize);
        if let (Status::Ok, Some(c)) = (t.status, t.complete_pos()) {
            count += 1;
            max = max.max(c as usize);
        }
    }
    if max < 4 * count + 16 {
        let mut slots = vec![u32::MAX; max + 1];
        let mut clash = false;
        for (i, t) in txns.iter().enumerate() {
            if t.status == Status::Fail {
                continue;
            }
            let mut put = |pos: usize, e: u32| {
                if slots[pos] != u32::MAX {
                    clash = true;
                }
                slots[pos] = e;
            };
            put(t.invoke_pos as usize, (i as u32) << 1);
            if let (Status::Ok, Some(c)) = (t.status, t.complete_pos()) {
                put(c as usize, (i as u32) << 1 | 1);
            }
        }
        if !clash {
            slots.retain(|&e| e != u32::MAX);
            return slots;
        }
    }
    let mut events: Vec<(usize, u32)> = Vec::with_capacity(count);
    for (i, t) in txns.iter().enumerate() {
        if t.status == Status::Fail {
            continue;
        }
        events.push(((t.invoke_pos as usize) << 1, (i as u32) << 1));
        if let (Status::Ok, Some(c)) = (t.status, t.complete_pos()) {
            events.push(((c as usize) << 1 | 1, (i as u32) << 1 | 1));
        }
    }
    events.sort_unstable();
    events.into_iter().map(|(_, e)| e).collect()
}

/// Adds process edges: each process's transactions in order. Failed ones are skipped,
/// and none leaves an indeterminate (`info`) one: a client that timed out moves on while
/// its transaction may still commit later, so "invoked after" proves no order (Jepsen
/// gives such a process a new id for the same reason).
pub fn add_process_edges(txns: &[Txn], edges: &mut EdgeList) {
    process_edges(txns, &events_in_order(txns), &mut |a, b, k| {
        edges.add(a, b, k)
    });
}

fn process_edges(txns: &[Txn], events: &[u32], emit: &mut dyn FnMut(u32, u32, u8)) {
    let mut last: FxMap<Process, u32> = FxMap::default();
    for &e in events {
        if e & 1 == 0 {
            let t = e >> 1;
            if let Some(p) = last.insert(txns[t as usize].process(), t) {
                if txns[p as usize].status == Status::Ok {
                    emit(p, t, PROCESS);
                }
            }
        }
    }
}

/// Adds realtime edges as a transitive reduction over ok transactions' completions.
/// Info transactions never complete, so they can follow others but precede none.
pub fn add_realtime_edges(txns: &[Txn], edges: &mut EdgeList) {
    realtime_edges(txns, &events_in_order(txns), &mut |a, b, k| {
        edges.add(a, b, k)
    });
}

/// The frontier sweep: each invocation links from the frontier; a completion replaces the
/// frontier members it saw at its invocation. A member was there then iff it completed
/// before that invocation (members only ever leave), that is iff its completion position
/// is below the invocation's ([`events_in_order`] puts an invocation before a completion
/// at the same position), so each frontier entry carries its completion position instead
/// of each txn a copy of the frontier it saw.
fn realtime_edges(txns: &[Txn], events: &[u32], emit: &mut dyn FnMut(u32, u32, u8)) {
    let mut frontier: Vec<(u32, u32)> = Vec::new();
    for &e in events {
        let (t, done) = (e >> 1, e & 1 == 1);
        let tx = &txns[t as usize];
        if !done {
            for &(f, _) in &frontier {
                // Same process: the process edge already says so; a cycle through it is
                // a -process anomaly, not a -realtime one.
                if txns[f as usize].process() != tx.process() {
                    emit(f, t, REALTIME);
                }
            }
        } else {
            let since = tx.invoke_pos;
            frontier.retain(|&(_, completed)| completed >= since);
            frontier.push((t, tx.complete_pos().expect("a completion event")));
        }
    }
}
