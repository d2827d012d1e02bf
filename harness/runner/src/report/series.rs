//! What the plots draw, taken from the history once: a latency point per client op (at its
//! invoke time, coloured by outcome, grouped by op type) and completions per time bucket per
//! op type and outcome.
//!
//! Bounded: past [`MAX_POINTS`] points, each op type and outcome keeps one point per cell of
//! the plot's pixel grid (points drawn on the same cell look the same), then every k-th
//! point until the total fits [`MAX_POINTS`]. The counts of what was dropped are kept for
//! the caption.

use faultline_core::{History, OpType};
use std::collections::BTreeMap;

/// More latency points than this are downsampled.
pub const MAX_POINTS: usize = 100_000;
/// At most this many op types get a panel of their own; the rest are named in the caption.
pub const MAX_OP_TYPES: usize = 6;
/// Width of the grid cells used to downsample, in plot pixels.
const CELL_PX: f64 = 2.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Ok,
    Fail,
    Info,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Ok, Outcome::Fail, Outcome::Info];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
        }
    }
}

/// One completed client op: invoked at `t` seconds, answered `latency_ms` later.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub t: f64,
    pub latency_ms: f64,
    pub outcome: Outcome,
}

/// One op type's points and rates.
#[derive(Clone, Debug, Default)]
pub struct OpSeries {
    pub points: Vec<Point>,
    /// Completions per bucket, per outcome (index of [`Outcome::ALL`]).
    pub per_bucket: [Vec<u32>; 3],
}

#[derive(Clone, Debug, Default)]
pub struct Series {
    pub duration_s: f64,
    pub bucket_s: f64,
    pub by_f: BTreeMap<String, OpSeries>,
    /// Op types left out of the plots (past [`MAX_OP_TYPES`]).
    pub omitted_f: Vec<String>,
    /// Completed client ops, and how many of their points are drawn.
    pub completed: usize,
    pub drawn: usize,
    /// Shortest and longest latency, ms (the plots' y range).
    pub latency_range_ms: (f64, f64),
}

/// The plot grid the downsampling uses: `(width, height)` in pixels of one latency panel.
pub const GRID: (f64, f64) = (1000.0, 160.0);

pub fn series(history: &History, duration_s: f64) -> Series {
    let duration_s = duration_s.max(1.0);
    let bucket_s = (duration_s / 200.0).max(1.0);
    let buckets = (duration_s / bucket_s).ceil() as usize + 1;
    let pairs = history.pairs();
    let mut by_f: BTreeMap<String, OpSeries> = BTreeMap::new();
    let (mut lo, mut hi) = (f64::MAX, 0.0f64);
    let mut completed = 0;
    for (i, op) in history.ops.iter().enumerate() {
        if op.process.is_nemesis() || !op.kind.is_completion() {
            continue;
        }
        let Some(j) = pairs[i] else { continue };
        let invoked = history.ops[j].time;
        let outcome = match op.kind {
            OpType::Ok => Outcome::Ok,
            OpType::Fail => Outcome::Fail,
            _ => Outcome::Info,
        };
        let latency_ms = (op.time.saturating_sub(invoked) as f64 / 1e6).max(0.001);
        lo = lo.min(latency_ms);
        hi = hi.max(latency_ms);
        completed += 1;
        let s = by_f.entry(op.f.clone()).or_insert_with(|| OpSeries {
            points: Vec::new(),
            per_bucket: [vec![0; buckets], vec![0; buckets], vec![0; buckets]],
        });
        let b = ((op.time as f64 / 1e9 / bucket_s) as usize).min(buckets - 1);
        s.per_bucket[outcome as usize][b] += 1;
        s.points.push(Point {
            t: invoked as f64 / 1e9,
            latency_ms,
            outcome,
        });
    }
    // The busiest op types get panels.
    let mut omitted_f = Vec::new();
    if by_f.len() > MAX_OP_TYPES {
        let mut sizes: Vec<(usize, String)> = by_f
            .iter()
            .map(|(f, s)| (s.points.len(), f.clone()))
            .collect();
        sizes.sort_by(|a, b| b.cmp(a));
        for (_, f) in sizes.into_iter().skip(MAX_OP_TYPES) {
            by_f.remove(&f);
            omitted_f.push(f);
        }
        omitted_f.sort();
    }
    if lo > hi {
        (lo, hi) = (1.0, 10.0);
    }
    let range = (lo, hi);
    let drawn = downsample(&mut by_f, duration_s, range, MAX_POINTS);
    Series {
        duration_s,
        bucket_s,
        by_f,
        omitted_f,
        completed,
        drawn,
        latency_range_ms: range,
    }
}

/// Thins every op type's points to at most `max` in all (see the module doc); returns how
/// many are left.
pub fn downsample(
    by_f: &mut BTreeMap<String, OpSeries>,
    duration_s: f64,
    (lo, hi): (f64, f64),
    max: usize,
) -> usize {
    let total: usize = by_f.values().map(|s| s.points.len()).sum();
    if total <= max {
        return total;
    }
    let (lo, hi) = (lo.log10(), hi.log10().max(lo.log10() + 1e-9));
    let cols = GRID.0 / CELL_PX;
    let rows = GRID.1 / CELL_PX;
    for s in by_f.values_mut() {
        let mut seen = std::collections::HashSet::new();
        s.points.retain(|p| {
            let x = (p.t / duration_s * cols) as u32;
            let y = ((p.latency_ms.log10() - lo) / (hi - lo) * rows) as u32;
            seen.insert((x, y, p.outcome))
        });
    }
    let left: usize = by_f.values().map(|s| s.points.len()).sum();
    if left <= max {
        return left;
    }
    let keep_every = left.div_ceil(max);
    for s in by_f.values_mut() {
        s.points = s.points.iter().copied().step_by(keep_every).collect();
    }
    by_f.values().map(|s| s.points.len()).sum()
}
