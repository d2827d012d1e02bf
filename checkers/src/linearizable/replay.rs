//! Kv parts whose ops never overlap, replayed on the values themselves.
//!
//! Such a part has one order to check: the ops as they came (each returns before the next
//! is called; only the last may never return). The search walks it in that order too
//! ([`super::wgl`]'s in-order walk), but first builds the kv model: interned literals, the
//! trie of appends, read texts. For one order that costs more than the walk. Here puts,
//! appends and gets act on plain strings instead, one per key, with the verdict, the
//! counterexample and the counts the walk gives: the longest linearizable prefix is every op
//! before the first one the value rejects, which is the only op that could come next.
//!
//! What does not live here: parts with overlapping ops (the search), registers (their
//! model is built without tables).

use super::kv::{show_map, show_value};
use super::model::same_bytes;
use super::prepare::{kv_text, places, KvPart, PartKeys, PreparedOp, RawOp, F, INF};
use super::wgl::{Budget, Failure, Outcome, SearchResult};

/// A replayed part: the search's result, and the part's ops when a counterexample needs them
/// (empty otherwise).
pub(crate) struct Replayed {
    pub result: SearchResult,
    pub ops: Vec<PreparedOp<()>>,
}

/// Replays `part` if its ops never overlap; `None` when they do.
pub(crate) fn replay(part: &KvPart, budget: &Budget) -> Option<Replayed> {
    match &part.keys {
        PartKeys::One(k) => walk(part, budget, part.from.ops_of(*k), 1, |_| 0),
        PartKeys::All(sorted) => {
            // A key is known by its place in name order, as in the multi-key model.
            let place = places(sorted);
            let ops = part.from.raws.iter();
            walk(part, budget, ops, sorted.len(), |r| place[r.key as usize])
        }
    }
}

/// Replays `ops` if none overlaps another, with one value per key (`rank` gives an op's).
fn walk<'a, 'h: 'a>(
    part: &KvPart<'_, 'h, '_>,
    budget: &Budget,
    ops: impl Iterator<Item = &'a RawOp<'h>> + Clone,
    keys: usize,
    rank: impl Fn(&RawOp) -> u32,
) -> Option<Replayed> {
    if overlap(ops.clone()) {
        return None;
    }
    let init = part.initial.map(kv_text).unwrap_or_default();
    // The thread's value buffers from its last replay, if it has them.
    let mut values = VALUES
        .with(|v| v.try_borrow_mut().ok().map(|mut v| std::mem::take(&mut *v)))
        .unwrap_or_default();
    values.truncate(keys);
    for v in &mut values {
        v.clear();
        v.push_str(&init);
    }
    while values.len() < keys {
        // Room for a few appends before the first reallocation.
        let mut v = String::with_capacity(init.len().max(48));
        v.push_str(&init);
        values.push(v);
    }
    let result = replay_values(part, budget, ops, &mut values, rank);
    if values.iter().map(String::capacity).sum::<usize>() <= KEEP_VALUES {
        VALUES.with(|v| {
            if let Ok(mut v) = v.try_borrow_mut() {
                *v = values;
            }
        });
    }
    Some(result)
}

/// The thread keeps its value buffers between replays up to this many bytes.
const KEEP_VALUES: usize = 1 << 16;

thread_local! {
    static VALUES: std::cell::RefCell<Vec<String>> = std::cell::RefCell::default();
}

/// Puts, appends and gets on `values` (each key's initial value), in order.
fn replay_values<'a, 'h: 'a>(
    part: &KvPart<'_, 'h, '_>,
    budget: &Budget,
    ops: impl Iterator<Item = &'a RawOp<'h>> + Clone,
    values: &mut [String],
    rank: impl Fn(&RawOp) -> u32,
) -> Replayed {
    let keys = values.len();
    let mut n = 0;
    for (i, r) in ops.clone().enumerate() {
        n = i + 1;
        if i & 0x3FFF == 0x3FFF {
            if let Some(why) = budget.interrupted() {
                return done(Outcome::Aborted(why), i);
            }
        }
        let value = &mut values[rank(r) as usize];
        let legal = match r.f {
            F::Get => same_bytes(value.as_bytes(), kv_text(r.result).as_bytes()),
            F::Put => {
                value.clear();
                value.push_str(&kv_text(r.arg));
                true
            }
            _ => {
                value.push_str(&kv_text(r.arg));
                true
            }
        };
        if legal {
            continue;
        }
        if r.ret == INF {
            break; // the last op, which may not have happened
        }
        let state = if keys > 1 {
            let PartKeys::All(sorted) = &part.keys else {
                unreachable!("several keys come from the unpartitioned part")
            };
            let names: Vec<_> = sorted.iter().map(|&k| part.from.key_name(k)).collect();
            show_map(&names, values)
        } else {
            show_value(&values[0])
        };
        let failure = Failure {
            prefix: (0..i as u32).collect(),
            state,
            // The others are called after this one returned.
            candidates: vec![(i as u32, false)],
        };
        return Replayed {
            result: SearchResult {
                outcome: Outcome::NotLinearizable(failure),
                configurations: i,
            },
            ops: ops.map(prepared).collect(),
        };
    }
    done(Outcome::Linearizable, n)
}

fn done(outcome: Outcome, configurations: usize) -> Replayed {
    Replayed {
        result: SearchResult {
            outcome,
            configurations,
        },
        ops: Vec::new(),
    }
}

/// Whether some op is called before the previous one returned (or after one that never
/// did).
fn overlap<'a, 'h: 'a>(ops: impl Iterator<Item = &'a RawOp<'h>>) -> bool {
    let mut previous_ret: Option<u64> = None;
    for r in ops {
        if previous_ret.is_some_and(|ret| ret == INF || ret > r.invoke as u64) {
            return true;
        }
        previous_ret = Some(r.ret);
    }
    false
}

fn prepared(r: &RawOp) -> PreparedOp<()> {
    PreparedOp {
        op: (),
        call: r.invoke as u64,
        ret: r.ret,
        invoke: r.invoke,
        complete: r.complete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizable::prepare::{collect, prepare, PartSource, Prepared};
    use crate::linearizable::wgl::{search, Scratch};
    use crate::linearizable::ModelKind;
    use faultline_core::{History, Op, OpType};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use serde_json::{json, Value};
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    fn budget() -> Budget {
        Budget {
            deadline: None,
            memory_limit: usize::MAX,
            memory_used: AtomicUsize::new(0),
            cancel: AtomicBool::new(false),
        }
    }

    fn op(index: usize, process: u64, kind: OpType, f: &str, value: Value) -> Op {
        Op::client(index as u64, process, kind, f, value)
    }

    /// Ops one after another (of a few processes), with values that repeat and reads that
    /// are sometimes wrong; the last op may never return.
    fn sequential_history(rng: &mut ChaCha8Rng) -> History {
        let mut current = std::collections::HashMap::<&str, String>::new();
        let mut ops = Vec::new();
        let n = rng.random_range(1..40);
        for i in 0..n {
            let key = ["a", "b", "c"][rng.random_range(0..3)];
            let p = rng.random_range(0..3);
            let v = ["x", "y", "xy", ""][rng.random_range(0..4)].to_string();
            let value = current.entry(key).or_default();
            let (f, invoke, done) = match rng.random_range(0..3) {
                0 => {
                    *value = v.clone();
                    (
                        "put",
                        json!({"key": key, "value": v}),
                        json!({"key": key, "value": v}),
                    )
                }
                1 => {
                    value.push_str(&v);
                    (
                        "append",
                        json!({"key": key, "value": v}),
                        json!({"key": key, "value": v}),
                    )
                }
                _ => {
                    let read = if rng.random_bool(0.1) {
                        v
                    } else {
                        value.clone()
                    };
                    (
                        "get",
                        json!({"key": key, "value": null}),
                        json!({"key": key, "value": read}),
                    )
                }
            };
            ops.push(op(ops.len(), p, OpType::Invoke, f, invoke));
            let last = i == n - 1;
            match rng.random_range(0..10) {
                0 if f != "get" => ops.push(op(ops.len(), p, OpType::Fail, f, done)),
                1 if last => {}
                2 if last => ops.push(op(ops.len(), p, OpType::Info, f, done)),
                _ => ops.push(op(ops.len(), p, OpType::Ok, f, done)),
            }
        }
        History::new(ops)
    }

    /// A replay and the model's search agree on everything a report shows, on parts whose
    /// ops never overlap.
    #[test]
    fn replays_agree_with_the_search() {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        let (mut checked, mut failed) = (0, 0);
        for _ in 0..400 {
            let history = sequential_history(&mut rng);
            for kind in [ModelKind::Kv, ModelKind::KvUnpartitioned] {
                let from = collect(&history, kind).unwrap();
                let Ok(Prepared::Kv(parts)) = prepare(&from, &history, kind, None) else {
                    panic!("a kv history gives kv parts");
                };
                for part in parts {
                    let replayed = part.replay(&budget()).expect("no op overlaps another");
                    let mut built = part.build();
                    let searched = search(
                        &mut built.model,
                        &built.ops,
                        &budget(),
                        &mut Scratch::default(),
                    );
                    let (r, s) = (replayed.result, searched);
                    assert_eq!(r.configurations, s.configurations);
                    checked += 1;
                    match (r.outcome, s.outcome) {
                        (Outcome::Linearizable, Outcome::Linearizable) => {}
                        (Outcome::NotLinearizable(a), Outcome::NotLinearizable(b)) => {
                            assert_eq!(a.prefix, b.prefix);
                            assert_eq!(a.state, b.state);
                            assert_eq!(a.candidates, b.candidates);
                            assert_eq!(replayed.ops.len(), built.ops.len());
                            failed += 1;
                        }
                        _ => panic!("a replay and the search disagree on {history:?}"),
                    }
                }
            }
        }
        // Both verdicts were drawn often.
        assert!(
            failed > 50 && checked - failed > 50,
            "{failed} of {checked}"
        );
    }

    #[test]
    fn overlapping_ops_are_left_to_the_search() {
        let kv = |k: &str, v: &str| json!({"key": k, "value": v});
        let history = History::new(vec![
            op(0, 0, OpType::Invoke, "put", kv("a", "x")),
            op(1, 1, OpType::Invoke, "append", kv("a", "y")),
            op(2, 0, OpType::Ok, "put", kv("a", "x")),
            op(3, 1, OpType::Ok, "append", kv("a", "y")),
        ]);
        let from = collect(&history, ModelKind::Kv).unwrap();
        let Ok(Prepared::Kv(parts)) = prepare(&from, &history, ModelKind::Kv, None) else {
            panic!("a kv history gives kv parts");
        };
        assert!(parts[0].replay(&budget()).is_none());
    }
}
