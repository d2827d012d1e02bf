//! Property tests of the linearizability checker.
//!
//! Histories come from simulating registers under concurrency: each op takes effect at one
//! instant between its invoke and its completion (or never, for some `info` and `fail`
//! ops), so every simulated history is linearizable. Mutations (a read changed to a value
//! never written, or to a stale one) are judged by a brute-force oracle written here from
//! the semantics alone (every interleaving that respects real time, no pruning), and the
//! checker must agree with it.

use faultline_checkers::linearizable::{check, LinearizableOptions, ModelKind};
use faultline_core::{History, Op, OpType, Process, Validity};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

struct Pending {
    f: &'static str,
    key: i64,
    arg: Value,
    applied: bool,
    result: Value,
    compare_failed: bool,
}

/// Simulates `n_ops` register ops by `procs` concurrent processes on `keys` registers.
/// `info_p` is the chance that a write or cas ends indeterminate (before or after it took
/// effect); the process is then retired, as Jepsen does.
fn simulate(seed: u64, procs: usize, keys: i64, n_ops: usize, info_p: f64, cas: bool) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut state: HashMap<i64, Value> = HashMap::new();
    let mut slots: Vec<(u64, Option<Pending>)> = (0..procs as u64).map(|p| (p, None)).collect();
    let mut next_pid = procs as u64;
    let mut ops: Vec<Op> = Vec::new();
    let mut invoked = 0;
    let emit = |ops: &mut Vec<Op>, p: u64, kind: OpType, f: &str, key: i64, v: Value| {
        let i = ops.len() as u64;
        ops.push(Op {
            index: i,
            time: i * 1000,
            process: Process::Client(p),
            kind,
            f: f.to_string(),
            value: json!({"key": key, "value": v}),
            node: None,
            error: None,
        });
    };
    loop {
        if invoked >= n_ops && slots.iter().all(|s| s.1.is_none()) {
            break;
        }
        let s = rng.random_range(0..slots.len());
        let (pid, pending) = &mut slots[s];
        match pending {
            None if invoked < n_ops => {
                invoked += 1;
                let key = rng.random_range(0..keys);
                let (f, arg) = match rng.random_range(0..if cas { 3 } else { 2 }) {
                    0 => ("read", Value::Null),
                    1 => ("write", json!(rng.random_range(0..4))),
                    _ => (
                        "cas",
                        json!([rng.random_range(0..4), rng.random_range(0..4)]),
                    ),
                };
                emit(&mut ops, *pid, OpType::Invoke, f, key, arg.clone());
                *pending = Some(Pending {
                    f,
                    key,
                    arg,
                    applied: false,
                    result: Value::Null,
                    compare_failed: false,
                });
            }
            None => {}
            Some(p) if !p.applied && p.f != "read" && rng.random_bool(info_p / 2.0) => {
                // Indeterminate, and it never takes effect.
                emit(&mut ops, *pid, OpType::Info, p.f, p.key, p.arg.clone());
                *pending = None;
                *pid = next_pid;
                next_pid += 1;
            }
            Some(p) if !p.applied => {
                let cur = state.get(&p.key).cloned().unwrap_or(Value::Null);
                match p.f {
                    "read" => p.result = cur,
                    "write" => {
                        state.insert(p.key, p.arg.clone());
                    }
                    _ => {
                        if cur == p.arg[0] {
                            state.insert(p.key, p.arg[1].clone());
                        } else {
                            p.compare_failed = true;
                        }
                    }
                }
                p.applied = true;
            }
            Some(p) => {
                let info = p.f != "read" && !p.compare_failed && rng.random_bool(info_p);
                let (kind, v) = match (p.f, info, p.compare_failed) {
                    ("read", _, _) => (OpType::Ok, p.result.clone()),
                    (_, _, true) => (OpType::Fail, p.arg.clone()),
                    (_, true, _) => (OpType::Info, p.arg.clone()),
                    _ => (OpType::Ok, p.arg.clone()),
                };
                emit(&mut ops, *pid, kind, p.f, p.key, v);
                *pending = None;
                if info {
                    *pid = next_pid;
                    next_pid += 1;
                }
            }
        }
    }
    History::new(ops)
}

/// One op as the oracle sees it.
struct OOp {
    key: Value,
    f: String,
    arg: Value,
    result: Value,
    call: usize,
    ret: usize,
    swapped: Option<bool>,
}

/// Brute force: is there an order of the ops, respecting real time, legal for a map of
/// cas-registers? `fail` ops and reads without a result are dropped; `info` ops return at
/// infinity.
fn oracle(h: &History) -> bool {
    let mut open: HashMap<Process, usize> = HashMap::new();
    let mut done: HashMap<usize, usize> = HashMap::new();
    for (i, o) in h.ops.iter().enumerate() {
        if o.kind == OpType::Invoke {
            open.insert(o.process, i);
        } else if let Some(j) = open.remove(&o.process) {
            done.insert(j, i);
        }
    }
    let mut ops = Vec::new();
    for (i, o) in h.ops.iter().enumerate() {
        if o.kind != OpType::Invoke {
            continue;
        }
        let c = done.get(&i).map(|&j| &h.ops[j]);
        let (ret, result) = match c {
            Some(c) if c.kind == OpType::Fail => continue,
            Some(c) if c.kind == OpType::Ok => (c.index as usize, c.value["value"].clone()),
            _ => (usize::MAX, Value::Null),
        };
        if o.f == "read" && ret == usize::MAX {
            continue;
        }
        ops.push(OOp {
            key: o.value["key"].clone(),
            f: o.f.clone(),
            arg: o.value["value"].clone(),
            result,
            call: i,
            ret,
            swapped: c
                .and_then(|c| c.value.get("swapped"))
                .and_then(Value::as_bool),
        });
    }
    assert!(ops.len() <= 24, "oracle is for small histories");
    let mut seen = HashSet::new();
    search(&ops, 0, &BTreeMap::new(), &mut seen)
}

fn search(
    ops: &[OOp],
    mask: u32,
    state: &BTreeMap<String, Value>,
    seen: &mut HashSet<(u32, String)>,
) -> bool {
    if mask.count_ones() as usize == ops.len() {
        return true;
    }
    if !seen.insert((mask, format!("{state:?}"))) {
        return false;
    }
    let pending = |i: &usize| mask & (1 << i) == 0;
    let min_ret = (0..ops.len())
        .filter(pending)
        .map(|i| ops[i].ret)
        .min()
        .unwrap();
    for i in (0..ops.len()).filter(pending) {
        let o = &ops[i];
        if o.call >= min_ret {
            continue;
        }
        let k = o.key.to_string();
        let cur = state.get(&k).cloned().unwrap_or(Value::Null);
        let next = match o.f.as_str() {
            "read" if cur == o.result => Some(cur),
            "read" => None,
            "write" => Some(o.arg.clone()),
            _ => {
                let matches = cur == o.arg[0];
                match (o.ret == usize::MAX, o.swapped) {
                    (true, _) => Some(if matches { o.arg[1].clone() } else { cur }),
                    (false, Some(false)) => (!matches).then_some(cur),
                    (false, _) => matches.then(|| o.arg[1].clone()),
                }
            }
        };
        if let Some(v) = next {
            let mut s = state.clone();
            s.insert(k, v);
            if search(ops, mask | (1 << i), &s, seen) {
                return true;
            }
        }
    }
    false
}

fn verdict(h: &History) -> Validity {
    let opts = LinearizableOptions {
        model: ModelKind::CasRegister,
        ..Default::default()
    };
    check(h, &opts).valid
}

fn ok_reads(h: &History) -> Vec<usize> {
    (0..h.ops.len())
        .filter(|&i| h.ops[i].f == "read" && h.ops[i].kind == OpType::Ok)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn simulated_histories_are_linearizable(
        seed in any::<u64>(), procs in 1usize..8, keys in 1i64..4, n in 1usize..150, info in 0.0f64..0.3,
    ) {
        let h = simulate(seed, procs, keys, n, info, true);
        let r = check(&h, &LinearizableOptions { model: ModelKind::CasRegister, ..Default::default() });
        prop_assert_eq!(r.valid, Validity::Valid, "{}", r.summary);
    }

    #[test]
    fn the_checker_agrees_with_brute_force_on_small_histories(
        seed in any::<u64>(), procs in 1usize..5, keys in 1i64..3, n in 1usize..10, info in 0.0f64..0.5,
    ) {
        let h = simulate(seed, procs, keys, n, info, true);
        prop_assert!(oracle(&h));
        prop_assert_eq!(verdict(&h), Validity::Valid);
    }

    #[test]
    fn a_read_of_a_value_never_written_is_caught(
        seed in any::<u64>(), procs in 1usize..6, keys in 1i64..3, n in 1usize..80, info in 0.0f64..0.3, pick in any::<usize>(),
    ) {
        let mut h = simulate(seed, procs, keys, n, info, true);
        let reads = ok_reads(&h);
        prop_assume!(!reads.is_empty());
        let r = reads[pick % reads.len()];
        h.ops[r].value["value"] = json!(99);
        let report = check(&h, &LinearizableOptions { model: ModelKind::CasRegister, ..Default::default() });
        prop_assert_eq!(report.valid, Validity::Invalid);
        let cx = report.counterexample.unwrap();
        prop_assert!(cx.ops.len() <= 50);
        prop_assert!(cx.ops.iter().any(|o| o.description.contains("99")), "{:?}", cx);
    }

    #[test]
    fn stale_and_other_changed_reads_match_brute_force(
        seed in any::<u64>(), procs in 1usize..5, keys in 1i64..3, n in 2usize..11, info in 0.0f64..0.4,
        pick in any::<usize>(), value in 0i64..4,
    ) {
        let mut h = simulate(seed, procs, keys, n, info, true);
        let reads = ok_reads(&h);
        prop_assume!(!reads.is_empty());
        let r = reads[pick % reads.len()];
        h.ops[r].value["value"] = if value == 3 { Value::Null } else { json!(value) };
        let want = if oracle(&h) { Validity::Valid } else { Validity::Invalid };
        prop_assert_eq!(verdict(&h), want);
    }

    #[test]
    fn plain_registers_agree_with_brute_force(
        seed in any::<u64>(), procs in 1usize..5, n in 2usize..11, info in 0.0f64..0.4, pick in any::<usize>(), value in 0i64..4,
    ) {
        let mut h = simulate(seed, procs, 1, n, info, false);
        if let Some(&r) = ok_reads(&h).get(pick % 3) {
            h.ops[r].value["value"] = json!(value);
        }
        let want = if oracle(&h) { Validity::Valid } else { Validity::Invalid };
        let got = check(&h, &LinearizableOptions { model: ModelKind::Register, ..Default::default() }).valid;
        prop_assert_eq!(got, want);
    }
}

fn op(index: u64, p: u64, kind: OpType, f: &str, v: Value) -> Op {
    Op {
        index,
        time: index,
        process: Process::Client(p),
        kind,
        f: f.into(),
        value: json!({ "value": v }),
        node: None,
        error: None,
    }
}

/// write(1) ok; an info write(2); then a read that sees `read`.
fn info_write_then_read(read: Value) -> History {
    History::new(vec![
        op(0, 0, OpType::Invoke, "write", json!(1)),
        op(1, 0, OpType::Ok, "write", json!(1)),
        op(2, 1, OpType::Invoke, "write", json!(2)),
        op(3, 1, OpType::Info, "write", json!(2)),
        op(4, 0, OpType::Invoke, "read", Value::Null),
        op(5, 0, OpType::Ok, "read", read),
        op(6, 0, OpType::Invoke, "read", Value::Null),
        op(7, 0, OpType::Ok, "read", json!(1)),
    ])
}

#[test]
fn an_info_write_may_or_may_not_have_happened() {
    // Not seen at all: fine (it never took effect, or takes effect after everything).
    let mut h = info_write_then_read(json!(1));
    assert_eq!(verdict(&h), Validity::Valid);
    // Seen by the last read: fine.
    h.ops[7].value = json!({"value": 2});
    assert_eq!(verdict(&h), Validity::Valid);
    // Seen, then unseen: the value went back to 1 with no write of 1 after: not linearizable.
    let h = info_write_then_read(json!(2));
    assert_eq!(verdict(&h), Validity::Invalid);
    assert!(!oracle(&h));
}

#[test]
fn a_stale_read_after_a_completed_write_is_caught() {
    let h = History::new(vec![
        op(0, 0, OpType::Invoke, "write", json!(1)),
        op(1, 0, OpType::Ok, "write", json!(1)),
        op(2, 1, OpType::Invoke, "write", json!(2)),
        op(3, 1, OpType::Ok, "write", json!(2)),
        op(4, 2, OpType::Invoke, "read", Value::Null),
        op(5, 2, OpType::Ok, "read", json!(1)),
    ]);
    assert_eq!(verdict(&h), Validity::Invalid);
}
