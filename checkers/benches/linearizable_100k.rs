//! Issue 14's large case: a generated 100k-op cas-register history over 10 keys, 20% of its
//! writes and cas indeterminate, checked within a 60 s budget and the default memory budget.
//!
//! `cargo bench -p faultline-checkers --bench linearizable_100k [-- --ops N --seed S --porcupine-out DIR]`
//!
//! The history comes from simulating a real register per key: 50 processes run reads (50%),
//! writes (25%) and cas (25%) on random keys with values 0..5, each op taking effect at a
//! random instant between its invoke and its completion, so the history is linearizable by
//! construction. A fifth of the writes and cas end `info`: half of them took effect, half
//! did not, and the process is retired (a fresh one takes its place, as in Jepsen). A failed
//! compare ends `fail`. The other cases are the same history with one planted stale read: a
//! read of key 0 returns nil (the value before any write) although an ok write had completed
//! before it was invoked; nothing writes nil, so the history must be invalid. Proving that
//! means exhausting every configuration before the read, and every `info` op called so far
//! is still pending there: the stale read after 1% of the history is decided, the one after
//! 10% is expected to end Unknown on the memory budget (never a crash).
//!
//! Printed per case: ops, keys, verdict, check time, peak RSS of the check (VmHWM, reset
//! before it), configurations explored. With `--porcupine-out DIR`, each case is also
//! written as `DIR/{valid,stale-1%,stale-10%}.jsonl` for a Porcupine driver, one op a line:
//! `{"client", "key", "f" ("read"|"write"|"cas"), "arg", "old", "new", "out", "ok",
//! "unknown", "call", "ret"}` with history positions as times (ops that never returned:
//! `ret` = the history length) and `-1` for nil.

use faultline_checkers::linearizable::{check, LinearizableOptions, ModelKind};
use faultline_core::{History, Op, OpType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::time::{Duration, Instant};

const KEYS: u64 = 10;
const WORKERS: u64 = 50;
const VALUES: i64 = 5;

/// One op of the simulation, as it is recorded and as the Porcupine driver reads it.
#[derive(Clone)]
struct SimOp {
    process: u64,
    key: u64,
    f: &'static str,
    arg: i64,
    new: i64,
    /// Read value (-1: nil) or whether a cas swapped; filled when it takes effect.
    out: i64,
    info: bool,
    takes_effect: bool,
    invoke: usize,
    complete: Option<usize>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Invoke(u64),
    TakeEffect(usize),
    Complete(usize),
}

#[derive(Clone)]
struct Sim {
    history: Vec<Op>,
    ops: Vec<SimOp>,
}

impl Sim {
    fn record(&mut self, process: u64, kind: OpType, f: &str, value: Value) -> usize {
        let index = self.history.len();
        self.history
            .push(Op::client(index as u64, process, kind, f, value));
        index
    }
}

fn nil_or(v: i64) -> Value {
    if v < 0 {
        Value::Null
    } else {
        json!(v)
    }
}

/// Simulates `n` ops over [`KEYS`] registers; see the module doc.
fn generate(n: usize, seed: u64) -> Sim {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sim = Sim {
        history: Vec::with_capacity(2 * n),
        ops: Vec::with_capacity(n),
    };
    let mut register = [-1i64; KEYS as usize];
    let mut process: Vec<u64> = (0..WORKERS).collect();
    let mut queue = BinaryHeap::new();
    let mut seq = 0u64; // breaks time ties in scheduling order
    let mut at = |queue: &mut BinaryHeap<_>, t: u64, e: Event| {
        seq += 1;
        queue.push(Reverse((t, seq, e)));
    };
    for w in 0..WORKERS {
        at(&mut queue, rng.random_range(0..10), Event::Invoke(w));
    }
    while let Some(Reverse((t, _, event))) = queue.pop() {
        match event {
            Event::Invoke(w) if sim.ops.len() < n => {
                let key = rng.random_range(0..KEYS);
                let f = match rng.random_range(0..4) {
                    0 | 1 => "read",
                    2 => "write",
                    _ => "cas",
                };
                let (arg, new) = (rng.random_range(0..VALUES), rng.random_range(0..VALUES));
                let info = f != "read" && rng.random_bool(0.2);
                let value = match f {
                    "read" => json!({"key": key, "value": null}),
                    "write" => json!({"key": key, "value": arg}),
                    _ => json!({"key": key, "value": [arg, new]}),
                };
                let invoke = sim.record(process[w as usize], OpType::Invoke, f, value);
                let i = sim.ops.len();
                sim.ops.push(SimOp {
                    process: process[w as usize],
                    key,
                    f,
                    arg,
                    new,
                    out: -1,
                    info,
                    takes_effect: !info || rng.random_bool(0.5),
                    invoke,
                    complete: None,
                });
                let effect = t + rng.random_range(1..40);
                at(&mut queue, effect, Event::TakeEffect(i));
                at(
                    &mut queue,
                    effect + rng.random_range(1..40),
                    Event::Complete(i),
                );
                if info {
                    process[w as usize] += WORKERS; // retired: a fresh process goes on
                }
                let next = effect + 40 + rng.random_range(0..5);
                at(&mut queue, next, Event::Invoke(w));
            }
            Event::Invoke(_) => {}
            Event::TakeEffect(i) => {
                let o = &mut sim.ops[i];
                if !o.takes_effect {
                    continue;
                }
                let r = &mut register[o.key as usize];
                match o.f {
                    "read" => o.out = *r,
                    "write" => *r = o.arg,
                    _ => {
                        o.out = (*r == o.arg) as i64;
                        if *r == o.arg {
                            *r = o.new;
                        }
                    }
                }
            }
            Event::Complete(i) => {
                let o = &sim.ops[i];
                let (p, f, key) = (o.process, o.f, o.key);
                let (kind, value) = match (o.info, f) {
                    (true, _) => (OpType::Info, sim.history[o.invoke].value.clone()),
                    (false, "read") => (OpType::Ok, json!({"key": key, "value": nil_or(o.out)})),
                    (false, "cas") if o.out == 0 => {
                        (OpType::Fail, sim.history[o.invoke].value.clone())
                    }
                    _ => (OpType::Ok, sim.history[o.invoke].value.clone()),
                };
                let c = sim.record(p, kind, f, value);
                sim.ops[i].complete = Some(c);
            }
        }
    }
    sim
}

/// Plants a stale read: the first read of key 0 invoked after `fraction` of the history (and
/// after an ok write of key 0 completed) returns nil. Returns its history index.
fn plant_stale_read(sim: &mut Sim, fraction: f64) -> usize {
    let first_write_done = sim
        .ops
        .iter()
        .filter(|o| o.key == 0 && o.f == "write" && !o.info)
        .filter_map(|o| o.complete)
        .min()
        .expect("an ok write of key 0");
    let late = (sim.history.len() as f64 * fraction) as usize;
    let i = (0..sim.ops.len())
        .find(|&i| {
            let o = &sim.ops[i];
            o.key == 0 && o.f == "read" && o.invoke > late.max(first_write_done) && o.out >= 0
        })
        .expect("a late read of key 0");
    sim.ops[i].out = -1;
    let c = sim.ops[i].complete.expect("reads complete");
    sim.history[c].value = json!({"key": 0, "value": null});
    sim.history[sim.ops[i].invoke].index as usize
}

fn write_porcupine(sim: &Sim, path: &std::path::Path) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let end = sim.history.len();
    for o in &sim.ops {
        let unknown = o.info || o.complete.is_none();
        let line = json!({
            "client": o.process, "key": o.key, "f": o.f, "arg": o.arg, "old": o.arg,
            "new": o.new, "out": o.out, "ok": o.f != "cas" || o.out == 1, "unknown": unknown,
            "call": o.invoke, "ret": if unknown { end } else { o.complete.unwrap_or(end) },
        });
        writeln!(out, "{line}")?;
    }
    out.flush()
}

/// Peak resident set (VmHWM) in MiB, and a reset of it for the next measurement.
fn peak_rss_mib(reset: bool) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    if reset {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    kb / 1024.0
}

fn arg<T: std::str::FromStr>(name: &str) -> Option<T> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn main() {
    let n: usize = arg("--ops").unwrap_or(100_000);
    let seed: u64 = arg("--seed").unwrap_or(14);
    let porcupine_out: Option<String> = arg("--porcupine-out");
    let opts = LinearizableOptions {
        model: ModelKind::CasRegister,
        timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    };
    let t = Instant::now();
    let sim = generate(n, seed);
    let info = sim.ops.iter().filter(|o| o.info).count();
    let updates = sim.ops.iter().filter(|o| o.f != "read").count();
    println!(
        "generated {} ops ({} history events) over {KEYS} keys, seed {seed}: {info} of {updates} writes/cas indeterminate ({:.0}%), in {:.2} s",
        sim.ops.len(),
        sim.history.len(),
        100.0 * info as f64 / updates.max(1) as f64,
        t.elapsed().as_secs_f64()
    );
    for (case, stale_at) in [
        ("valid", None),
        ("stale-1%", Some(0.01)),
        ("stale-10%", Some(0.1)),
    ] {
        let mut sim = sim.clone();
        if let Some(fraction) = stale_at {
            let at = plant_stale_read(&mut sim, fraction);
            println!("planted a stale read of key 0 at history index {at}");
        }
        if let Some(dir) = &porcupine_out {
            let path = std::path::Path::new(dir).join(format!("{case}.jsonl"));
            write_porcupine(&sim, &path).expect("write the Porcupine file");
        }
        let history = History::new(sim.history);
        peak_rss_mib(true);
        let t = Instant::now();
        let report = check(&history, &opts);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{case:<10} ops {} keys {} verdict {:?} time {secs:.3} s peak RSS {:.0} MiB configurations {}",
            report.ops,
            report.keys,
            report.valid,
            peak_rss_mib(false),
            report.configurations
        );
        println!("           {}", report.summary);
    }
}
