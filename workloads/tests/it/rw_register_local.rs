//! The rw-register workload end to end against real servers the test starts itself: one
//! plain MariaDB at SERIALIZABLE (must be valid), and a three-node Galera cluster with
//! random_kill (must reach a verdict; the anomalies found are printed).

use crate::common;

use faultline_core::Validity;

/// Ok reads of written values exist, and every value read was written to that key.
fn reads_saw_writes(run: &common::Run) {
    let mut written = std::collections::HashSet::new();
    for o in run.client_ops().filter(|o| o.is_invoke()) {
        for m in o.value.as_array().unwrap() {
            if m[0] == "w" {
                written.insert((m[1].as_i64().unwrap(), m[2].as_i64().unwrap()));
            }
        }
    }
    let mut seen = 0;
    for o in run.client_ops().filter(|o| o.is_ok()) {
        for m in o.value.as_array().unwrap() {
            if m[0] == "r" && !m[2].is_null() {
                let kv = (m[1].as_i64().unwrap(), m[2].as_i64().unwrap());
                assert!(written.contains(&kv), "read a value never written: {o:?}");
                seen += 1;
            }
        }
    }
    assert!(seen > 20, "only {seen} reads of written values");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rw_register_on_one_mariadb_at_serializable_is_valid() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let run = common::run(
        "rw-register",
        &[
            "--isolation",
            "serializable",
            "--db",
            "local-mariadb",
            "--time-limit",
            "20",
            "--concurrency",
            "4",
            "--seed",
            "7",
        ],
    )
    .await;
    assert!(run.ok_count("txn") > 100);
    reads_saw_writes(&run);
    assert_eq!(
        run.verdict_of("elle"),
        Validity::Valid,
        "a single MariaDB at SERIALIZABLE showed an anomaly: {}",
        run.results["results"]
    );
    run.common_checks();
    run.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rw_register_on_galera_with_kill_reaches_a_verdict() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let run = common::run(
        "rw-register",
        &[
            "--isolation",
            "serializable",
            "--time-limit",
            "30",
            "--nemesis",
            "random_kill",
            "--nemesis-interval",
            "3",
            "--nemesis-duration",
            "8",
            "--seed",
            "17",
        ],
    )
    .await;
    assert!(run.ok_count("txn") > 50);
    reads_saw_writes(&run);
    run.assert_faults(&["random_kill"]);
    assert_ne!(
        run.verdict_of("elle"),
        Validity::Unknown,
        "nothing was checked"
    );
    run.common_checks();
    run.cleanup();
}
