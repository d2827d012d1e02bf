//! Jepsen EDN import: both layouts, optional :process/:time/:index, comments and commas,
//! completions without invocations; the imported history checks like a native one.

use faultline_checkers::elle::import::{
    jepsen_edn, jepsen_edn_named, jepsen_history, jepsen_history_named, jepsen_json,
    looks_like_json,
};
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
    let e = jepsen_edn(
        "\n{:type :ok, :value [[:append -9223372036854775000 1]]}",
        Workload::Append,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("line 2") && e.to_string().contains("reserved"),
        "{e}"
    );
    let e = jepsen_edn("{:type :invoke, :process :p1, :value []}", Workload::Append).unwrap_err();
    assert!(e.to_string().contains(":process"), "{e}");
    let e = jepsen_edn("{:type :ok, :value [[:append :x]]}", Workload::Append).unwrap_err();
    assert!(e.to_string().contains("[f k v]"), "{e}");
}

/// Jepsen writes ops without :process, :time or :index when they come from a test's
/// REPL or a hand-made history; Jepsen reads them all as the one nil process.
const NO_PROCESS: &str = r#"
{:type :invoke, :f :txn, :value [[:append :x 1] [:r :y nil]]}
{:type :ok, :f :txn, :value [[:append :x 1] [:r :y nil]]}
{:type :info, :f :start-partition, :value :majority, :process :nemesis}
{:type :invoke, :f :txn, :value [[:append :y 1] [:r :x nil]]}
{:type :ok, :f :txn, :value [[:append :y 1] [:r :x nil]]}
{:type :info, :f :stop-partition, :value nil, :process :nemesis}
"#;

#[test]
fn ops_without_process_pair_as_one_nil_process() {
    let h = jepsen_edn(NO_PROCESS, Workload::Append).unwrap();
    assert_eq!(
        h.ops.len(),
        6,
        "nothing synthesised: the nil process pairs in order"
    );
    let nil = h.ops[0].process;
    assert!(matches!(nil, Process::Client(_)));
    assert!(h
        .ops
        .iter()
        .filter(|o| !o.process.is_nemesis())
        .all(|o| o.process == nil));
    assert_eq!(h.ops[2].process, Process::Nemesis);
    assert_eq!(h.ops[1].time, 1, "no :time: the position stands in");
    // Keyword keys: :x and :y became distinct numbers, used consistently.
    let (x, y) = (&h.ops[1].value[0][1], &h.ops[1].value[1][1]);
    assert_ne!(x, y);
    assert_eq!(&h.ops[4].value[1][1], x);
    // A write skew whose appends no read observed, on one sequential process: the
    // second txn ran after the first completed and still missed its append.
    let c = ElleChecker::new(Workload::Append, "serializable").unwrap();
    let r = c.check(&h);
    assert_eq!(r.valid, Validity::Invalid, "{}", r.summary);
    let ss = ElleChecker::new(Workload::Append, "strong-session-serializable").unwrap();
    assert!(ss.check(&h).summary.contains("G2-item"));
}

#[test]
fn explanations_name_keyword_keys_as_jepsen_wrote_them() {
    let (h, names) = jepsen_history_named(NO_PROCESS, Workload::Append).unwrap();
    let mut r = ElleChecker::new(Workload::Append, "serializable")
        .unwrap()
        .check(&h);
    let before = serde_json::to_string(&r.details).unwrap();
    let x = names.show(h.ops[1].value[0][1].as_i64().unwrap());
    assert_eq!(x, ":x");
    let x_id = h.ops[1].value[0][1].to_string();
    assert!(
        before.contains(&x_id),
        "the raw details carry the number: {before}"
    );
    names.rename_result(&mut r);
    let after = serde_json::to_string(&r.details).unwrap();
    assert_eq!(r.valid, Validity::Invalid);
    assert!(
        !after.contains("-922337203"),
        "no numbered name left: {after}"
    );
    assert!(after.contains(":x") && after.contains(":y"), "{after}");
    // Other numbers are left alone: an element, a negative integer, a word with digits.
    assert_eq!(
        names.rename_in(&format!("key {x_id}, element 1, -5, t-1, {x_id}0")),
        format!(":x, element 1, -5, t-1, {x_id}0").replacen(":x,", "key :x,", 1)
    );
}

#[test]
fn keys_and_values_may_be_keywords_strings_integers_or_vectors() {
    let text = r#"[{:type :ok, :value [[:w :x 2] [:w "x" 3] [:w 7 :a] [:w [:anti 1] "b"]]}
 {:type :ok, :value [[:r :x 2] [:r "x" 3] [:r 7 :a] [:r [:anti 1] "b"]]}]"#;
    let (h, names) = jepsen_edn_named(text, Workload::RwRegister).unwrap();
    let w = h.ops.iter().find(|o| o.kind == OpType::Ok).unwrap();
    let keys: Vec<i64> = (0..4).map(|i| w.value[i][1].as_i64().unwrap()).collect();
    assert_eq!(keys[2], 7, "integers are kept");
    assert_eq!(names.show(keys[0]), ":x");
    assert_eq!(names.show(keys[1]), "\"x\"");
    assert_eq!(names.show(keys[3]), "[:anti 1]");
    assert_eq!(names.show(w.value[2][2].as_i64().unwrap()), ":a");
    let c = ElleChecker::new(Workload::RwRegister, "serializable").unwrap();
    let r = c.check(&h);
    assert_eq!(r.valid, Validity::Valid, "{}", r.summary);
}

/// elle-cli's JSON form (its histories/elle/paper-example.json): an array of objects.
const PAPER_JSON: &str = r#"[{"index":0,"process":1,"type":"invoke","value":[["append",253,1],["append",253,3],["append",253,4],["append",255,2],["append",255,3],["append",255,4],["append",255,5],["append",256,1],["append",256,2]]},
{"index":1,"process":1,"type":"ok","value":[["append",253,1],["append",253,3],["append",253,4],["append",255,2],["append",255,3],["append",255,4],["append",255,5],["append",256,1],["append",256,2]]},
{"index":2,"process":1,"type":"invoke","value":[["append",255,8],["r",253,null]]},
{"index":3,"process":1,"type":"ok","value":[["append",255,8],["r",253,[1,3,4]]]},
{"index":4,"process":1,"type":"invoke","value":[["append",256,4],["r",255,null],["r",256,null],["r",253,null]]},
{"index":5,"process":1,"type":"ok","value":[["append",256,4],["r",255,[2,3,4,5,8]],["r",256,[1,2,4]],["r",253,[1,3,4]]]},
{"index":6,"process":1,"type":"invoke","value":[["append",250,10],["r",253,null],["r",255,null],["append",256,3]]},
{"index":7,"process":1,"type":"ok","value":[["append",250,10],["r",253,[1,3,4]],["r",255,[2,3,4,5]],["append",256,3]]}]"#;

#[test]
fn elle_cli_json_form_reads_like_edn() {
    assert!(looks_like_json(PAPER_JSON));
    assert!(!looks_like_json(APPEND));
    let json = jepsen_history(PAPER_JSON, Workload::Append).unwrap();
    let edn_text = PAPER_JSON
        .replace("\"", "")
        .replace("index:", ":index ")
        .replace("process:", ":process ")
        .replace("type:", ":type :")
        .replace("value:", ":value ")
        .replace("append", ":append")
        .replace("[r,", "[:r ")
        .replace("null", "nil");
    let edn = jepsen_history(&edn_text, Workload::Append).unwrap();
    assert_eq!(json.ops.len(), 8);
    assert_eq!(
        json.ops.iter().map(|o| &o.value).collect::<Vec<_>>(),
        edn.ops.iter().map(|o| &o.value).collect::<Vec<_>>()
    );
    // One object per line works too.
    let lines = PAPER_JSON
        .trim_start_matches('[')
        .trim_end_matches(']')
        .replace("},\n", "}\n");
    assert_eq!(jepsen_json(&lines, Workload::Append).unwrap().ops.len(), 8);
    // The paper's example: T3 read 255 without 8, which T2 appended before it, on one
    // process: G-single-process (and, by the appends unobserved by any read, more).
    let c = ElleChecker::new(Workload::Append, "strict-serializable").unwrap();
    let r = c.check(&json);
    assert_eq!(r.valid, Validity::Invalid, "{}", r.summary);
}
