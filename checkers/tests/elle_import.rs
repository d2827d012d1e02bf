//! Jepsen EDN import: both layouts, optional :process/:time/:index, comments and commas,
//! completions without invocations; the imported history checks like a native one.

use faultline_checkers::elle::import::jepsen_edn;
use faultline_checkers::elle::{ElleChecker, Workload};
use faultline_core::{Checker, OpType, Process, Validity};

const APPEND: &str = r#"
; a G-single in Jepsen's format, one op per line
{:type :invoke, :f :txn, :value [[:r 1 nil] [:r 2 nil]], :process 0, :time 10, :index 0}
{:type :invoke, :f :txn, :value [[:append 1 1] [:append 2 1]], :process 1, :time 11, :index 1}
{:type :invoke, :f :txn, :value [[:r 1 nil]], :process 2, :time 12, :index 2}
{:type :info, :f :start, :value nil, :process :nemesis, :time 13, :index 3}
{:type :ok, :f :txn, :value [[:r 1 []] [:r 2 [1]]], :process 0, :time 14, :index 4}
{:type :ok, :f :txn, :value [[:append 1 1] [:append 2 1]], :process 1, :time 15, :index 5}
{:type :ok, :f :txn, :value [[:r 1 [1]]], :process 2, :time 16, :index 6}
"#;

#[test]
fn append_history_imports_and_checks() {
    let h = jepsen_edn(APPEND, Workload::Append).unwrap();
    assert_eq!(h.ops.len(), 7);
    assert_eq!(h.ops[3].process, Process::Nemesis);
    assert_eq!(
        h.ops[4].value,
        serde_json::json!([["r", 1, []], ["r", 2, [1]]])
    );
    assert_eq!(h.ops[4].time, 14);
    let c = ElleChecker::new(Workload::Append, "serializable").unwrap();
    let r = c.check(&h);
    assert_eq!(r.valid, Validity::Invalid, "{}", r.summary);
    assert!(r.summary.contains("G-single"), "{}", r.summary);
    assert_eq!(r.details["anomaly_types"], serde_json::json!(["G-single"]));
}

#[test]
fn completions_only_vector_layout_register() {
    let text =
        "[{:type :ok, :value [[:r 1 nil], [:w 2 1]]}\n {:type :ok, :value [[:r 2 nil] [:w 1 1]]}]";
    let h = jepsen_edn(text, Workload::RwRegister).unwrap();
    assert_eq!(
        h.ops.len(),
        4,
        "an invocation is synthesised per completion"
    );
    assert_eq!(h.ops[0].kind, OpType::Invoke);
    assert_eq!(
        h.ops[0].value,
        serde_json::json!([["r", 1, null], ["w", 2, 1]])
    );
    assert_ne!(h.ops[0].process, h.ops[1].process);
    let c = ElleChecker::new(Workload::RwRegister, "serializable").unwrap();
    let r = c.check(&h);
    assert_eq!(r.valid, Validity::Invalid);
    assert_eq!(r.details["anomaly_types"], serde_json::json!(["G2-item"]));
    let si = ElleChecker::new(Workload::RwRegister, "snapshot-isolation").unwrap();
    assert_eq!(si.check(&h).valid, Validity::Valid);
}

#[test]
fn errors_name_the_line() {
    let e = jepsen_edn(
        "{:type :ok, :value [[:r 1 nil]]}\n{:type :bogus}\n",
        Workload::Append,
    )
    .unwrap_err();
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = jepsen_edn("\n{:type :ok, :value [[:append :x 1]]}", Workload::Append).unwrap_err();
    assert!(
        e.to_string().contains("line 2") && e.to_string().contains("integers"),
        "{e}"
    );
    let e = jepsen_edn("{:type :invoke, :value []}", Workload::Append).unwrap_err();
    assert!(e.to_string().contains(":process"), "{e}");
}
