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

use super::history::{Status, Txn};

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

/// Edges collected before the graph is frozen.
#[derive(Default)]
pub struct EdgeList {
    pub edges: Vec<(u32, u32, u8)>,
}

impl EdgeList {
    #[inline]
    pub fn add(&mut self, from: u32, to: u32, kind: u8) {
        if from != to {
            self.edges.push((from, to, kind));
        }
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
        for &(a, _, _) in &list.edges {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let m = list.edges.len();
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; m];
        let mut kinds = vec![0u8; m];
        for (a, b, k) in list.edges {
            let slot = fill[a as usize] as usize;
            fill[a as usize] += 1;
            targets[slot] = b;
            kinds[slot] = k;
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

/// Adds process edges: each process's transactions in order. Failed ones are skipped.
pub fn add_process_edges(txns: &[Txn], edges: &mut EdgeList) {
    let mut by_pos: Vec<u32> = (0..txns.len() as u32)
        .filter(|&i| txns[i as usize].status != Status::Fail)
        .collect();
    by_pos.sort_unstable_by_key(|&i| (txns[i as usize].process, txns[i as usize].invoke_pos));
    for w in by_pos.windows(2) {
        let (a, b) = (&txns[w[0] as usize], &txns[w[1] as usize]);
        if a.process == b.process {
            edges.add(w[0], w[1], PROCESS);
        }
    }
}

/// Adds realtime edges as a transitive reduction over ok transactions' completions.
/// Info transactions never complete, so they can follow others but precede none.
pub fn add_realtime_edges(txns: &[Txn], edges: &mut EdgeList) {
    // Events in history order: (position, is_completion, txn).
    let mut events: Vec<(usize, bool, u32)> = Vec::with_capacity(txns.len() * 2);
    for (i, t) in txns.iter().enumerate() {
        if t.status == Status::Fail {
            continue;
        }
        events.push((t.invoke_pos, false, i as u32));
        if let (Status::Ok, Some(c)) = (t.status, t.complete_pos) {
            events.push((c, true, i as u32));
        }
    }
    events.sort_unstable();
    let mut frontier: Vec<u32> = Vec::new();
    // For each txn, the frontier it saw at invocation (as a range into `seen`).
    let mut seen_at: Vec<(u32, u32)> = vec![(0, 0); txns.len()];
    let mut seen: Vec<u32> = Vec::new();
    for (_, done, t) in events {
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
