//! Cycle search by anomaly class, within one strongly connected component.
//!
//! Classes (Adya's, as Elle names them), by the data edges a cycle uses:
//! - `G0`: ww only (write cycle);
//! - `G1c`: ww and wr, at least one wr (circular information flow);
//! - `G-single`: exactly one rw, the rest ww/wr (read skew);
//! - `G-nonadjacent`: two or more rw, no two of them adjacent;
//! - `G2-item`: two or more rw with some adjacent (write skew and worse).
//!
//! Each has a `-process` variant (process edges allowed, at least one used) and a
//! `-realtime` variant (process and realtime edges allowed, at least one realtime used).
//!
//! Search: pick an anchor edge of a kind the class must contain, then breadth-first search
//! from its head back to its tail over (vertex, flags) states, where the flags track what
//! the path has used so far (wr seen, required kind seen, rw count, last edge rw, adjacent rw
//! pair seen). BFS gives a shortest qualifying cycle. Anchors are pre-filtered by the
//! components of the class's own edge kinds, which for G0 and G1c makes the first anchor
//! succeed. The search is bounded per class and by a deadline; running out is
//! reported, never guessed.

use super::fx::FxMap;
use super::graph::{Graph, PROCESS, REALTIME, RW, WR, WW};
use super::scc::SccFinder;
use std::collections::VecDeque;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    G0,
    G1c,
    GSingle,
    GNonadjacent,
    G2Item,
}

/// One anomaly class to search for.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub name: &'static str,
    pub base: Base,
    /// Non-data edge kinds the cycle may use.
    pub extra: u8,
    /// The non-data edge kind the cycle must use (0: none).
    pub require: u8,
}

const NAMES: [[&str; 5]; 3] = [
    ["G0", "G1c", "G-single", "G-nonadjacent", "G2-item"],
    [
        "G0-process",
        "G1c-process",
        "G-single-process",
        "G-nonadjacent-process",
        "G2-item-process",
    ],
    [
        "G0-realtime",
        "G1c-realtime",
        "G-single-realtime",
        "G-nonadjacent-realtime",
        "G2-item-realtime",
    ],
];

/// All fifteen cycle classes, most severe first.
pub fn specs() -> Vec<Spec> {
    let bases = [
        Base::G0,
        Base::G1c,
        Base::GSingle,
        Base::GNonadjacent,
        Base::G2Item,
    ];
    let variants = [(0, 0), (PROCESS, PROCESS), (PROCESS | REALTIME, REALTIME)];
    let mut out = Vec::new();
    for (vi, &(extra, require)) in variants.iter().enumerate() {
        for (bi, &base) in bases.iter().enumerate() {
            out.push(Spec {
                name: NAMES[vi][bi],
                base,
                extra,
                require,
            });
        }
    }
    out
}

impl Spec {
    fn data_kinds(&self) -> u8 {
        match self.base {
            Base::G0 => WW,
            Base::G1c => WW | WR,
            _ => WW | WR | RW,
        }
    }
    fn allowed(&self) -> u8 {
        self.data_kinds() | self.extra
    }
    fn anchor_kind(&self) -> u8 {
        match self.base {
            Base::G0 if self.require != 0 => self.require,
            Base::G0 => WW,
            Base::G1c => WR,
            _ => RW,
        }
    }
    /// Edge kinds whose components must hold both ends of an anchor.
    fn component_kinds(&self) -> u8 {
        self.allowed()
    }
}

/// One edge of a found cycle.
pub type Step = (u32, u32, u8);

/// Outcome of a search in one component.
pub enum Found {
    Cycle(Vec<Step>),
    None,
    /// The budget ran out before the search was complete.
    OutOfBudget,
}

const WR_SEEN: u8 = 1;
const REQ_SEEN: u8 = 2;
const RW_SHIFT: u8 = 2;
const RW_MASK: u8 = 3 << RW_SHIFT;
const LAST_RW: u8 = 16;
const ADJ: u8 = 32;

fn rw_count(f: u8) -> u8 {
    (f & RW_MASK) >> RW_SHIFT
}

fn step(spec: &Spec, f: u8, kind: u8) -> Option<u8> {
    let mut f = f;
    if kind == RW {
        if f & LAST_RW != 0 {
            if spec.base == Base::GNonadjacent {
                return None;
            }
            f |= ADJ;
        }
        let c = (rw_count(f) + 1).min(2);
        if spec.base == Base::GSingle && c > 1 {
            return None;
        }
        f = (f & !RW_MASK) | (c << RW_SHIFT) | LAST_RW;
    } else {
        f &= !LAST_RW;
        if kind == WR {
            f |= WR_SEEN;
        }
    }
    if kind & spec.require != 0 {
        f |= REQ_SEEN;
    }
    Some(f)
}

fn accept(spec: &Spec, f: u8, anchor: u8) -> bool {
    if spec.require != 0 && f & REQ_SEEN == 0 {
        return false;
    }
    let wrap_adj = f & LAST_RW != 0 && anchor == RW;
    match spec.base {
        Base::G0 => true,
        Base::G1c => f & WR_SEEN != 0,
        Base::GSingle => rw_count(f) == 1,
        Base::GNonadjacent => rw_count(f) == 2 && !wrap_adj,
        Base::G2Item => rw_count(f) == 2 && (f & ADJ != 0 || wrap_adj),
    }
}

/// Searches `scc` for one cycle of class `spec`.
pub fn find(
    g: &Graph,
    finder: &mut SccFinder,
    scc: &[u32],
    spec: &Spec,
    deadline: Instant,
) -> Found {
    let subs = finder.within(g, scc, spec.component_kinds());
    let mut comp: FxMap<u32, u32> = FxMap::default();
    for (i, c) in subs.iter().enumerate() {
        for &v in c {
            comp.insert(v, i as u32);
        }
    }
    let anchor_kind = spec.anchor_kind();
    let max_anchors = match spec.base {
        Base::GNonadjacent | Base::G2Item => 64,
        _ => 512,
    };
    let mut tried = 0;
    for c in &subs {
        for &a in c {
            for i in g.out_range(a) {
                let (b, kind) = g.edge(i);
                if kind != anchor_kind || comp.get(&b) != comp.get(&a) {
                    continue;
                }
                if tried == max_anchors || Instant::now() > deadline {
                    return Found::OutOfBudget;
                }
                tried += 1;
                match bfs(g, &comp, spec, (a, b, kind), deadline) {
                    Some(cycle) => return Found::Cycle(cycle),
                    None if Instant::now() > deadline => return Found::OutOfBudget,
                    None => {}
                }
            }
        }
    }
    Found::None
}

/// Shortest path from the anchor's head back to its tail that completes a cycle of `spec`.
fn bfs(
    g: &Graph,
    comp: &FxMap<u32, u32>,
    spec: &Spec,
    anchor: Step,
    deadline: Instant,
) -> Option<Vec<Step>> {
    let (a, b, kind) = anchor;
    let home = comp[&a];
    let allowed = spec.allowed();
    let f0 = step(spec, 0, kind)?;
    let mut seen: FxMap<u32, u64> = FxMap::default();
    let mut parent: FxMap<(u32, u8), (u32, u8, u8)> = FxMap::default();
    let mut queue = VecDeque::new();
    seen.insert(b, 1 << f0);
    queue.push_back((b, f0));
    let mut pops = 0u32;
    while let Some((v, f)) = queue.pop_front() {
        pops += 1;
        if pops % 4096 == 0 && Instant::now() > deadline {
            return None;
        }
        for i in g.out_range(v) {
            let (w, k) = g.edge(i);
            if k & allowed == 0 || comp.get(&w) != Some(&home) {
                continue;
            }
            let Some(f2) = step(spec, f, k) else { continue };
            if w == a {
                if accept(spec, f2, kind) {
                    let mut path = vec![(v, a, k)];
                    let mut cur = (v, f);
                    while cur != (b, f0) {
                        let (pv, pf, pk) = parent[&cur];
                        path.push((pv, cur.0, pk));
                        cur = (pv, pf);
                    }
                    path.push(anchor);
                    path.reverse();
                    if is_simple(&path) {
                        return Some(path);
                    }
                }
                continue;
            }
            let bits = seen.entry(w).or_insert(0);
            if *bits & (1 << f2) != 0 {
                continue;
            }
            *bits |= 1 << f2;
            parent.insert((w, f2), (v, f, k));
            queue.push_back((w, f2));
        }
    }
    None
}

fn is_simple(path: &[Step]) -> bool {
    let mut nodes: Vec<u32> = path.iter().map(|s| s.0).collect();
    nodes.sort_unstable();
    nodes.windows(2).all(|w| w[0] != w[1])
}

/// The class a cycle of these edge kinds belongs to (for checking search results).
pub fn classify(kinds: &[u8]) -> &'static str {
    let rws: Vec<usize> = (0..kinds.len()).filter(|&i| kinds[i] == RW).collect();
    let has = |k: u8| kinds.contains(&k);
    let vi = if has(REALTIME) {
        2
    } else if has(PROCESS) {
        1
    } else {
        0
    };
    let bi = match rws.len() {
        0 if has(WR) => 1,
        0 => 0,
        1 => 2,
        n => {
            let adjacent = (0..n).any(|j| {
                let (x, y) = (rws[j], rws[(j + 1) % n]);
                y == (x + 1) % kinds.len()
            });
            if adjacent {
                4
            } else {
                3
            }
        }
    };
    NAMES[vi][bi]
}
