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

/// Edges collected before the graph is frozen, as three columns (9 bytes an edge, not
/// the 12 of a padded tuple: on a million transactions the list holds millions).
#[derive(Default)]
pub struct EdgeList {
    from: Vec<u32>,
    to: Vec<u32>,
    kind: Vec<u8>,
}

impl EdgeList {
    #[inline]
    pub fn add(&mut self, from: u32, to: u32, kind: u8) {
        if from != to {
            self.from.push(from);
            self.to.push(to);
            self.kind.push(kind);
        }
    }

    pub fn len(&self) -> usize {
        self.from.len()
    }

    pub fn is_empty(&self) -> bool {
        self.from.is_empty()
    }
}

/// A frozen adjacency array.
pub struct Graph {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    kinds: Vec<u8>,
}

impl Graph {
    pub fn build(n: usize, list: EdgeList) -> Graph {
        let mut offsets = vec![0u32; n + 1];
        for &a in &list.from {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let m = list.len();
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; m];
        let mut kinds = vec![0u8; m];
        for e in 0..m {
            let a = list.from[e] as usize;
            let slot = fill[a] as usize;
            fill[a] += 1;
            targets[slot] = list.to[e];
            kinds[slot] = list.kind[e];
        }
        Graph {
            offsets,
            targets,
            kinds,
        }
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
        (self.targets[i], self.kinds[i])
    }

    /// All kinds of the edges from `a` to `b`, as a mask.
    pub fn kinds_between(&self, a: u32, b: u32) -> u8 {
        self.out_range(a)
            .filter(|&i| self.targets[i] == b)
            .fold(0, |m, i| m | self.kinds[i])
    }

    /// Edge counts per kind, for the report.
    pub fn counts(&self) -> [(&'static str, usize); 5] {
        let mut c = [0usize; 5];
        for &k in &self.kinds {
            c[k.trailing_zeros() as usize] += 1;
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
        if let (Status::Ok, Some(c)) = (t.status, t.complete_pos) {
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
            if let (Status::Ok, Some(c)) = (t.status, t.complete_pos) {
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
        if let (Status::Ok, Some(c)) = (t.status, t.complete_pos) {
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
    let mut last: FxMap<Process, u32> = FxMap::default();
    for e in events_in_order(txns) {
        if e & 1 == 0 {
            let t = e >> 1;
            if let Some(p) = last.insert(txns[t as usize].process, t) {
                if txns[p as usize].status == Status::Ok {
                    edges.add(p, t, PROCESS);
                }
            }
        }
    }
}

/// Adds realtime edges as a transitive reduction over ok transactions' completions.
/// Info transactions never complete, so they can follow others but precede none.
pub fn add_realtime_edges(txns: &[Txn], edges: &mut EdgeList) {
    let mut frontier: Vec<u32> = Vec::new();
    // For each txn, the frontier it saw at invocation (as a range into `seen`).
    let mut seen_at: Vec<(u32, u32)> = vec![(0, 0); txns.len()];
    let mut seen: Vec<u32> = Vec::new();
    for e in events_in_order(txns) {
        let (t, done) = (e >> 1, e & 1 == 1);
        if !done {
            let start = seen.len() as u32;
            for &f in &frontier {
                // Same process: the process edge already says so; a cycle through it is
                // a -process anomaly, not a -realtime one.
                if txns[f as usize].process != txns[t as usize].process {
                    edges.add(f, t, REALTIME);
                }
                seen.push(f);
            }
            seen_at[t as usize] = (start, seen.len() as u32);
        } else {
            let (s, e) = seen_at[t as usize];
            let preds = &seen[s as usize..e as usize];
            frontier.retain(|f| !preds.contains(f));
            frontier.push(t);
        }
    }
}
