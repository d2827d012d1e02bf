//! The linearizability checker end to end: budgets that end in unknown with what was
//! learned, bounded counterexamples and their HTML, the Checker trait, the imports.

use faultline_checkers::linearizable::{
    check, import, render_counterexample_html, render_details_html, LinearizableChecker,
    LinearizableOptions, ModelKind, OpRole,
};
use faultline_core::{Checker, History, Op, OpType, Process, Validity};
use serde_json::{json, Value};
use std::time::Duration;

fn op(index: usize, p: u64, kind: OpType, f: &str, value: Value) -> Op {
    Op {
        index: index as u64,
        time: index as u64 * 10,
        process: Process::Client(p),
        kind,
        f: f.into(),
        value,
        node: None,
        error: None,
    }
}

/// `pairs` write/read pairs on `key` by two processes, all fine. `overlap`: each read is
/// called before the write it reads returns, so the key goes through the search (not the
/// in-order walk of a key whose ops never overlap).
fn write_read_pairs(ops: &mut Vec<Op>, key: i64, pairs: usize, overlap: bool) {
    for i in 0..pairs {
        let v = json!({"key": key, "value": (i % 5) as i64});
        let r = json!({"key": key, "value": null});
        let n = ops.len();
        let (write_ok, read_invoke) = if overlap {
            (n + 2, n + 1)
        } else {
            (n + 1, n + 2)
        };
        ops.push(op(n, 0, OpType::Invoke, "write", v.clone()));
        ops.push(op(write_ok, 0, OpType::Ok, "write", v.clone()));
        ops.push(op(read_invoke, 1, OpType::Invoke, "read", r));
        ops.push(op(n + 3, 1, OpType::Ok, "read", v));
    }
    ops.sort_by_key(|o| o.index);
}

fn sequential(ops: &mut Vec<Op>, key: i64, pairs: usize) {
    write_read_pairs(ops, key, pairs, false);
}

fn overlapping(ops: &mut Vec<Op>, key: i64, pairs: usize) {
    write_read_pairs(ops, key, pairs, true);
}

fn opts(model: ModelKind) -> LinearizableOptions {
    LinearizableOptions {
        model,
        ..Default::default()
    }
}

#[test]
fn a_time_budget_that_runs_out_says_unknown_with_the_keys_done_and_left() {
    let mut ops = Vec::new();
    sequential(&mut ops, 1, 3);
    sequential(&mut ops, 2, 3);
    overlapping(&mut ops, 3, 20_000); // needs more than one budget interval of steps
    let h = History::new(ops);
    let mut o = opts(ModelKind::CasRegister);
    assert_eq!(check(&h, &o).valid, Validity::Valid);
    o.timeout = Some(Duration::ZERO);
    o.threads = 1;
    let r = check(&h, &o);
    assert_eq!(r.valid, Validity::Unknown, "{}", r.summary);
    assert_eq!(r.keys, 3);
    assert_eq!(r.keys_linearizable, 2);
    assert_eq!(r.keys_unfinished, vec!["3".to_string()]);
    assert_eq!(r.unfinished_reason.as_deref(), Some("timeout"));
    assert!(r.summary.contains("time budget"), "{}", r.summary);
}

/// A key whose ops never overlap is checked by walking its ops in order: the same
/// verdicts, counterexamples and budgets as the search.
#[test]
fn keys_whose_ops_never_overlap_are_checked_in_order() {
    let mut ops = Vec::new();
    sequential(&mut ops, 1, 300);
    let valid = History::new(ops.clone());
    assert_eq!(
        check(&valid, &opts(ModelKind::CasRegister)).valid,
        Validity::Valid
    );

    // `ops`, then one more op of process 0 on key 1, completed as `kind`.
    let then = |f: &str, value: Value, kind: OpType| {
        let mut more = ops.clone();
        let n = more.len();
        let v = json!({"key": 1, "value": value});
        more.push(op(n, 0, OpType::Invoke, f, v.clone()));
        more.push(op(n + 1, 0, kind, f, v));
        more
    };
    let cas_register = opts(ModelKind::CasRegister);
    // A write that never returned, last: it may not have happened; fine either way.
    let r = check(
        &History::new(then("write", json!(9), OpType::Info)),
        &cas_register,
    );
    assert_eq!(r.valid, Validity::Valid, "{}", r.summary);
    // A cas that cannot have swapped, last and never returned: it did not happen.
    let r = check(
        &History::new(then("cas", json!([7, 8]), OpType::Info)),
        &cas_register,
    );
    assert_eq!(r.valid, Validity::Valid, "{}", r.summary);

    // A cas that returned ok but cannot have swapped (the value is 4, not 7), then more.
    let mut bad = then("cas", json!([7, 8]), OpType::Ok);
    sequential(&mut bad, 1, 2);
    let r = check(&History::new(bad), &cas_register);
    assert_eq!(r.valid, Validity::Invalid, "{}", r.summary);
    let cx = r.counterexample.expect("counterexample");
    assert_eq!(cx.prefix_len, 600, "every op before the cas is linearized");
    assert_eq!(cx.state_after_prefix, "4");
    let last = cx.ops.last().unwrap();
    assert_eq!(last.description, "cas(1, 7, 8) -> ok");
    assert_eq!(
        last.role,
        faultline_checkers::linearizable::OpRole::CannotFollow
    );
    assert_eq!(cx.candidates_omitted, 0);

    // Budgets hold on the walk too.
    let mut long = Vec::new();
    sequential(&mut long, 1, 20_000);
    let mut o = opts(ModelKind::CasRegister);
    o.timeout = Some(Duration::ZERO);
    let r = check(&History::new(long), &o);
    assert_eq!(r.valid, Validity::Unknown, "{}", r.summary);
    assert_eq!(r.unfinished_reason.as_deref(), Some("timeout"));
}

#[test]
fn a_memory_budget_that_runs_out_says_unknown() {
    let mut ops = Vec::new();
    overlapping(&mut ops, 1, 500);
    let h = History::new(ops);
    let mut o = opts(ModelKind::Register);
    o.memory_budget = 1000;
    let r = check(&h, &o);
    assert_eq!(r.valid, Validity::Unknown, "{}", r.summary);
    assert_eq!(r.unfinished_reason.as_deref(), Some("memory"));
    assert!(r.summary.contains("memory budget"), "{}", r.summary);
}

#[test]
fn a_long_invalid_history_gets_a_bounded_counterexample_and_html() {
    let mut ops = Vec::new();
    sequential(&mut ops, 7, 300);
    let n = ops.len();
    // A read of a value nobody wrote, with some concurrency around it.
    ops.push(op(
        n,
        5,
        OpType::Invoke,
        "read",
        json!({"key": 7, "value": null}),
    ));
    ops.push(op(
        n + 1,
        6,
        OpType::Invoke,
        "write",
        json!({"key": 7, "value": 3}),
    ));
    ops.push(op(
        n + 2,
        5,
        OpType::Ok,
        "read",
        json!({"key": 7, "value": "<b>42</b>"}),
    ));
    ops.push(op(
        n + 3,
        6,
        OpType::Ok,
        "write",
        json!({"key": 7, "value": 3}),
    ));
    let h = History::new(ops);
    let checker = LinearizableChecker::new(ModelKind::CasRegister);
    let result = checker.check(&h);
    assert_eq!(checker.name(), "linearizable");
    assert_eq!(result.valid, Validity::Invalid);
    let report = check(&h, &opts(ModelKind::CasRegister));
    let cx = report.counterexample.expect("counterexample");
    assert_eq!(cx.key, "7");
    assert!(cx.prefix_len >= 600, "{}", cx.prefix_len);
    assert!(
        cx.ops.len() <= 50 && cx.prefix_omitted >= 550,
        "{} {}",
        cx.ops.len(),
        cx.prefix_omitted
    );
    let bad: Vec<_> = cx
        .ops
        .iter()
        .filter(|o| o.role == OpRole::CannotFollow)
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].index, n as u64);
    assert!(cx.explanation.contains("<b>42</b>"), "{}", cx.explanation);
    let html = render_counterexample_html(&cx);
    assert!(html.starts_with("<div") && html.contains("<svg") && html.ends_with("</div>"));
    assert!(!html.contains("<b>42"), "values are escaped");
    assert!(html.contains("&lt;b&gt;42"));
    assert!(html.len() < 40_000, "{} bytes", html.len());
    // The report writer can render straight from the CheckResult's details.
    assert_eq!(
        render_details_html(&result.details).as_deref(),
        Some(html.as_str())
    );
}

#[test]
fn ops_a_model_does_not_know_make_the_verdict_unknown() {
    let h = History::new(vec![
        op(0, 0, OpType::Invoke, "cas", json!({"value": [1, 2]})),
        op(1, 0, OpType::Ok, "cas", json!({"value": [1, 2]})),
    ]);
    let r = check(&h, &opts(ModelKind::Register));
    assert_eq!(r.valid, Validity::Unknown);
    assert!(r.error.unwrap().contains("cas"));
    // The cas-register model knows it, and the register was nil: not linearizable.
    assert_eq!(
        check(&h, &opts(ModelKind::CasRegister)).valid,
        Validity::Invalid
    );
    // ... unless it starts at 1.
    let mut o = opts(ModelKind::CasRegister);
    o.initial_value = Some(json!(1));
    assert_eq!(check(&h, &o).valid, Validity::Valid);
}

#[test]
fn etcd_logs_import_with_porcupine_semantics_and_line_numbers() {
    let text = "INFO  jepsen.util - 0\t:invoke\t:write\t1\n\
                INFO  jepsen.util - 0\t:ok\t:write\t1\n\
                INFO  jepsen.util - 1   :invoke :cas    [2 3]\n\
                INFO  jepsen.util - 1   :fail   :cas    [2 3]\n\
                INFO  jepsen.util - 2\t:invoke\t:write\t4\n\
                INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n\
                INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
                INFO  jepsen.util - 3\t:ok\t:read\t4\n";
    let h = import::porcupine_etcd_str(text).unwrap();
    assert_eq!(h.len(), 8);
    assert_eq!(h.ops[3].kind, OpType::Ok);
    assert_eq!(h.ops[3].value, json!({"value": [2, 3], "swapped": false}));
    assert_eq!(h.ops[5].error.as_deref(), Some("timed-out"));
    assert_eq!(h.ops[5].value, json!(4));
    assert_eq!(
        h.ops[0].value,
        json!(1),
        "values are bare, as in Jepsen's EDN"
    );
    assert_eq!(
        check(&h, &opts(ModelKind::CasRegister)).valid,
        Validity::Valid
    );
    // A failed compare is evidence: the value was not 1 at that point.
    let h = import::porcupine_etcd_str(&text.replace("[2 3]", "[1 3]")).unwrap();
    assert_eq!(
        check(&h, &opts(ModelKind::CasRegister)).valid,
        Validity::Invalid
    );

    let err = import::porcupine_etcd_str(
        "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - x\t:ok\t:read\t1\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(":2:") && err.contains("process"), "{err}");
    let err = import::porcupine_etcd_str("hello\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains(":1:"), "{err}");
}

#[test]
fn jepsen_edn_register_histories_import_in_both_layouts() {
    let per_line = "; a Knossos history\n\
                    {:process 0, :type :invoke, :f :write, :value 2}\n\
                    {:process 0, :type :ok, :f :write, :value 2}\n\
                    {:process :nemesis, :type :info, :f :start, :value nil}\n\
                    {:process 1, :type :invoke, :f :cas, :value [2 3]}\n\
                    {:process 1, :type :fail, :f :cas, :value [2 3]}\n\
                    {:process 2 :type :invoke :f :read :value nil}\n\
                    {:process 2, :type :ok, :f :read, :value 2}\n";
    let h = import::jepsen_edn_register_str(per_line).unwrap();
    assert_eq!(h.len(), 7);
    assert_eq!(h.ops[2].process, Process::Nemesis);
    assert_eq!(
        check(&h, &opts(ModelKind::CasRegister)).valid,
        Validity::Valid
    );
    let vector = format!("[{}]", per_line.replace("; a Knossos history\n", ""));
    let h2 = import::jepsen_edn_register_str(&vector).unwrap();
    assert_eq!(h2.ops, h.ops);
    // A read of 3 after a failed cas(2, 3): the cas did not happen.
    let stale = per_line.replace(
        "{:process 2, :type :ok, :f :read, :value 2}",
        "{:process 2, :type :ok, :f :read, :value 3}",
    );
    let h = import::jepsen_edn_register_str(&stale).unwrap();
    assert_eq!(
        check(&h, &opts(ModelKind::CasRegister)).valid,
        Validity::Invalid
    );

    let err = import::jepsen_edn_register_str(
        "{:process 0, :type :invoke, :f :read}\n{:process 0 :type :ok}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains(":2:") && err.contains(":f"), "{err}");
}

#[test]
fn jepsen_edn_register_ops_without_process_are_one_nil_process() {
    // As Jepsen reads them: no :process means the nil process, so these run one after
    // another; the read of 1 after the write of 2 completed is not linearizable.
    let text = "{:type :invoke, :f :write, :value 1}\n\
                {:type :ok, :f :write, :value 1}\n\
                {:type :invoke, :f :write, :value 2}\n\
                {:type :ok, :f :write, :value 2}\n\
                {:process :nemesis, :type :info, :f :start, :value nil}\n\
                {:type :invoke, :f :read, :value nil}\n\
                {:type :ok, :f :read, :value 1}\n";
    let h = import::jepsen_edn_register_str(text).unwrap();
    let nil = h.ops[0].process;
    assert!(matches!(nil, Process::Client(_)));
    assert!(h
        .ops
        .iter()
        .filter(|o| !o.process.is_nemesis())
        .all(|o| o.process == nil));
    assert_eq!(
        check(&h, &opts(ModelKind::CasRegister)).valid,
        Validity::Invalid
    );
    let fine = text.replace(
        "{:type :ok, :f :read, :value 1}",
        "{:type :ok, :f :read, :value 2}",
    );
    let h = import::jepsen_edn_register_str(&fine).unwrap();
    assert_eq!(
        check(&h, &opts(ModelKind::CasRegister)).valid,
        Validity::Valid
    );
}
