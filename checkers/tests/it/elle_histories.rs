//! Elle's own history files (tests/fixtures/elle, from jepsen-io/elle's histories/),
//! checked against the expectations of Elle's test suite.

use crate::common::*;
use faultline_checkers::elle::{Options, Workload};
use faultline_core::Validity::{Invalid, Valid};
use std::time::Duration;

const A: Workload = Workload::Append;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/elle/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn budget(d: Duration) -> Options {
    Options {
        search_budget: d,
        ..Options::default()
    }
}

// huge-scc-test: Elle expects invalid, :not #{:strong-snapshot-isolation}, and anomaly
// types [:G2-item-realtime :cycle-search-timeout :strong-snapshot-isolation-cycle-exists]
// ("this might change if we get faster"). Whatever the search finds in its budget, the
// verdict and :not must be these; with no budget at all the existence proof alone must
// carry them.
#[test]
fn huge_scc() {
    let h = fixture("huge-scc.edn");
    let a = check_with(A, "strict-serializable", &h, budget(Duration::from_secs(1)));
    assert_eq!(a.valid, Invalid);
    assert_eq!(a.not, ["strong-snapshot-isolation"]);
    assert!(
        a.forbidden
            .iter()
            .any(|c| c.ends_with("-realtime") || c == "strong-snapshot-isolation-cycle-exists"),
        "{:?}",
        a.forbidden
    );
    if !a.incomplete.is_empty() {
        assert!(a.anomaly_types.contains(&"cycle-search-timeout".into()));
    }
    let z = check_with(A, "strict-serializable", &h, budget(Duration::ZERO));
    assert_elle(
        &z,
        Invalid,
        &[
            "cycle-search-timeout",
            "strong-snapshot-isolation-cycle-exists",
        ],
        &["strong-snapshot-isolation"],
    );
    let proof = &z.anomalies["strong-snapshot-isolation-cycle-exists"][0];
    assert!(proof.explanation[0].contains("strongly connected"));
    assert!(!proof.txns.is_empty());
}

// intermediate-sequential-extension-test: Elle, with snapshot-isolation and
// repeatable-read, finds [:G2-item] and :not #{:repeatable-read}: no G-single, which an
// old bug claimed. Same here. We also find a G-single-realtime: the file runs T1..T4 one
// after another, and T4 reads key 9 = [2], missing the 5 T3 appended before T4 began.
// Elle draws no realtime edges for these two models; strict-serializable would.
#[test]
fn si_without_g_single() {
    let h = fixture("si-without-g-single.edn");
    let rr = check(A, "repeatable-read", &h);
    assert_eq!(elle_types(&rr), ["G2-item"]);
    assert_eq!(rr.valid, Invalid);
    let si = check(A, "snapshot-isolation", &h);
    assert_eq!(si.valid, Valid, "{:?}", si.forbidden);
    assert!(!si.anomaly_types.contains(&"G-single".into()));
    assert_eq!(si.anomaly_types, ["G-single-realtime", "G2-item"]);
    assert_eq!(si.not, ["repeatable-read", "strong-snapshot-isolation"]);
}

// The Elle paper's example (no Elle test asserts on it): ops without :process, so one
// nil process. The G-single: T7 read 255 = [2 3 4 5] without the 8 T3 appended (rw);
// T5 read it (wr); and T7's append of 3 to 256, which no read shows, follows the highest
// observed element 4 of T5 (ww, the unobserved-append rule). Without that rule the
// cycle has no T5 -> T7 edge and goes unseen.
#[test]
fn paper_example() {
    let h = fixture("paper-example.edn");
    let a = check(A, "strict-serializable", &h);
    assert_eq!(a.valid, Invalid);
    assert_eq!(a.anomaly_types, ["G-single"]);
    assert_eq!(a.not, ["consistent-view", "repeatable-read"]);
    let ex = a.anomalies["G-single"][0].explanation.join(" ");
    assert!(
        ex.contains("appended 3 to key 256") && ex.contains("(ww)"),
        "{ex}"
    );
}
