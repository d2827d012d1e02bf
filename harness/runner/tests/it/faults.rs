//! The fault plumbing on the atom system: the run's schedule drives kills, pauses and
//! partitions through the nemesis executor and the system's capabilities, records them,
//! heals them at the end; the checker sees an anomaly a fault exposes and none otherwise.

use crate::common::{self, run};
use faultline_harness::testkit::AtomDb;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_pauses_and_partitions_are_scheduled_recorded_and_healed() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    let r = run(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "12",
            "--concurrency",
            "6",
            "--op-timeout",
            "1",
            "--nemesis",
            "random_kill,pause_one,partition_one",
            "--nemesis-mode",
            "round-robin",
            "--nemesis-interval",
            "1",
            "--nemesis-duration",
            "2",
            "--seed",
            "21",
        ],
    )
    .await;
    r.assert_well_formed();
    for fault in ["random_kill", "pause_one", "partition_one"] {
        for f in ["start", "stop"] {
            assert!(
                r.nemesis_ops().any(|o| o.f == f
                    && !o.is_invoke()
                    && o.value["fault"] == fault
                    && o.error.is_none()),
                "no {f} of {fault} in the history"
            );
        }
    }
    let c = db.counts();
    assert!(c.kills >= 1 && c.pauses >= 1 && c.partitions >= 1, "{c:?}");
    // The final heal is in the history, and nothing is left faulty.
    assert!(r
        .nemesis_ops()
        .any(|o| o.f == "heal" && o.value["fault"] == "all"));
    assert!(c.heals >= 1);
    assert!(db.faulty().is_empty(), "left faulty: {:?}", db.faulty());
    // Killed and cut-off nodes refused ops: fail, with the reason.
    assert!(r.client_ops().any(|o| o.is_fail()
        && o.error
            .as_deref()
            .unwrap_or("")
            .contains("the node is down")));
    assert!(r
        .client_ops()
        .any(|o| o.is_fail() && o.error.as_deref().unwrap_or("").contains("cut off")));
    // Fault windows reach results.json, and the recovery checker measured them.
    assert!(
        r.results["faults"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{}",
        r.results["faults"]
    );
    assert_ne!(r.verdict_of("recovery"), "unknown");
    assert_eq!(r.verdict_of("linearizable"), "valid", "{}", r.results);
    r.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_reads_behind_a_partition_are_found() {
    // The planted bug: a node cut off from the majority serves reads from its old copy.
    let db = Arc::new(AtomDb::new(3).stale_reads());
    let registry = common::registry(&db);
    let r = run(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "6",
            "--concurrency",
            "6",
            "--keys",
            "1",
            "--nemesis",
            "partition_one",
            "--nemesis-interval",
            "1",
            "--nemesis-duration",
            "2",
            "--seed",
            "3",
        ],
    )
    .await;
    r.assert_well_formed();
    assert_eq!(r.verdict_of("linearizable"), "invalid", "{}", r.results);
    assert_eq!(r.outcome.checked.verdict, faultline_core::Validity::Invalid);
    r.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_system_without_the_partition_is_valid() {
    let db = Arc::new(AtomDb::new(3).stale_reads());
    let registry = common::registry(&db);
    let r = run(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "3",
            "--concurrency",
            "6",
            "--keys",
            "1",
            "--seed",
            "3",
        ],
    )
    .await;
    assert_eq!(r.verdict_of("linearizable"), "valid", "{}", r.results);
    r.cleanup();
}

#[test]
fn a_fault_the_system_cannot_do_is_refused_in_one_line() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    let store = common::store("refused");
    let plan = registry
        .plan_run(
            "atom-register",
            common::argv("atom-register", &store, &["--nemesis", "small_skews"]),
        )
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = faultline_harness::RunDir::create(&store, "atom-register").unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let err = rt
        .block_on(faultline_harness::run_test(plan, &dir, cancel))
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("small_skews") && err.contains("atom") && !err.contains('\n'),
        "{err}"
    );
    // Refused before any op: nothing ran, and the system was torn down all the same.
    assert_eq!(db.counts().teardowns, 1);
    std::fs::remove_dir_all(&store).ok();
}
