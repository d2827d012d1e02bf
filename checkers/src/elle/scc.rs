//! Strongly connected components by Tarjan's algorithm, iteratively: an explicit call
//! stack instead of recursion, so a chain of a million transactions cannot overflow the
//! thread's stack.
//!
//! [`SccFinder`] keeps its per-vertex arrays between calls and resets only what it touched,
//! so searching many small subgraphs (one per component, per anomaly class) stays cheap.

use super::graph::Graph;

const UNSET: u32 = u32::MAX;

pub struct SccFinder {
    index: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    /// Subgraph membership: `member[v] == epoch`.
    member: Vec<u32>,
    epoch: u32,
    touched: Vec<u32>,
}

impl SccFinder {
    pub fn new(n: usize) -> Self {
        SccFinder {
            index: vec![UNSET; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            member: vec![0; n],
            epoch: 0,
            touched: Vec::new(),
        }
    }

    /// Components with more than one vertex of the whole graph, using edges whose kind is in
    /// `mask`.
    pub fn all(&mut self, g: &Graph, mask: u8) -> Vec<Vec<u32>> {
        self.run(g, 0..g.vertex_count() as u32, true, mask)
    }

    /// Components with more than one vertex of the subgraph induced by `nodes`, using edges
    /// whose kind is in `mask`.
    pub fn within(&mut self, g: &Graph, nodes: &[u32], mask: u8) -> Vec<Vec<u32>> {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.member.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
        for &v in nodes {
            self.member[v as usize] = self.epoch;
        }
        self.run(g, nodes.iter().copied(), false, mask)
    }

    /// Tarjan's algorithm from each of `roots` in turn, within the current members unless
    /// `everyone` (the whole graph: no membership to check, and no list of touched vertices
    /// to reset, which would be as long as the graph).
    fn run(
        &mut self,
        g: &Graph,
        roots: impl Iterator<Item = u32>,
        everyone: bool,
        mask: u8,
    ) -> Vec<Vec<u32>> {
        let mut out = Vec::new();
        let mut counter = 0u32;
        let mut stack: Vec<u32> = Vec::new();
        // (vertex, next out-edge position): edge positions are u32 in the graph too.
        let mut calls: Vec<(u32, u32)> = Vec::new();
        for root in roots {
            if self.index[root as usize] != UNSET {
                continue;
            }
            self.visit(root, &mut counter, &mut stack, everyone);
            calls.push((root, g.out_range(root).start as u32));
            while let Some(&mut (v, ref mut next)) = calls.last_mut() {
                let end = g.out_range(v).end;
                if (*next as usize) < end {
                    let (w, kind) = g.edge(*next as usize);
                    *next += 1;
                    if kind & mask == 0 || (!everyone && self.member[w as usize] != self.epoch) {
                        continue;
                    }
                    if self.index[w as usize] == UNSET {
                        self.visit(w, &mut counter, &mut stack, everyone);
                        calls.push((w, g.out_range(w).start as u32));
                    } else if self.on_stack[w as usize] {
                        let lw = self.index[w as usize];
                        let lv = &mut self.low[v as usize];
                        *lv = (*lv).min(lw);
                    }
                    continue;
                }
                calls.pop();
                let lv = self.low[v as usize];
                if let Some(&(u, _)) = calls.last() {
                    let lu = &mut self.low[u as usize];
                    *lu = (*lu).min(lv);
                }
                if lv == self.index[v as usize] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("tarjan stack holds v");
                        self.on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    if comp.len() > 1 {
                        out.push(comp);
                    }
                }
            }
        }
        if everyone {
            self.index.iter_mut().for_each(|i| *i = UNSET);
        }
        for &v in &self.touched {
            self.index[v as usize] = UNSET;
        }
        self.touched.clear();
        out
    }

    #[inline]
    fn visit(&mut self, v: u32, counter: &mut u32, stack: &mut Vec<u32>, everyone: bool) {
        self.index[v as usize] = *counter;
        self.low[v as usize] = *counter;
        *counter += 1;
        self.on_stack[v as usize] = true;
        stack.push(v);
        if !everyone {
            self.touched.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::graph::{EdgeList, Graph, RW, WW};
    use super::*;

    #[test]
    fn finds_cycles_and_respects_masks() {
        let mut e = EdgeList::default();
        e.add(0, 1, WW);
        e.add(1, 2, WW);
        e.add(2, 0, RW);
        e.add(3, 4, WW);
        let g = Graph::build(5, e);
        let mut f = SccFinder::new(5);
        let mut all = f.all(&g, WW | RW);
        all[0].sort();
        assert_eq!(all, vec![vec![0, 1, 2]]);
        assert!(f.all(&g, WW).is_empty());
        assert!(f.within(&g, &[0, 1], WW | RW).is_empty());
    }

    #[test]
    fn a_million_long_cycle_does_not_overflow_the_stack() {
        let n = 1_000_000u32;
        let mut e = EdgeList::default();
        for i in 0..n {
            e.add(i, (i + 1) % n, WW);
        }
        let g = Graph::build(n as usize, e);
        let sccs = SccFinder::new(n as usize).all(&g, WW);
        assert_eq!(sccs.len(), 1);
        assert_eq!(sccs[0].len(), n as usize);
    }
}
