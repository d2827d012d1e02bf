//! Jepsen's set and set-full checkers on the cases of jepsen-io/jepsen's
//! test/jepsen/checker_test.clj (`set-test-`, `set-full-test`): the same histories, read
//! through our EDN importer, with Jepsen's expected outcomes, counts and latencies. As in
//! Jepsen's test helper, op k happens at k milliseconds. Beyond Jepsen: unexpected and
//! duplicated elements in set-full (cases at the end).

use faultline_checkers::set::{jepsen_set_history, SetChecker, SetFullChecker};
use faultline_core::{CheckResult, Checker, Validity};
use serde_json::{json, Value};

/// One op of Jepsen's test notation: (process, type, f, value as EDN).
type J<'a> = (u64, &'a str, &'a str, &'a str);

/// The ops as EDN lines, op k at k ms, without `:index` (as Jepsen's helper strips it).
fn edn(ops: &[J]) -> String {
    ops.iter()
        .enumerate()
        .map(|(k, (p, t, f, v))| {
            format!(
                "{{:process {p}, :type :{t}, :f :{f}, :value {v}, :time {}}}\n",
                k as u64 * 1_000_000
            )
        })
        .collect()
}

fn set(ops: &[J]) -> CheckResult {
    SetChecker.check(&jepsen_set_history(&edn(ops)).expect("imports"))
}

fn set_full(ops: &[J]) -> CheckResult {
    SetFullChecker::default().check(&jepsen_set_history(&edn(ops)).expect("imports"))
}

fn field<'a>(r: &'a CheckResult, k: &str) -> &'a Value {
    &r.details[k]
}

#[test]
fn set_test_lost_unexpected_and_recovered_as_jepsen_counts_them() {
    let r = set(&[
        (0, "invoke", "add", "0"),
        (0, "ok", "add", "0"),
        (0, "invoke", "add", "1"),
        (0, "ok", "add", "1"),
        (1, "invoke", "add", "10"),
        (1, "info", "add", "10"),
        (1, "invoke", "add", "11"),
        (1, "info", "add", "11"),
        (2, "invoke", "add", "20"),
        (2, "fail", "add", "20"),
        (2, "invoke", "add", "21"),
        (2, "fail", "add", "21"),
        (4, "invoke", "read", "nil"),
        (4, "ok", "read", "#{0 10 20 30}"),
    ]);
    assert_eq!(r.valid, Validity::Invalid);
    let d = &r.details;
    assert_eq!(d["attempt_count"], 6);
    assert_eq!(d["acknowledged_count"], 2);
    assert_eq!(d["ok_count"], 3);
    assert_eq!(d["lost"], json!([1]));
    assert_eq!(d["recovered"], json!([10, 20]));
    assert_eq!(d["unexpected"], json!([30]));
}

#[test]
fn set_without_a_read_is_unknown_and_with_everything_read_valid() {
    let never = set(&[(0, "invoke", "add", "0"), (0, "ok", "add", "0")]);
    assert_eq!(never.valid, Validity::Unknown);
    let all = set(&[
        (0, "invoke", "add", "0"),
        (0, "ok", "add", "0"),
        (1, "invoke", "add", "1"),
        (1, "info", "add", "1"),
        (2, "invoke", "read", "nil"),
        (2, "ok", "read", "#{0}"),
    ]);
    assert_eq!(all.valid, Validity::Valid, "{}", all.summary);
}

const A: J = (0, "invoke", "add", "0");
const A_OK: J = (0, "ok", "add", "0");
const R: J = (1, "invoke", "read", "nil");
const R_PRESENT: J = (1, "ok", "read", "#{0}");
const R_ABSENT: J = (1, "ok", "read", "#{}");

#[test]
fn set_full_never_read_is_unknown() {
    for h in [vec![A, A_OK], vec![A, R, R_ABSENT]] {
        let r = set_full(&h);
        assert_eq!(r.valid, Validity::Unknown, "{h:?}");
        assert_eq!(field(&r, "never_read"), &json!([0]));
        assert_eq!(field(&r, "stable_count"), 0);
        assert_eq!(field(&r, "lost_count"), 0);
    }
}

#[test]
fn set_full_a_read_concurrent_with_or_after_the_add_makes_it_stable() {
    for h in [
        vec![R, A, R_PRESENT, A_OK],
        vec![R, A, A_OK, R_PRESENT],
        vec![A, R, R_PRESENT, A_OK],
        vec![A, R, A_OK, R_PRESENT],
        vec![A, A_OK, R, R_PRESENT],
    ] {
        let r = set_full(&h);
        assert_eq!(r.valid, Validity::Valid, "{h:?}: {}", r.summary);
        assert_eq!(field(&r, "stable_count"), 1);
        assert_eq!(field(&r, "stale_count"), 0);
        assert_eq!(field(&r, "stable_latencies_ms")["1"], 0);
    }
}

#[test]
fn set_full_an_absent_read_after_the_ack_is_a_lost_element() {
    let r = set_full(&[A, A_OK, R, R_ABSENT]);
    assert_eq!(r.valid, Validity::Invalid);
    assert_eq!(field(&r, "lost"), &json!([0]));
    assert_eq!(field(&r, "lost_latencies_ms")["1"], 0);
}

#[test]
fn set_full_an_absent_read_concurrent_with_the_add_proves_nothing() {
    for h in [
        vec![R, A, R_ABSENT, A_OK],
        vec![R, A, A_OK, R_ABSENT],
        vec![A, R, R_ABSENT, A_OK],
        vec![A, R, A_OK, R_ABSENT],
    ] {
        let r = set_full(&h);
        assert_eq!(r.valid, Validity::Unknown, "{h:?}: {}", r.summary);
        assert_eq!(field(&r, "never_read"), &json!([0]));
    }
}

#[test]
fn set_full_write_present_missing_loses_both_with_jepsens_latencies() {
    let (a0, a0ok) = ((0, "invoke", "add", "0"), (0, "ok", "add", "0"));
    let (a1, a1ok) = ((1, "invoke", "add", "1"), (1, "ok", "add", "1"));
    let r2 = (2, "invoke", "read", "nil");
    let r = set_full(&[
        a0,
        a1,
        r2,
        (2, "ok", "read", "#{1}"),
        a0ok,
        a1ok,
        r2,
        (2, "ok", "read", "#{0 1}"),
        r2,
        (2, "ok", "read", "#{0}"),
        r2,
        (2, "ok", "read", "#{}"),
    ]);
    assert_eq!(r.valid, Validity::Invalid);
    assert_eq!(field(&r, "lost"), &json!([0, 1]));
    assert_eq!(field(&r, "stable_count"), 0);
    assert_eq!(
        field(&r, "lost_latencies_ms"),
        &json!({"0": 3, "0.5": 4, "0.95": 4, "0.99": 4, "1": 4})
    );
}

/// Jepsen's "write, flutter, stable/lost": 0 is lost (no time after which every read that
/// begins sees it); 1 is stable but stale by 2 ms (known at 4 ms when a read saw it before
/// its add completed, missed by the read that began at 6 ms).
fn flutter() -> Vec<J<'static>> {
    vec![
        (0, "invoke", "add", "0"),
        (0, "ok", "add", "0"),
        (1, "invoke", "add", "1"),
        (2, "invoke", "read", "nil"),
        (2, "ok", "read", "#{1}"),
        (1, "ok", "add", "1"),
        (2, "invoke", "read", "nil"),
        (3, "invoke", "read", "nil"),
        (3, "ok", "read", "#{1}"),
        (2, "ok", "read", "#{0}"),
    ]
}

#[test]
fn set_full_flutter_is_one_lost_and_one_stale_element() {
    let r = set_full(&flutter());
    assert_eq!(r.valid, Validity::Invalid);
    assert_eq!(field(&r, "lost"), &json!([0]));
    assert_eq!(field(&r, "stable_count"), 1);
    assert_eq!(field(&r, "stale"), &json!([1]));
    assert_eq!(field(&r, "worst_stale")[0]["stable_latency_ms"], 2);
    assert_eq!(field(&r, "lost_latencies_ms")["0"], 5);
    assert_eq!(field(&r, "stable_latencies_ms")["0"], 2);
}

#[test]
fn set_full_stale_is_invalid_only_when_linearizable() {
    // A stale element with nothing lost: an element seen, missed by a later read, then seen
    // by every read after. Valid by default; invalid with Jepsen's :linearizable?.
    let h = [
        (0, "invoke", "add", "0"),
        (0, "ok", "add", "0"),
        (1, "invoke", "read", "nil"),
        (1, "ok", "read", "#{}"),
        (1, "invoke", "read", "nil"),
        (1, "ok", "read", "#{0}"),
    ];
    let history = jepsen_set_history(&edn(&h)).unwrap();
    let plain = SetFullChecker::default().check(&history);
    assert_eq!(plain.valid, Validity::Valid, "{}", plain.summary);
    assert_eq!(plain.details["stale_count"], 1);
    let lin = SetFullChecker { linearizable: true }.check(&history);
    assert_eq!(lin.valid, Validity::Invalid);
    assert!(lin.summary.contains("stale"), "{}", lin.summary);
}

#[test]
fn set_full_beyond_jepsen_unexpected_and_duplicated_elements_are_invalid() {
    let unexpected = set_full(&[A, A_OK, R, (1, "ok", "read", "#{0 7}")]);
    assert_eq!(unexpected.valid, Validity::Invalid);
    assert_eq!(unexpected.details["unexpected"], json!([7]));
    let twice = set_full(&[A, A_OK, R, (1, "ok", "read", "[0 0]")]);
    assert_eq!(twice.valid, Validity::Invalid);
    assert_eq!(twice.details["duplicated_count"], 1);
}

#[test]
fn jepsen_set_histories_without_process_time_or_index_and_as_json_import() {
    let bare = "{:type :invoke, :f :add, :value 1}\n{:type :ok, :f :add, :value 1}\n\
                {:type :invoke, :f :read}\n{:type :ok, :f :read, :value #{1}}\n\
                {:process :nemesis, :type :info, :f :start, :value nil}\n";
    let h = jepsen_set_history(bare).unwrap();
    assert_eq!(SetChecker.check(&h).valid, Validity::Valid);
    let json = r#"[{"type":"invoke","f":"add","value":1,"process":0},
                   {"type":"ok","f":"add","value":1,"process":0},
                   {"type":"invoke","f":"read","value":null,"process":1},
                   {"type":"ok","f":"read","value":[],"process":1}]"#;
    let h = jepsen_set_history(json).unwrap();
    assert_eq!(SetChecker.check(&h).valid, Validity::Invalid);
    let err =
        jepsen_set_history("{:type :invoke, :f :add, :value 1}\n{:type :ok, :f :read, :value 3}\n")
            .unwrap_err();
    assert_eq!(err.line, 2, "{err}");
}
