//! Cycle existence by model, Elle's `cycle-exists-cases`: proof that *some* cycle a model
//! forbids exists in a component, without finding it.
//!
//! Why: cycle search per class can run out of budget on a huge component, and "we could
//! not find the cycle" must never read as "there is none". A strongly connected component
//! of the subgraph a model requires to be acyclic is itself the proof that the model does
//! not hold, found in linear time. Each spec names Elle's anomaly
//! (`<spec>-cycle-exists`) and the model it rules out:
//! - read-uncommitted (PL-1): ww; read-committed (PL-2): ww, wr;
//! - snapshot-isolation (PL-SI): ww and wr, each rw only right after one of them (Elle's
//!   sequential extension; Cerone and Gotsman: SI iff `(WW ∪ WR ∪ SO) ; RW?` is acyclic),
//!   searched on a two-state product graph (state = "last edge was rw") so no composite
//!   edge set is built;
//! - repeatable-read (PL-2.99) and serializable (PL-3): ww, wr, rw (our reads have no
//!   predicates, so the two coincide);
//! - the strong-session variants add process edges, the strong variants realtime edges.
//!   Our realtime edges leave out pairs of one process (the process edge says it), so the
//!   realtime specs take process edges too.
//!
//! Per component, specs go weakest first and a found spec skips the stronger models it
//! already rules out, as in Elle.

use super::fx::FxMap;
use super::graph::{EdgeList, Graph, ALL, PROCESS, REALTIME, RW, WR, WW};
use super::scc::SccFinder;

/// One acyclicity requirement of a model.
#[derive(Clone, Copy, Debug)]
pub struct ExistsSpec {
    /// Elle's anomaly name, e.g. `PL-SI-cycle-exists`.
    pub anomaly: &'static str,
    /// The model it rules out.
    pub model: &'static str,
    /// Edge kinds of the subgraph.
    pub kinds: u8,
    /// Whether rw edges may follow (only) one of `kinds` (the SI extension).
    pub extend_rw: bool,
    /// A short description of the subgraph, for the report.
    pub subgraph: &'static str,
}

const fn spec(
    anomaly: &'static str,
    model: &'static str,
    kinds: u8,
    extend_rw: bool,
    subgraph: &'static str,
) -> ExistsSpec {
    ExistsSpec {
        anomaly,
        model,
        kinds,
        extend_rw,
        subgraph,
    }
}

const P: u8 = PROCESS;
const R: u8 = REALTIME | PROCESS;

/// Elle's `cycle-exists-specs`, in its order (weakest first within each family).
pub const SPECS: [ExistsSpec; 13] = [
    spec("PL-1-cycle-exists", "read-uncommitted", WW, false, "ww"),
    spec(
        "PL-2-cycle-exists",
        "read-committed",
        WW | WR,
        false,
        "ww, wr",
    ),
    spec(
        "PL-SI-cycle-exists",
        "snapshot-isolation",
        WW | WR,
        true,
        "ww, wr, each rw after one of them",
    ),
    spec(
        "PL-2.99-cycle-exists",
        "repeatable-read",
        WW | WR | RW,
        false,
        "ww, wr, rw",
    ),
    spec(
        "PL-3-cycle-exists",
        "serializable",
        WW | WR | RW,
        false,
        "ww, wr, rw",
    ),
    spec(
        "strong-session-PL-1-cycle-exists",
        "strong-session-read-uncommitted",
        WW | P,
        false,
        "ww, process",
    ),
    spec(
        "strong-session-PL-2-cycle-exists",
        "strong-session-read-committed",
        WW | WR | P,
        false,
        "ww, wr, process",
    ),
    spec(
        "strong-session-snapshot-isolation-cycle-exists",
        "strong-session-snapshot-isolation",
        WW | WR | P,
        true,
        "ww, wr, process, each rw after one of them",
    ),
    spec(
        "strong-session-serializable-cycle-exists",
        "strong-session-serializable",
        WW | WR | RW | P,
        false,
        "ww, wr, rw, process",
    ),
    spec(
        "strong-PL-1-cycle-exists",
        "strong-read-uncommitted",
        WW | R,
        false,
        "ww, realtime, process",
    ),
    spec(
        "strong-PL-2-cycle-exists",
        "strong-read-committed",
        WW | WR | R,
        false,
        "ww, wr, realtime, process",
    ),
    spec(
        "strong-snapshot-isolation-cycle-exists",
        "strong-snapshot-isolation",
        WW | WR | R,
        true,
        "ww, wr, realtime, process, each rw after one of them",
    ),
    spec(
        "PL-SS-cycle-exists",
        "strict-serializable",
        WW | WR | RW | R,
        false,
        "ww, wr, rw, realtime, process",
    ),
];

/// The vertices of the smallest cycle-carrying component of `spec`'s subgraph within
/// `scc`, or `None` when that subgraph is acyclic there.
pub fn smallest(
    g: &Graph,
    finder: &mut SccFinder,
    scc: &[u32],
    spec: &ExistsSpec,
) -> Option<Vec<u32>> {
    let comps = if spec.extend_rw {
        extended(g, scc, spec.kinds)
    } else {
        finder.within(g, scc, spec.kinds)
    };
    comps.into_iter().min_by_key(Vec::len)
}

/// Components of the two-state product graph: `(v, after_rw)`. A `kinds` edge leads to
/// state 0 from either state; an rw edge only from state 0, into state 1. A cycle there
/// is a closed walk in which no rw follows an rw.
fn extended(g: &Graph, scc: &[u32], kinds: u8) -> Vec<Vec<u32>> {
    let mut local: FxMap<u32, u32> = FxMap::default();
    for (i, &v) in scc.iter().enumerate() {
        local.insert(v, i as u32);
    }
    let n = scc.len() as u32;
    let mut edges = EdgeList::default();
    for (i, &v) in scc.iter().enumerate() {
        let i = i as u32;
        for e in g.out_range(v) {
            let (w, k) = g.edge(e);
            let Some(&j) = local.get(&w) else { continue };
            if k & kinds != 0 {
                edges.add(i, j, WW);
                edges.add(n + i, j, WW);
            } else if k == RW {
                edges.add(i, n + j, WW);
            }
        }
    }
    let product = Graph::build(2 * n as usize, edges);
    SccFinder::new(2 * n as usize)
        .all(&product, ALL)
        .into_iter()
        .map(|c| {
            let mut vs: Vec<u32> = c.iter().map(|&x| scc[(x % n) as usize]).collect();
            vs.sort_unstable();
            vs.dedup();
            vs
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, es: &[(u32, u32, u8)]) -> Graph {
        let mut e = EdgeList::default();
        for &(a, b, k) in es {
            e.add(a, b, k);
        }
        Graph::build(n, e)
    }

    fn exists(g: &Graph, name: &str) -> bool {
        let s = SPECS.iter().find(|s| s.anomaly == name).unwrap();
        let all: Vec<u32> = (0..g.vertex_count() as u32).collect();
        smallest(g, &mut SccFinder::new(g.vertex_count()), &all, s).is_some()
    }

    #[test]
    fn write_skew_breaks_serializable_but_not_si() {
        // T0 -rw-> T1 -rw-> T0: two adjacent rw edges.
        let g = graph(2, &[(0, 1, RW), (1, 0, RW)]);
        assert!(exists(&g, "PL-3-cycle-exists"));
        assert!(exists(&g, "PL-2.99-cycle-exists"));
        assert!(!exists(&g, "PL-SI-cycle-exists"));
        assert!(!exists(&g, "PL-2-cycle-exists"));
    }

    #[test]
    fn read_skew_breaks_si() {
        // T0 -wr-> T1 -rw-> T0: one rw after a wr.
        let g = graph(2, &[(0, 1, WR), (1, 0, RW)]);
        assert!(exists(&g, "PL-SI-cycle-exists"));
        assert!(!exists(&g, "PL-2-cycle-exists"));
        // ... and two nonadjacent rw edges too.
        let g = graph(4, &[(0, 1, RW), (1, 2, WR), (2, 3, RW), (3, 0, WR)]);
        assert!(exists(&g, "PL-SI-cycle-exists"));
    }

    #[test]
    fn realtime_specs_need_realtime_edges() {
        let g = graph(2, &[(0, 1, RW), (1, 0, REALTIME)]);
        assert!(!exists(&g, "PL-3-cycle-exists"));
        assert!(exists(&g, "strong-snapshot-isolation-cycle-exists"));
        assert!(exists(&g, "PL-SS-cycle-exists"));
        assert!(!exists(&g, "strong-session-serializable-cycle-exists"));
    }
}
