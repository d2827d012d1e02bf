//! A generator of list-append histories from a simulated database, for tests and
//! benchmarks: valid ones (the simulation is strictly serializable), ones from a weaker
//! simulated isolation, and ones with planted anomalies.
//!
//! The simulation: `processes` clients each run one transaction at a time; a step either
//! invokes an idle client's next transaction or completes a busy one. A transaction
//! executes atomically at its completion (so the history is strictly serializable), fails
//! (not applied) or ends `info` (applied or not, at random; the client then continues as a
//! fresh process). Keys rotate as in Elle's generator: a pool of `active_keys`, each
//! retired after `max_writes_per_key` appends. Values are unique across the history.
//! With [`Isolation::StaleSnapshot`] reads see the state as of the invocation (no
//! conflict check), which yields G-single, lost updates and write skew.
//!
//! Planted anomalies ([`Plant`]) are small patterns on fresh keys and processes, woven into
//! the stream at random points; each is found by the checker as the class it names.

use faultline_core::{Op, OpType, Process};
use serde_json::{json, Value};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    StrictSerializable,
    StaleSnapshot,
}

/// A small anomalous pattern to weave into a generated history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plant {
    G0,
    G1a,
    G1c,
    GSingle,
    G2Item,
    GSingleRealtime,
}

impl Plant {
    pub const ALL: [Plant; 6] = [
        Plant::G0,
        Plant::G1a,
        Plant::G1c,
        Plant::GSingle,
        Plant::G2Item,
        Plant::GSingleRealtime,
    ];

    /// The anomaly class the checker reports for this pattern.
    pub fn class(self) -> &'static str {
        match self {
            Plant::G0 => "G0",
            Plant::G1a => "G1a",
            Plant::G1c => "G1c",
            Plant::GSingle => "G-single",
            Plant::G2Item => "G2-item",
            Plant::GSingleRealtime => "G-single-realtime",
        }
    }
}

#[derive(Clone, Debug)]
pub struct GenOptions {
    pub txns: usize,
    pub processes: usize,
    pub active_keys: usize,
    pub max_writes_per_key: usize,
    pub max_txn_len: usize,
    pub read_ratio: f64,
    pub fail_ratio: f64,
    pub info_ratio: f64,
    pub isolation: Isolation,
    pub plants: Vec<Plant>,
    pub seed: u64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            txns: 1000,
            processes: 10,
            active_keys: 10,
            max_writes_per_key: 32,
            max_txn_len: 4,
            read_ratio: 0.5,
            fail_ratio: 0.02,
            info_ratio: 0.005,
            isolation: Isolation::StrictSerializable,
            plants: Vec::new(),
            seed: 0,
        }
    }
}

/// SplitMix64: small, seeded, good enough for simulation choices.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A running transaction: its micro-ops and (stale snapshot) the state it saw at invocation.
type Running = (Vec<M>, HashMap<i64, Vec<i64>>);

enum M {
    Append(i64, i64),
    Read(i64, Option<Vec<i64>>),
}

fn mops_json(mops: &[M]) -> Value {
    Value::Array(
        mops.iter()
            .map(|m| match m {
                M::Append(k, v) => json!(["append", k, v]),
                M::Read(k, r) => json!(["r", k, r]),
            })
            .collect(),
    )
}

struct Sim<'a, F: FnMut(Op)> {
    emit: &'a mut F,
    index: u64,
    next_process: u64,
    next_key: i64,
    next_value: i64,
}

impl<F: FnMut(Op)> Sim<'_, F> {
    fn op(&mut self, process: u64, kind: OpType, value: Value) {
        let index = self.index;
        self.index += 1;
        (self.emit)(Op {
            index,
            time: index * 1000,
            process: Process::Client(process),
            kind,
            f: "txn".into(),
            value,
            node: None,
            error: None,
        });
    }
    fn fresh_process(&mut self) -> u64 {
        self.next_process += 1;
        self.next_process - 1
    }

    /// Emits one planted pattern on fresh keys and processes.
    fn plant(&mut self, plant: Plant) {
        let (x, y) = (self.next_key, self.next_key + 1);
        self.next_key += 2;
        let v = self.next_value;
        self.next_value += 2;
        let (p, q, r) = (
            self.fresh_process(),
            self.fresh_process(),
            self.fresh_process(),
        );
        let inv = |mops: Value| mops;
        // Concurrent pairs: both invoked before either completes.
        let pair = |s: &mut Self, a: Value, a_ok: Value, b: Value, b_ok: Value, b_kind: OpType| {
            s.op(p, OpType::Invoke, inv(a));
            s.op(q, OpType::Invoke, inv(b));
            s.op(p, OpType::Ok, a_ok);
            s.op(q, b_kind, b_ok);
        };
        match plant {
            Plant::G0 => {
                let (a, b) = (
                    json!([["append", x, v], ["append", y, v]]),
                    json!([["append", x, v + 1], ["append", y, v + 1]]),
                );
                pair(self, a.clone(), a, b.clone(), b, OpType::Ok);
                self.op(r, OpType::Invoke, json!([["r", x, null], ["r", y, null]]));
                self.op(
                    r,
                    OpType::Ok,
                    json!([["r", x, [v, v + 1]], ["r", y, [v + 1, v]]]),
                );
            }
            Plant::G1a => {
                let a = json!([["append", x, v]]);
                self.op(p, OpType::Invoke, a.clone());
                self.op(p, OpType::Fail, a);
                self.op(q, OpType::Invoke, json!([["r", x, null]]));
                self.op(q, OpType::Ok, json!([["r", x, [v]]]));
            }
            Plant::G1c => pair(
                self,
                json!([["append", x, v], ["r", y, null]]),
                json!([["append", x, v], ["r", y, [v + 1]]]),
                json!([["append", y, v + 1], ["r", x, null]]),
                json!([["append", y, v + 1], ["r", x, [v]]]),
                OpType::Ok,
            ),
            Plant::GSingle => {
                pair(
                    self,
                    json!([["r", x, null], ["r", y, null]]),
                    json!([["r", x, []], ["r", y, [v + 1]]]),
                    json!([["append", x, v], ["append", y, v + 1]]),
                    json!([["append", x, v], ["append", y, v + 1]]),
                    OpType::Ok,
                );
                self.op(r, OpType::Invoke, json!([["r", x, null]]));
                self.op(r, OpType::Ok, json!([["r", x, [v]]]));
            }
            Plant::G2Item => {
                pair(
                    self,
                    json!([["r", x, null], ["append", y, v]]),
                    json!([["r", x, []], ["append", y, v]]),
                    json!([["r", y, null], ["append", x, v + 1]]),
                    json!([["r", y, []], ["append", x, v + 1]]),
                    OpType::Ok,
                );
                self.op(r, OpType::Invoke, json!([["r", x, null], ["r", y, null]]));
                self.op(r, OpType::Ok, json!([["r", x, [v + 1]], ["r", y, [v]]]));
            }
            Plant::GSingleRealtime => {
                let a = json!([["append", x, v]]);
                self.op(p, OpType::Invoke, a.clone());
                self.op(p, OpType::Ok, a);
                self.op(q, OpType::Invoke, json!([["r", x, null]]));
                self.op(q, OpType::Ok, json!([["r", x, []]]));
                self.op(r, OpType::Invoke, json!([["r", x, null]]));
                self.op(r, OpType::Ok, json!([["r", x, [v]]]));
            }
        }
    }
}

/// Generates a history, handing each op to `emit` in order (stream it to a file for big
/// histories). Returns the number of ops emitted.
pub fn generate(opts: &GenOptions, mut emit: impl FnMut(Op)) -> u64 {
    let mut rng = SplitMix(opts.seed);
    let procs = opts.processes.max(1);
    let mut sim = Sim {
        emit: &mut emit,
        index: 0,
        next_process: procs as u64,
        next_key: 0,
        next_value: 1,
    };
    let mut keys: Vec<(i64, usize)> = (0..opts.active_keys.max(1))
        .map(|k| (k as i64, 0))
        .collect();
    sim.next_key = keys.len() as i64;
    let mut state: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut workers: Vec<(u64, Option<Running>)> = (0..procs as u64).map(|p| (p, None)).collect();
    let mut plant_at: Vec<(usize, Plant)> = opts
        .plants
        .iter()
        .map(|&p| (rng.below(opts.txns.max(1)), p))
        .collect();
    plant_at.sort_by_key(|(i, _)| std::cmp::Reverse(*i));
    let (mut started, mut running) = (0usize, 0usize);
    while started < opts.txns || running > 0 {
        while plant_at.last().is_some_and(|(i, _)| *i <= started) {
            let (_, p) = plant_at.pop().expect("checked");
            sim.plant(p);
        }
        let w = rng.below(procs);
        let (process, busy) = (workers[w].0, workers[w].1.is_some());
        if !busy {
            if started == opts.txns {
                continue;
            }
            let len = 1 + rng.below(opts.max_txn_len.max(1));
            let mut mops = Vec::with_capacity(len);
            for _ in 0..len {
                let ki = rng.below(keys.len());
                let k = keys[ki].0;
                if rng.unit() < opts.read_ratio {
                    mops.push(M::Read(k, None));
                } else {
                    mops.push(M::Append(k, sim.next_value));
                    sim.next_value += 1;
                    keys[ki].1 += 1;
                    if keys[ki].1 >= opts.max_writes_per_key {
                        keys[ki] = (sim.next_key, 0);
                        sim.next_key += 1;
                    }
                }
            }
            sim.op(process, OpType::Invoke, mops_json(&mops));
            let snapshot = match opts.isolation {
                Isolation::StaleSnapshot => mops
                    .iter()
                    .map(|m| match m {
                        M::Append(k, _) | M::Read(k, _) => {
                            (*k, state.get(k).cloned().unwrap_or_default())
                        }
                    })
                    .collect(),
                Isolation::StrictSerializable => HashMap::new(),
            };
            workers[w].1 = Some((mops, snapshot));
            started += 1;
            running += 1;
            continue;
        }
        let (mut mops, mut snapshot) = workers[w].1.take().expect("busy");
        running -= 1;
        let roll = rng.unit();
        if roll < opts.fail_ratio {
            sim.op(process, OpType::Fail, mops_json(&mops));
            continue;
        }
        let info = roll < opts.fail_ratio + opts.info_ratio;
        if info && rng.unit() < 0.5 {
            sim.op(process, OpType::Info, mops_json(&mops));
            workers[w].0 = sim.fresh_process();
            continue;
        }
        for m in &mut mops {
            match m {
                M::Append(k, v) => {
                    state.entry(*k).or_default().push(*v);
                    if let Some(s) = snapshot.get_mut(k) {
                        s.push(*v);
                    }
                }
                M::Read(k, r) => {
                    let seen = match opts.isolation {
                        Isolation::StaleSnapshot => snapshot.get(k).cloned(),
                        Isolation::StrictSerializable => state.get(k).cloned(),
                    };
                    *r = Some(seen.unwrap_or_default());
                }
            }
        }
        if info {
            sim.op(
                process,
                OpType::Info,
                mops_json(
                    &mops
                        .iter()
                        .map(|m| match m {
                            M::Read(k, _) => M::Read(*k, None),
                            M::Append(k, v) => M::Append(*k, *v),
                        })
                        .collect::<Vec<_>>(),
                ),
            );
            workers[w].0 = sim.fresh_process();
        } else {
            sim.op(process, OpType::Ok, mops_json(&mops));
        }
    }
    for (_, p) in plant_at.into_iter().rev() {
        sim.plant(p);
    }
    sim.index
}

/// Generates a whole history in memory (for tests and small runs).
pub fn history(opts: &GenOptions) -> faultline_core::History {
    let mut ops = Vec::new();
    generate(opts, |op| ops.push(op));
    faultline_core::History::new(ops)
}

/// Streams a generated history as JSON Lines to `path`; returns the number of ops.
pub fn write_jsonl(opts: &GenOptions, path: &std::path::Path) -> std::io::Result<u64> {
    let mut w = faultline_core::HistoryWriter::create(path)?;
    let mut result = Ok(());
    let n = generate(opts, |op| {
        if result.is_ok() {
            result = w.append(&op);
        }
    });
    result?;
    w.sync()?;
    Ok(n)
}
