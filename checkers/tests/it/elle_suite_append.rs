//! Elle's list-append test suite (jepsen-io/elle test/elle/list_append_test.clj), ported:
//! the same histories, Elle's expected verdicts, anomaly types and `:not` sets. Where we
//! report more than Elle, the test names the extra class and says why Elle misses it.
//! Elle's `:anomalies [:G1]`-style options ask for an anomaly family, not a model; those
//! cases assert what we found within the family (see `common::found_in`).

use crate::common::*;
use faultline_checkers::elle::Workload;
use faultline_core::Validity::{Invalid, Unknown, Valid};

const A: Workload = Workload::Append;

/// Completions only, process 0 (Elle's `op`).
fn oks(txns: &[&str]) -> String {
    txns.iter().map(|t| op(Some(0), "ok", &la(t))).collect()
}

/// Elle's `pair` for each txn, one after the other on `process`.
fn pairs(process: u64, txns: &[&str]) -> String {
    txns.iter().map(|t| pair(process, "ok", &la(t))).collect()
}

#[test]
fn op_language() {
    assert_eq!(la("ax1ay1"), "[[:append :x 1] [:append :y 1]]");
    assert_eq!(la("rx12ry"), "[[:r :x [1 2]] [:r :y nil]]");
    assert_eq!(unread(&la("rx12ax3")), "[[:r :x nil] [:append :x 3]]");
}

// checker-test "G0": x says T1 < T2, y says T2 < T1.
#[test]
fn g0() {
    let h = oks(&["ax1ay1", "ax2ay2", "rx12ry21"]);
    let a = check(A, "read-uncommitted", &h);
    assert_elle(&a, Invalid, &["G0"], &["read-uncommitted"]);
    assert_eq!(found_in(&a, "G0"), ["G0"]);
    assert_eq!(found_in(&a, "G1"), ["G0"], "G0 is a G1c too");
    assert!(found_in(&a, "G2").is_empty(), "G2 does not include G0");
}

// checker-test "G1a": T2 reads T1's failed append; nothing else can be inferred.
#[test]
fn g1a() {
    let h = op(Some(0), "fail", &la("ax1")) + &op(Some(0), "ok", &la("rx1"));
    let ru = check(A, "read-uncommitted", &h);
    assert_elle(
        &ru,
        Unknown,
        &["empty-transaction-graph"],
        &["read-committed"],
    );
    for model in ["read-committed", "repeatable-read"] {
        let a = check(A, model, &h);
        assert_elle(
            &a,
            Invalid,
            &["G1a", "empty-transaction-graph"],
            &["read-committed"],
        );
    }
    assert!(found_in(&ru, "G2").is_empty());
}

// checker-test "G1b": T2 sees T1's intermediate append; also a G-single, since [1]
// observes 1 but not the 2 T1 appended after it.
#[test]
fn g1b() {
    let h = pairs(0, &["ax1ax2", "rx1"]);
    let a = check(A, "strict-serializable", &h);
    assert!(found_in(&a, "G0").is_empty());
    assert_eq!(found_in(&a, "G1"), ["G1b"]);
    assert_eq!(found_in(&a, "G2"), ["G-single-item"]);
    assert_elle(&a, Invalid, &["G-single-item", "G1b"], &["read-committed"]);
}

// checker-test "G1c": T2 appends x after T1, but T1 saw T2's y.
#[test]
fn g1c() {
    let h = oks(&["ax1ry1", "ax2ay1", "rx12ry1"]);
    let a = check(A, "read-committed", &h);
    assert!(found_in(&a, "G0").is_empty());
    assert_eq!(found_in(&a, "G1"), ["G1c"]);
    assert!(found_in(&a, "G2").is_empty());
    assert_elle(&a, Invalid, &["G1c"], &["read-committed"]);
}

// checker-test "G-single": T2 missed T1's y but T1 < T2 on x.
#[test]
fn g_single() {
    let h = oks(&["ax1ay1", "ax2ry", "rx12"]);
    let a = check(A, "snapshot-isolation", &h);
    assert!(found_in(&a, "G0").is_empty() && found_in(&a, "G1").is_empty());
    assert_eq!(found_in(&a, "G-single"), ["G-single-item"]);
    assert_eq!(found_in(&a, "G2"), ["G-single-item"]);
    assert_elle(
        &a,
        Invalid,
        &["G-single-item"],
        &["consistent-view", "repeatable-read"],
    );
}

// checker-test "G2": a pure anti-dependency cycle whose appends no read ever observed.
// This is the unobserved-append rule: each txn read the empty list of the key the other
// appended to, so each append follows that (initial) version and both rw edges exist.
#[test]
fn g2_from_unobserved_appends() {
    let h = oks(&["ax1ry", "ay1rx"]);
    let rc = check(A, "read-committed", &h);
    assert_elle(&rc, Valid, &[], &["repeatable-read"]);
    assert!(found_in(&rc, "G1").is_empty());
    for model in ["serializable", "repeatable-read", "strict-serializable"] {
        let a = check(A, model, &h);
        assert_elle(&a, Invalid, &["G2-item"], &["repeatable-read"]);
        assert_eq!(found_in(&a, "G2"), ["G2-item"]);
    }
}

// repeatable-read-test: the same write skew, written the other way round.
#[test]
fn repeatable_read_write_skew() {
    let h = oks(&["rxay1", "ryax1"]);
    assert_elle(
        &check(A, "read-committed", &h),
        Valid,
        &[],
        &["repeatable-read"],
    );
    let a = check(A, "repeatable-read", &h);
    assert_elle(&a, Invalid, &["G2-item"], &["repeatable-read"]);
    let ex = &a.anomalies["G2-item"][0].explanation;
    assert!(
        ex.iter().filter(|s| s.contains("(rw)")).count() == 2,
        "{ex:?}"
    );
}

/// "Strong SI violation" and "Strong Session SI violation": T2 reads [1], missing T1's
/// append of 2 though T1 finished before T2 began (on another process / the same one).
fn stale_read(t1_process: u64, t2_process: u64) -> String {
    pair(0, "ok", &la("ax1"))
        + &pair(t1_process, "ok", &la("ax2"))
        + &pair(t2_process, "ok", &la("rx1"))
        + &pair(3, "ok", &la("rx12"))
}

#[test]
fn strong_si_violation_is_realtime() {
    let h = stale_read(1, 2);
    assert_elle(
        &check(A, "serializable", &h),
        Valid,
        &[],
        &["strong-snapshot-isolation"],
    );
    let a = check(A, "strict-serializable", &h);
    assert_elle(
        &a,
        Invalid,
        &["G-single-item-realtime"],
        &["strong-snapshot-isolation"],
    );
}

#[test]
fn strong_session_si_violation_is_process() {
    let h = stale_read(1, 1);
    let ser = check(A, "serializable", &h);
    assert_elle(&ser, Valid, &[], &["strong-session-snapshot-isolation"]);
    let a = check(A, "strong-session-snapshot-isolation", &h);
    assert_elle(
        &a,
        Invalid,
        &["G-single-item-process"],
        &["strong-session-snapshot-isolation"],
    );
}

// "G-nonadjacent-process" (elle issue 17): two nonadjacent rw edges and a process edge.
#[test]
fn g_nonadjacent_process() {
    let h = pair(0, "ok", "[[:r :x nil] [:r :z [1]]]")
        + &pair(1, "ok", &la("ax1"))
        + &pair(1, "ok", "[[:r :z nil]]")
        + &pair(2, "ok", &la("az1"));
    let ser = check(A, "serializable", &h);
    assert_eq!(ser.valid, Valid);
    let a = check(A, "strong-session-snapshot-isolation", &h);
    // Elle's :not is strong-session-snapshot-isolation alone: under that model it draws
    // no realtime edges. We always do, and the history shows T0 reading z = [1] from T3,
    // which was invoked (op 6) after T0 completed (op 1): a G1c-realtime too, so we also
    // rule out strong-read-committed. Elle with strict-serializable would see it as well.
    let mut elle = a.clone();
    elle.not.retain(|m| m != "strong-read-committed");
    assert_elle(
        &elle,
        Invalid,
        &["G-nonadjacent-item-process"],
        &["strong-session-snapshot-isolation"],
    );
    assert!(
        a.anomaly_types.contains(&"G1c-realtime".into()),
        "{:?}",
        a.anomaly_types
    );
    assert!(a.not.contains(&"strong-read-committed".into()));
}

// "contradictory read orders": [1 3] and [1 2 3] disagree; the longest read still orders
// x, and with T1 reading T3's y that is a G1c.
#[test]
fn contradictory_read_orders() {
    let h = oks(&["ax1ry1", "ax2", "ax3ay1", "rx13", "rx123"]);
    let a = check(A, "read-committed", &h);
    assert_eq!(found_in(&a, "G1"), ["G1c"]);
    assert_elle(
        &a,
        Invalid,
        &["G1c", "incompatible-order"],
        &["read-committed"],
    );
}

// "dirty update": none, direct, indirect (through an indeterminate append).
#[test]
fn dirty_update() {
    let none = op(Some(0), "fail", &la("ax1"));
    let a = check(A, "read-committed", &none);
    assert_elle(&a, Unknown, &["empty-transaction-graph"], &[]);

    let direct = op(Some(0), "fail", &la("ax1"))
        + &op(Some(1), "ok", &la("ax2"))
        + &op(Some(2), "ok", &la("rx12"));
    let a = check(A, "read-committed", &direct);
    // Elle asked only for dirty-update there; its G1a checker reports the aborted read
    // of 1 as well, which we always do.
    assert_elle(&a, Invalid, &["G1a", "dirty-update"], &["read-committed"]);

    let indirect = op(Some(0), "fail", &la("ax1"))
        + &op(Some(1), "info", &la("ax2"))
        + &op(Some(2), "ok", &la("ax3"))
        + &op(Some(3), "ok", &la("rx123"));
    let a = check(A, "read-committed", &indirect);
    assert_elle(&a, Invalid, &["G1a", "dirty-update"], &["read-committed"]);
    let ex = &a.anomalies["dirty-update"][0].explanation[0];
    assert!(ex.contains("appended 3") && ex.contains("after 1"), "{ex}");
}

// "duplicated elements": [1 2 1]; the distinct elements still order x, so also a G1c.
#[test]
fn duplicated_elements() {
    let h = oks(&["ax1ry1", "ax2ay1", "rx121"]);
    let a = check(A, "read-committed", &h);
    assert_elle(
        &a,
        Invalid,
        &["G1c", "duplicate-elements"],
        &["read-uncommitted"],
    );
}

// "internal consistency violation": T2 appends 3 and reads [1 2 3 4]. Elle: there is a
// G0 too (the read still orders x), so :not is read-uncommitted.
#[test]
fn internal_consistency_violation() {
    let h = oks(&["ax1ax2ax4", "ax3rx1234"]);
    let a = check(A, "read-atomic", &h);
    assert!(a.anomaly_types.contains(&"internal".to_string()));
    assert!(
        a.anomaly_types.contains(&"G0".to_string()),
        "{:?}",
        a.anomaly_types
    );
    assert_eq!(a.not, ["read-uncommitted"]);
}

// internal-cases-test and future-read-test.
#[test]
fn internal_cases() {
    let good = op(
        Some(0),
        "ok",
        "[[:r :y [5 6]] [:append :x 3] [:r :x [1 2 3]] [:append :x 4] [:r :x [1 2 3 4]]]",
    );
    assert!(!check(A, "serializable", &good)
        .anomaly_types
        .contains(&"internal".into()));
    for bad in [
        la("rxrx2"),
        la("rx12ax3rx12"),
        "[[:r :x [1 2]] [:append :x 3] [:r :x [0 2 3]]]".into(),
        la("rx12ax3rx1234"),
        la("rx12ax3rx1"),
        la("ax3rx1234"),
        "[[:append :x 3] [:r :x []]]".into(),
        "[[:append 0 6] [:r 0 nil]]".into(),
    ] {
        let a = check(A, "serializable", &op(Some(0), "ok", &bad));
        assert!(
            a.anomaly_types.contains(&"internal".into()),
            "{bad}: {:?}",
            a.anomaly_types
        );
    }
    for future in [la("rx012ax1"), la("ax1rx01ax0ax3")] {
        let a = check(A, "read-committed", &pair(0, "ok", &future));
        assert!(
            a.anomaly_types.contains(&"future-read".into()),
            "{future}: {:?}",
            a.anomaly_types
        );
        assert!(!a.anomaly_types.contains(&"internal".into()), "{future}");
    }
}

#[test]
fn future_read() {
    let v = "[[:r :x [1]] [:append :x 1]]";
    let h = op(Some(0), "invoke", v) + &op(Some(0), "ok", v);
    let a = check(A, "read-committed", &h);
    assert_elle(
        &a,
        Invalid,
        &["empty-transaction-graph", "future-read"],
        &["read-committed"],
    );
}

// g1a-cases-test / g1b-cases-test.
#[test]
fn g1a_and_g1b_cases() {
    let h = oks(&["rx1ax2", "rx12ry3"]) + &op(Some(0), "fail", &la("ax1"));
    let a = check(A, "read-committed", &h);
    assert_eq!(a.counts["G1a"], 2, "both reads include the failed 1");
    let h = oks(&["rx1", "rx12ry3", "ax1ax2", "rx123"]);
    let a = check(A, "read-committed", &h);
    assert_eq!(
        a.counts["G1b"], 1,
        "only [1] ends at an intermediate append"
    );
    let a = check(A, "read-committed", &oks(&["ax1rx1ax2"]));
    assert!(!a.anomaly_types.contains(&"G1b".into()));
}

// unobserved-write-test: y never shows 1, so the append of y 1 follows the highest
// observed y (2): G0 (x: w1 < w2, y: w2 < w1) and a G-single through ry2.
#[test]
fn unobserved_write() {
    // Elle invokes all five on process 0 before any completes; pairing by process needs
    // one process each for that interleaving to mean "all concurrent".
    let txns = ["ax1ay1", "ax2ay2", "ax3ay3", "rx12", "ry2"];
    let mut h = String::new();
    for (p, t) in txns.iter().enumerate() {
        h += &op(Some(p as u64), "invoke", &unread(&la(t)));
    }
    for (p, t) in txns.iter().enumerate() {
        h += &op(Some(p as u64), "ok", &la(t));
    }
    let a = check(A, "serializable", &h);
    assert_elle(&a, Invalid, &["G-single-item", "G0"], &["read-uncommitted"]);
    let g0 = a.anomalies["G0"][0].explanation.join(" ");
    assert!(g0.contains("appended 1 to key"), "{g0}");
}

// G-nonadjacent-test, first history: rw, wr, rw, wr. Elle reports G-nonadjacent-item
// only. We also report G-single-process: T4 -rw-> T1 -process-> T2 -process-> T3
// -process-> T4 is a genuine cycle (all four run one after another on process 0, and T4
// misses T1's x). Elle's search (realtime edges, for strict-serializable) finds that
// cycle but its pair explainer prefers the data edge between T1 and T2 (wr) over the
// order edge, relabels the cycle G-nonadjacent and drops it for not matching the class
// searched: the misattribution its own g-single-misattribution-test comment describes.
// The :not set is the same.
#[test]
fn g_nonadjacent() {
    let h = pairs(0, &["ax1", "rx1ry", "ay1", "ry1rx"]);
    let a = check(A, "strict-serializable", &h);
    assert_eq!(a.forbidden, ["G-nonadjacent", "G-single-process"]);
    assert_eq!(a.not, ["repeatable-read", "snapshot-isolation"]);
    assert_eq!(a.valid, Invalid);
    // Concurrent, it is exactly Elle's answer.
    let txns = ["ax1", "rx1ry", "ay1", "ry1rx"];
    let mut h = String::new();
    for (p, t) in txns.iter().enumerate() {
        h += &op(Some(p as u64), "invoke", &unread(&la(t)));
    }
    for (p, t) in txns.iter().enumerate() {
        h += &op(Some(p as u64), "ok", &la(t));
    }
    let a = check(A, "strict-serializable", &h);
    assert_elle(
        &a,
        Invalid,
        &["G-nonadjacent-item"],
        &["repeatable-read", "snapshot-isolation"],
    );

    // rw rw wr rw wr: two adjacent rw edges, so not a G-nonadjacent, and SI allows it.
    let h: String = ["rx5ay1", "ryaz2", "rzat3", "rt3au4", "ruax5"]
        .iter()
        .map(|t| pair(0, "ok", &la(t)))
        .collect();
    let a = check(A, "snapshot-isolation", &h);
    assert_eq!(a.valid, Valid, "{:?}", a.forbidden);
}

// lost-update-test: two txns read [0] and append. Elle: G2-item and lost-update. We
// also find G-single-realtime / -process: T2 ran after T1 on process 0 yet missed its
// append (the misattribution above again: Elle explains T1 -> T2 as rw, not realtime).
#[test]
fn lost_update() {
    let h = pairs(0, &["ax0", "rx0ax1", "rx0ax2"]);
    let a = check(A, "strict-serializable", &h);
    for class in ["G2-item", "lost-update", "G-single-process"] {
        assert!(
            a.forbidden.contains(&class.into()),
            "{class}: {:?}",
            a.forbidden
        );
    }
    assert_eq!(a.not, ["cursor-stability", "update-atomic"]);
    // Concurrent, the same pattern is exactly Elle's answer.
    let h = pair(0, "ok", &la("ax0"))
        + &op(Some(1), "invoke", &unread(&la("rx0ax1")))
        + &op(Some(2), "invoke", &unread(&la("rx0ax2")))
        + &op(Some(1), "ok", &la("rx0ax1"))
        + &op(Some(2), "ok", &la("rx0ax2"));
    let a = check(A, "strict-serializable", &h);
    assert_elle(
        &a,
        Invalid,
        &["G2-item", "lost-update"],
        &["cursor-stability", "update-atomic"],
    );
    // One txn appending twice over its read is fine.
    let h = pairs(0, &["rxax1ax2", "rx12"]);
    assert_elle(&check(A, "strict-serializable", &h), Valid, &[], &[]);
}

// wr-process-test (elle issue 21): T0 -wr-> T1 -process-> T2 -wr-> T0.
#[test]
fn wr_process() {
    let h = "{:process 1, :type :invoke, :f :txn, :value [[:r :x] [:append :y 1]], :index 0}
{:process 1, :type :ok, :f :txn, :value [[:r :x [1]] [:append :y 1]], :index 1}
{:process 2, :type :invoke, :f :txn, :value [[:r :y]], :index 2}
{:process 2, :type :ok, :f :txn, :value [[:r :y [1]]], :index 3}
{:process 2, :type :invoke, :f :txn, :value [[:append :x 1]], :index 4}
{:process 2, :type :ok, :f :txn, :value [[:append :x 1]], :index 5}";
    let a = check(A, "strong-session-snapshot-isolation", h);
    assert_elle(
        &a,
        Invalid,
        &["G1c-process"],
        &["strong-session-read-committed"],
    );
}

// rr-g-single-item-test and rr-g-nonadjacent-item-test: repeatable read forbids the item
// forms of G-single and G-nonadjacent.
#[test]
fn repeatable_read_item_cycles() {
    let h = pair(0, "ok", &la("ax1ay1")) + &pair(1, "ok", &la("rx1ry"));
    let a = check(A, "repeatable-read", &h);
    assert_elle(
        &a,
        Invalid,
        &["G-single-item"],
        &["consistent-view", "repeatable-read"],
    );
    let h: String = ["ax1at1", "rx1ry", "ay1az2", "rz2rt"]
        .iter()
        .enumerate()
        .map(|(p, t)| op(Some(p as u64), "invoke", &unread(&la(t))))
        .chain(
            ["ax1at1", "rx1ry", "ay1az2", "rz2rt"]
                .iter()
                .enumerate()
                .map(|(p, t)| op(Some(p as u64), "ok", &la(t))),
        )
        .collect();
    let a = check(A, "repeatable-read", &h);
    assert_elle(
        &a,
        Invalid,
        &["G-nonadjacent-item"],
        &["repeatable-read", "snapshot-isolation"],
    );
}

/// unfindable-g-single: one G-single ring of `n` txns awash in G2-item noise, built to
/// make the G-single search time out; Elle then proves a PL-SI cycle exists.
fn unfindable_g_single(n: usize, noise: usize) -> String {
    let mut h = String::new();
    for i in 0..n {
        let second = match i {
            0 => "[:append :anti :first]".to_string(),
            _ if i == n - 1 => "[:r :anti nil]".to_string(),
            _ => format!("[:append {i} 0]"),
        };
        h += &pair(0, "ok", &format!("[[:append :ring {i}] {second}]"));
    }
    let all: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    h += &pair(1, "ok", &format!("[[:r :ring [{}]]]", all.join(" ")));
    for i in 1..n - 1 {
        for j in 1..noise {
            let v = if j == noise - 2 {
                let prefix: Vec<String> = (0..noise - 2).map(|x| x.to_string()).collect();
                format!("[[:r {i} [{}]] [:r [:anti {i}] nil]]", prefix.join(" "))
            } else if j == noise - 1 {
                format!("[[:append [:anti {i}] 0] [:r :ring nil]]")
            } else {
                format!("[[:append {i} {j}]]")
            };
            h += &pair(2, "ok", &v);
        }
    }
    h
}

#[test]
fn unfindable_g_single_is_still_invalid() {
    let h = unfindable_g_single(1000, 30);
    // Elle: {:valid? false, :anomaly-types [:PL-SI-cycle-exists :cycle-search-timeout],
    // :not #{:snapshot-isolation :repeatable-read}}. Its comment: "if Elle gets faster, it
    // may start failing". Ours finds the G-single itself, which is the better answer.
    let opts = faultline_checkers::elle::Options {
        search_budget: std::time::Duration::from_secs(1),
        ..Default::default()
    };
    let a = check_with(A, "snapshot-isolation", &h, opts);
    assert_eq!(a.valid, Invalid);
    assert_eq!(a.not, ["repeatable-read", "snapshot-isolation"]);
    assert!(
        a.forbidden == ["G-single"] || a.forbidden == ["PL-SI-cycle-exists"],
        "{:?}",
        a.forbidden
    );
    // With no search budget at all, the verdict rests on the existence proof alone:
    // Elle's answer exactly.
    let opts = faultline_checkers::elle::Options {
        search_budget: std::time::Duration::ZERO,
        ..Default::default()
    };
    let z = check_with(A, "snapshot-isolation", &h, opts);
    assert_elle(
        &z,
        Invalid,
        &["PL-SI-cycle-exists", "cycle-search-timeout"],
        &["repeatable-read", "snapshot-isolation"],
    );
}

// Ours, not Elle's: an indeterminate txn orders nothing after it on its process. T1
// timed out (info) appending x 1; its process went on with T2, which read x = []. If T1
// was still in flight it may commit after T2, so T2 missing it is no anomaly: T2 -rw->
// T1 holds (the unobserved append follows the empty list) but T1 -process-> T2 does not.
#[test]
fn an_info_txn_orders_nothing_after_it_on_its_process() {
    let h = op(Some(0), "invoke", &la("ax1"))
        + &op(Some(0), "info", &la("ax1"))
        + &op(Some(0), "invoke", &la("rx"))
        + &op(Some(0), "ok", "[[:r :x []]]")
        + &pair(1, "ok", &la("ay1"))
        + &pair(2, "ok", &la("ry1"));
    let a = check(A, "strong-session-serializable", &h);
    assert_ne!(a.valid, Invalid, "{:?}", a.anomaly_types);
    assert!(a.anomaly_types.iter().all(|t| !t.ends_with("-process")));
    // The same with T1 ok is a stale read on one process: G-single-process.
    let h = h.replacen(":type :info", ":type :ok", 1);
    let a = check(A, "strong-session-serializable", &h);
    assert_eq!(a.valid, Invalid);
    assert!(
        a.forbidden.contains(&"G-single-process".into()),
        "{:?}",
        a.forbidden
    );
}

/// The data edges between txns (positions in completion order), kinds merged per pair:
/// Elle's graph-test compares adjacency sets the same way.
fn graph(txns: &[&str]) -> std::collections::BTreeSet<(usize, usize)> {
    let h = faultline_checkers::elle::import::jepsen_edn(&oks(txns), A).unwrap();
    let c = faultline_checkers::elle::ElleChecker::new(A, "serializable").unwrap();
    c.edges(&faultline_checkers::elle::Txns::from_history(&h))
        .into_iter()
        .filter(|e| matches!(e.2, "ww" | "wr" | "rw"))
        .map(|(a, b, _)| (a, b))
        .collect()
}

// graph-test, ww-graph-test, wr-graph-test: Elle's expected adjacency, txn for txn.
#[test]
fn graph_test() {
    let set = |es: &[(usize, usize)]| {
        es.iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(graph(&[]), set(&[]));
    assert_eq!(graph(&["ax1"]), set(&[]), "one append");
    assert_eq!(graph(&["rx"]), set(&[]), "empty read");
    assert_eq!(
        graph(&["ax1", "rx1"]),
        set(&[(0, 1)]),
        "one append one read"
    );
    // rx -rw-> ax1 -wr-> rx1: anti-dependency.
    assert_eq!(graph(&["rx", "ax1", "rx1"]), set(&[(0, 1), (1, 2)]));
    // ax1 -ww-> ax2 -wr-> rx12, no ax1 -> rx12.
    assert_eq!(graph(&["ax2", "ax1", "rx12"]), set(&[(1, 0), (0, 2)]));
    // Adya, Liskov and O'Neil's figure 3.
    assert_eq!(
        graph(&["az1ax1ay1", "rx1ay2", "ry12az3", "rz13"]),
        set(&[(0, 1), (0, 2), (1, 2), (2, 3)])
    );
    // G0: both directions, and both to the reader.
    assert_eq!(
        graph(&["ax1ay1", "ax2ay2", "rx12ry21"]),
        set(&[(0, 1), (1, 0), (0, 2), (1, 2)])
    );
    // G1c: t1 -ww-> t2, t2 -wr-> t1 and t3.
    assert_eq!(
        graph(&["ax1ry1", "ax2ay1", "rx12"]),
        set(&[(0, 1), (1, 2), (1, 0)])
    );
    // G2: two reads of the initial states, each before the other's append.
    assert_eq!(
        graph(&["rxay1", "ryax1", "rx1ry1"]),
        set(&[(0, 1), (0, 2), (1, 0), (1, 2)])
    );
    // "single appends without reads" and "multiple appends without reads": an append
    // no read shows still follows the empty list, so every empty read precedes it.
    assert_eq!(graph(&["rx", "ax1"]), set(&[(0, 1)]));
    assert_eq!(graph(&["rx", "ax1", "ax2"]), set(&[(0, 1), (0, 2)]));
    // ww-graph-test: ax1 -ww-> ax2 (with the reader as well: Elle's ww graph alone has
    // no wr edge).
    assert_eq!(graph(&["ax1", "ax2", "rx12"]), set(&[(0, 1), (1, 2)]));
    // wr-graph-test "basic read".
    let g = graph(&["ax1", "rx1", "ax2", "rx12"]);
    assert!(g.contains(&(0, 1)) && g.contains(&(2, 3)), "{g:?}");
}

// graph-test "info reads": T1 crashed; its nil read of y proves nothing, but its append
// of 2 after T2's 1 does.
#[test]
fn info_reads() {
    let h = op(Some(0), "info", "[[:append :x 2] [:r :y nil]]")
        + &op(Some(1), "ok", &la("ax1ay1"))
        + &op(Some(2), "ok", &la("rx12ry1"));
    let h = faultline_checkers::elle::import::jepsen_edn(&h, A).unwrap();
    let c = faultline_checkers::elle::ElleChecker::new(A, "serializable").unwrap();
    let txns = faultline_checkers::elle::Txns::from_history(&h);
    let pos = |mop: &str| {
        txns.txns
            .iter()
            .position(|t| format!("{:?}", t.mops()).contains(mop))
            .unwrap()
    };
    let (t1, t2, t3) = (
        pos("value: 2 }"),
        pos("Append { key: -9223372036854775807, value: 1 }"),
        pos("List"),
    );
    let data: std::collections::BTreeSet<(usize, usize)> = c
        .edges(&txns)
        .into_iter()
        .filter(|e| matches!(e.2, "ww" | "wr" | "rw"))
        .map(|(a, b, _)| (a, b))
        .collect();
    // Elle: {t1 #{t3}, t2 #{t3 t1}}.
    let want: std::collections::BTreeSet<(usize, usize)> =
        [(t1, t3), (t2, t3), (t2, t1)].into_iter().collect();
    assert_eq!(data, want);
}
