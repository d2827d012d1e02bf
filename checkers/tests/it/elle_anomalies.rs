//! One hand-written history per anomaly class: the checker must find that class and no
//! other (where a pattern necessarily shows two classes, both are named and explained).

use faultline_checkers::elle::{Analysis, ElleChecker, Txns, Workload};
use faultline_core::{Checker, History, Op, OpType, Process, Validity};
use serde_json::{json, Value};

/// Builds histories op by op; an invocation's value is the completion's with reads unknown.
#[derive(Default)]
struct B {
    ops: Vec<Op>,
}

impl B {
    fn push(&mut self, p: u64, kind: OpType, value: Value) -> &mut Self {
        let index = self.ops.len() as u64;
        self.ops.push(Op {
            index,
            time: index,
            process: Process::Client(p),
            kind,
            f: "txn".into(),
            value,
            node: None,
            error: None,
        });
        self
    }
    fn inv(&mut self, p: u64, v: Value) -> &mut Self {
        let unknown: Vec<Value> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                if m[0] == "r" {
                    json!(["r", m[1], null])
                } else {
                    m.clone()
                }
            })
            .collect();
        self.push(p, OpType::Invoke, Value::Array(unknown))
    }
    fn ok(&mut self, p: u64, v: Value) -> &mut Self {
        self.push(p, OpType::Ok, v)
    }
    fn fail(&mut self, p: u64, v: Value) -> &mut Self {
        self.push(p, OpType::Fail, v)
    }
    /// Each txn on its own process, all invoked before any completes.
    fn concurrent(txns: &[Value]) -> History {
        let mut b = B::default();
        for (p, v) in txns.iter().enumerate() {
            b.inv(p as u64, v.clone());
        }
        for (p, v) in txns.iter().enumerate() {
            b.ok(p as u64, v.clone());
        }
        b.history()
    }
    fn history(&self) -> History {
        History::new(self.ops.clone())
    }
}

fn analyze(workload: Workload, model: &str, h: &History) -> Analysis {
    let c = ElleChecker::new(workload, model).unwrap();
    // The Checker trait path must agree with the analysis.
    let r = c.check(h);
    let a = c.analyze(&Txns::from_history(h));
    assert_eq!(r.valid, a.valid);
    a
}

/// Asserts the found classes are exactly `expected`, each explained, and the verdict
/// under `model`.
fn expect(workload: Workload, h: &History, model: &str, expected: &[&str], valid: Validity) {
    let a = analyze(workload, model, h);
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(a.anomaly_types, want, "{:#?}", a.anomalies);
    assert_eq!(a.valid, valid, "{:?} {:?}", a.forbidden, a.preconditions);
    assert!(a.preconditions.is_empty(), "{:?}", a.preconditions);
    for class in expected {
        let ex = &a.anomalies[*class][0];
        assert!(!ex.explanation.is_empty());
        assert!(*class == "empty-transaction-graph" || !ex.txns.is_empty());
        if class.starts_with('G') && !matches!(*class, "G1a" | "G1b") {
            let dot = ex.dot.as_ref().expect("cycles carry a dot text");
            assert!(dot.starts_with("digraph") && dot.contains("->"), "{dot}");
            // One sentence per edge plus the closing one.
            assert_eq!(
                ex.explanation.len(),
                ex.txns.len() + 1,
                "{:?}",
                ex.explanation
            );
        }
    }
}

const A: Workload = Workload::Append;
const R: Workload = Workload::RwRegister;
use Validity::{Invalid, Valid};

#[test]
fn g0_write_cycle() {
    let h = B::concurrent(&[
        json!([["append", 1, 1], ["append", 2, 1]]),
        json!([["append", 1, 2], ["append", 2, 2]]),
        json!([["r", 1, [1, 2]], ["r", 2, [2, 1]]]),
    ]);
    expect(A, &h, "read-uncommitted", &["G0"], Invalid);
    let a = analyze(A, "serializable", &h);
    let s = &a.anomalies["G0"][0].explanation;
    assert!(s[0].contains("appended") && s[0].contains("(ww)"), "{s:?}");
}

#[test]
fn g1a_aborted_read() {
    let mut b = B::default();
    b.inv(0, json!([["append", 1, 1]]))
        .fail(0, json!([["append", 1, 1]]));
    b.inv(1, json!([["r", 1, [1]]]))
        .ok(1, json!([["r", 1, [1]]]));
    // Nothing else is inferable (Elle: empty-transaction-graph), so a model that allows
    // G1a gets Unknown, not Valid.
    let g1a = ["G1a", "empty-transaction-graph"];
    expect(A, &b.history(), "read-committed", &g1a, Invalid);
    expect(A, &b.history(), "read-uncommitted", &g1a, Validity::Unknown);
}

#[test]
fn g1b_intermediate_read() {
    let h = B::concurrent(&[
        json!([["append", 1, 1], ["append", 1, 2]]),
        json!([["r", 1, [1]]]),
    ]);
    // As Elle says: also a G-single, since [1] observes 1 but not the 2 appended after it.
    expect(A, &h, "read-committed", &["G-single", "G1b"], Invalid);
}

#[test]
fn g1c_circular_information_flow() {
    let h = B::concurrent(&[
        json!([["append", 1, 1], ["r", 2, [1]]]),
        json!([["append", 2, 1], ["r", 1, [1]]]),
    ]);
    expect(A, &h, "read-committed", &["G1c"], Invalid);
}

#[test]
fn g_single_read_skew() {
    let h = B::concurrent(&[
        json!([["r", 1, []], ["r", 2, [1]]]),
        json!([["append", 1, 1], ["append", 2, 1]]),
        json!([["r", 1, [1]]]),
    ]);
    expect(A, &h, "snapshot-isolation", &["G-single"], Invalid);
    expect(A, &h, "read-committed", &["G-single"], Valid);
    let a = analyze(A, "serializable", &h);
    let s = a.anomalies["G-single"][0].explanation.join(" ");
    assert!(
        s.contains("without it") && s.contains("(rw)") && s.contains("(wr)"),
        "{s}"
    );
}

#[test]
fn g_nonadjacent() {
    let h = B::concurrent(&[
        json!([["r", 1, []], ["r", 4, [1]]]),
        json!([["append", 1, 1], ["append", 2, 1]]),
        json!([["r", 2, [1]], ["r", 3, []]]),
        json!([["append", 3, 1], ["append", 4, 1]]),
        json!([["r", 1, [1]], ["r", 3, [1]]]),
    ]);
    expect(A, &h, "snapshot-isolation", &["G-nonadjacent"], Invalid);
}

#[test]
fn g2_item_write_skew() {
    let h = B::concurrent(&[
        json!([["r", 1, []], ["append", 2, 1]]),
        json!([["r", 2, []], ["append", 1, 2]]),
        json!([["r", 1, [2]], ["r", 2, [1]]]),
    ]);
    expect(A, &h, "serializable", &["G2-item"], Invalid);
    expect(A, &h, "snapshot-isolation", &["G2-item"], Valid);
    expect(A, &h, "repeatable-read", &["G2-item"], Invalid);
}

#[test]
fn process_variants() {
    // G0-process: p0 appends 1 then 2, yet the order of key 1 is [2, 1].
    let mut b = B::default();
    b.inv(9, json!([["r", 1, [2, 1]]]));
    b.inv(0, json!([["append", 1, 1]]))
        .ok(0, json!([["append", 1, 1]]));
    b.inv(0, json!([["append", 1, 2]]))
        .ok(0, json!([["append", 1, 2]]));
    b.ok(9, json!([["r", 1, [2, 1]]]));
    expect(
        A,
        &b.history(),
        "strong-session-read-uncommitted",
        &["G0-process"],
        Invalid,
    );
    expect(A, &b.history(), "serializable", &["G0-process"], Valid);

    // G1c-process: p0 reads what its own next txn appends.
    let mut b = B::default();
    b.inv(0, json!([["r", 1, [1]]]))
        .ok(0, json!([["r", 1, [1]]]));
    b.inv(0, json!([["append", 1, 1]]))
        .ok(0, json!([["append", 1, 1]]));
    expect(
        A,
        &b.history(),
        "strong-session-read-committed",
        &["G1c-process"],
        Invalid,
    );

    // G-single-process: p0 fails to read its own earlier append.
    let mut b = B::default();
    b.inv(9, json!([["r", 1, [1]]]));
    b.inv(0, json!([["append", 1, 1]]))
        .ok(0, json!([["append", 1, 1]]));
    b.inv(0, json!([["r", 1, []]])).ok(0, json!([["r", 1, []]]));
    b.ok(9, json!([["r", 1, [1]]]));
    expect(
        A,
        &b.history(),
        "strong-session-snapshot-isolation",
        &["G-single-process"],
        Invalid,
    );
    expect(
        A,
        &b.history(),
        "snapshot-isolation",
        &["G-single-process"],
        Valid,
    );

    // G2-item-process: T0 -rw-> T1 -rw-> T2 -process-> T0.
    let mut b = B::default();
    b.inv(1, json!([["append", 1, 1], ["r", 2, []]]))
        .inv(9, json!([["r", 1, [1]], ["r", 2, [2]]]));
    b.inv(0, json!([["append", 2, 2]]))
        .ok(0, json!([["append", 2, 2]]));
    b.inv(0, json!([["r", 1, []]])).ok(0, json!([["r", 1, []]]));
    b.ok(1, json!([["append", 1, 1], ["r", 2, []]]))
        .ok(9, json!([["r", 1, [1]], ["r", 2, [2]]]));
    expect(
        A,
        &b.history(),
        "strong-session-serializable",
        &["G2-item-process"],
        Invalid,
    );

    // G-nonadjacent-process: T0 -rw-> T1 -wr-> T2 -rw-> T3 -process-> T0.
    let (t0, t1, t2, t3, t4) = nonadjacent_txns();
    let mut b = B::default();
    b.inv(1, t1.clone()).inv(2, t2.clone()).inv(9, t4.clone());
    b.inv(0, t3.clone()).ok(0, t3).inv(0, t0.clone()).ok(0, t0);
    b.ok(1, t1).ok(2, t2).ok(9, t4);
    expect(
        A,
        &b.history(),
        "strong-session-snapshot-isolation",
        &["G-nonadjacent-process"],
        Invalid,
    );
}

fn nonadjacent_txns() -> (Value, Value, Value, Value, Value) {
    (
        json!([["r", 1, []]]),
        json!([["append", 1, 1], ["append", 2, 1]]),
        json!([["r", 2, [1]], ["r", 3, []]]),
        json!([["append", 3, 1]]),
        json!([["r", 1, [1]], ["r", 3, [1]]]),
    )
}

#[test]
fn realtime_variants() {
    // G0-realtime: T0 finished before T1 began, yet key 1's order is [2, 1].
    let mut b = B::default();
    b.inv(9, json!([["r", 1, [2, 1]]]));
    b.inv(0, json!([["append", 1, 1]]))
        .ok(0, json!([["append", 1, 1]]));
    b.inv(1, json!([["append", 1, 2]]))
        .ok(1, json!([["append", 1, 2]]));
    b.ok(9, json!([["r", 1, [2, 1]]]));
    expect(
        A,
        &b.history(),
        "strict-serializable",
        &["G0-realtime"],
        Invalid,
    );
    expect(A, &b.history(), "serializable", &["G0-realtime"], Valid);

    // G1c-realtime: a read of a value appended only after the read completed.
    let mut b = B::default();
    b.inv(0, json!([["r", 1, [1]]]))
        .ok(0, json!([["r", 1, [1]]]));
    b.inv(1, json!([["append", 1, 1]]))
        .ok(1, json!([["append", 1, 1]]));
    expect(
        A,
        &b.history(),
        "strict-serializable",
        &["G1c-realtime"],
        Invalid,
    );

    // G-single-realtime: a stale read after the append completed.
    let mut b = B::default();
    b.inv(9, json!([["r", 1, [1]]]));
    b.inv(0, json!([["append", 1, 1]]))
        .ok(0, json!([["append", 1, 1]]));
    b.inv(1, json!([["r", 1, []]])).ok(1, json!([["r", 1, []]]));
    b.ok(9, json!([["r", 1, [1]]]));
    expect(
        A,
        &b.history(),
        "strict-serializable",
        &["G-single-realtime"],
        Invalid,
    );
    expect(
        A,
        &b.history(),
        "serializable",
        &["G-single-realtime"],
        Valid,
    );

    // G2-item-realtime: T0 -rw-> T1 -rw-> T2 -realtime-> T0.
    let mut b = B::default();
    b.inv(1, json!([["append", 1, 1], ["r", 2, []]]))
        .inv(9, json!([["r", 1, [1]], ["r", 2, [2]]]));
    b.inv(2, json!([["append", 2, 2]]))
        .ok(2, json!([["append", 2, 2]]));
    b.inv(0, json!([["r", 1, []]])).ok(0, json!([["r", 1, []]]));
    b.ok(1, json!([["append", 1, 1], ["r", 2, []]]))
        .ok(9, json!([["r", 1, [1]], ["r", 2, [2]]]));
    expect(
        A,
        &b.history(),
        "strict-serializable",
        &["G2-item-realtime"],
        Invalid,
    );

    // G-nonadjacent-realtime: T0 -rw-> T1 -wr-> T2 -rw-> T3 -realtime-> T0.
    let (t0, t1, t2, t3, t4) = nonadjacent_txns();
    let mut b = B::default();
    b.inv(1, t1.clone()).inv(2, t2.clone()).inv(9, t4.clone());
    b.inv(3, t3.clone()).ok(3, t3).inv(0, t0.clone()).ok(0, t0);
    b.ok(1, t1).ok(2, t2).ok(9, t4);
    expect(
        A,
        &b.history(),
        "strong-snapshot-isolation",
        &["G-nonadjacent-realtime"],
        Invalid,
    );
}

#[test]
fn append_non_cycle_anomalies() {
    let internal = B::concurrent(&[json!([["append", 1, 1], ["r", 1, []]])]);
    expect(
        A,
        &internal,
        "serializable",
        &["empty-transaction-graph", "internal"],
        Invalid,
    );

    let dup = B::concurrent(&[json!([["append", 1, 1]]), json!([["r", 1, [1, 1]]])]);
    expect(
        A,
        &dup,
        "read-uncommitted",
        &["duplicate-elements"],
        Invalid,
    );

    let incompatible = B::concurrent(&[
        json!([["append", 1, 1]]),
        json!([["append", 1, 2]]),
        json!([["r", 1, [1, 2]]]),
        json!([["r", 1, [2, 1]]]),
    ]);
    expect(
        A,
        &incompatible,
        "read-committed",
        &["incompatible-order"],
        Invalid,
    );

    let garbage = B::concurrent(&[json!([["r", 1, [9]]])]);
    expect(
        A,
        &garbage,
        "read-committed",
        &["empty-transaction-graph", "garbage-read"],
        Invalid,
    );

    // A dirty update is only visible through a read of the failed element: G1a too.
    let mut b = B::default();
    b.inv(0, json!([["append", 1, 1]]))
        .fail(0, json!([["append", 1, 1]]));
    b.inv(1, json!([["append", 1, 2]]))
        .ok(1, json!([["append", 1, 2]]));
    b.inv(2, json!([["r", 1, [1, 2]]]))
        .ok(2, json!([["r", 1, [1, 2]]]));
    expect(
        A,
        &b.history(),
        "read-committed",
        &["G1a", "dirty-update"],
        Invalid,
    );

    // Two txns append on top of the same read version: lost update, and the G-single it
    // implies in the dependency graph.
    let lost = B::concurrent(&[
        json!([["r", 1, []], ["append", 1, 1]]),
        json!([["r", 1, []], ["append", 1, 2]]),
        json!([["r", 1, [1, 2]]]),
    ]);
    expect(
        A,
        &lost,
        "repeatable-read",
        &["G-single", "lost-update"],
        Invalid,
    );
    expect(
        A,
        &lost,
        "read-committed",
        &["G-single", "lost-update"],
        Valid,
    );
}

#[test]
fn register_anomalies() {
    let mut b = B::default();
    b.inv(0, json!([["w", 1, 1]])).fail(0, json!([["w", 1, 1]]));
    b.inv(1, json!([["r", 1, 1]])).ok(1, json!([["r", 1, 1]]));
    expect(
        R,
        &b.history(),
        "read-committed",
        &["G1a", "empty-transaction-graph"],
        Invalid,
    );

    let g1b = B::concurrent(&[json!([["w", 1, 1], ["w", 1, 2]]), json!([["r", 1, 1]])]);
    expect(R, &g1b, "read-committed", &["G1b"], Invalid);

    let internal = B::concurrent(&[json!([["w", 1, 1], ["r", 1, 2]])]);
    expect(
        R,
        &internal,
        "serializable",
        &["empty-transaction-graph", "internal"],
        Invalid,
    );

    let garbage = B::concurrent(&[json!([["r", 1, 5]])]);
    expect(
        R,
        &garbage,
        "read-committed",
        &["empty-transaction-graph", "garbage-read"],
        Invalid,
    );

    let single = B::concurrent(&[
        json!([["r", 1, null], ["r", 2, 1]]),
        json!([["w", 1, 1], ["w", 2, 1]]),
    ]);
    expect(R, &single, "snapshot-isolation", &["G-single"], Invalid);

    let skew = B::concurrent(&[
        json!([["r", 1, null], ["w", 2, 1]]),
        json!([["r", 2, null], ["w", 1, 1]]),
    ]);
    expect(R, &skew, "serializable", &["G2-item"], Invalid);
    expect(R, &skew, "snapshot-isolation", &["G2-item"], Valid);

    let g1c = B::concurrent(&[
        json!([["w", 1, 1], ["r", 2, 1]]),
        json!([["w", 2, 1], ["r", 1, 1]]),
    ]);
    expect(R, &g1c, "read-committed", &["G1c"], Invalid);

    let lost = B::concurrent(&[
        json!([["r", 1, null], ["w", 1, 1]]),
        json!([["r", 1, null], ["w", 1, 2]]),
    ]);
    expect(
        R,
        &lost,
        "snapshot-isolation",
        &["G2-item", "lost-update"],
        Invalid,
    );

    let cyclic = B::concurrent(&[
        json!([["r", 1, 1], ["w", 1, 2]]),
        json!([["r", 1, 2], ["w", 1, 1]]),
    ]);
    expect(
        R,
        &cyclic,
        "read-uncommitted",
        &["G1c", "cyclic-versions"],
        Invalid,
    );
}

#[test]
fn preconditions_are_reported_apart_from_anomalies() {
    let h = B::concurrent(&[
        json!([["append", 1, 1]]),
        json!([["append", 1, 1]]),
        json!([["r", 1, [1]]]),
    ]);
    let a = analyze(A, "serializable", &h);
    assert_eq!(a.valid, Validity::Unknown);
    assert_eq!(a.anomaly_types, ["empty-transaction-graph"]);
    assert!(
        a.preconditions[0].contains("unique"),
        "{:?}",
        a.preconditions
    );
}

#[test]
fn a_valid_serial_history_is_valid_and_unknown_models_are_refused() {
    let mut b = B::default();
    b.inv(0, json!([["append", 1, 1], ["r", 1, [1]]]))
        .ok(0, json!([["append", 1, 1], ["r", 1, [1]]]));
    b.inv(1, json!([["r", 1, [1]], ["append", 1, 2]]))
        .ok(1, json!([["r", 1, [1]], ["append", 1, 2]]));
    b.inv(0, json!([["r", 1, [1, 2]]]))
        .ok(0, json!([["r", 1, [1, 2]]]));
    expect(A, &b.history(), "strict-serializable", &[], Valid);
    assert!(ElleChecker::new(A, "nonsense").is_err());
    let empty = analyze(A, "serializable", &History::new(vec![]));
    assert_eq!(empty.valid, Validity::Unknown);
}

#[test]
fn a_transaction_longer_than_the_checker_indexes_is_unknown_not_misread() {
    // 70,000 appends to one key in one transaction (past the 16-bit micro-op index), then a
    // read that misses the last one: were the index truncated, this could read as anything.
    let n = faultline_checkers::elle::MAX_MOPS_PER_TXN + 4465;
    let long: Vec<Value> = (0..n as i64).map(|v| json!(["append", 1, v])).collect();
    let mut b = B::default();
    b.inv(0, Value::Array(long.clone()))
        .ok(0, Value::Array(long))
        .inv(1, json!([["r", 1, null]]))
        .ok(1, json!([["r", 1, (0..n as i64 - 1).collect::<Vec<_>>()]]));
    let a = analyze(Workload::Append, "serializable", &b.history());
    assert_eq!(a.valid, Validity::Unknown, "{:?}", a.anomaly_types);
    assert!(
        a.preconditions[0].contains("70000 micro-ops"),
        "{:?}",
        a.preconditions
    );
}
