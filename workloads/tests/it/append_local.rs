//! The append workload end to end against real servers the test starts itself: one plain
//! MariaDB at SERIALIZABLE (must be valid: a single InnoDB server at SERIALIZABLE is
//! serializable), and a three-node Galera cluster with random_kill and partition_one (must
//! reach a verdict; which one is the database's business, the anomalies are printed).

use crate::common;

use faultline_core::Validity;
use std::collections::{HashMap, HashSet};

/// Ok reads return lists of values that were appended to that key, some of them non-empty;
/// returns how many non-empty reads there were.
fn reads_hold_appended_values(run: &common::Run) -> usize {
    let mut appended: HashMap<i64, HashSet<i64>> = HashMap::new();
    for o in run.client_ops().filter(|o| o.is_invoke()) {
        for m in o.value.as_array().unwrap() {
            if m[0] == "append" {
                appended
                    .entry(m[1].as_i64().unwrap())
                    .or_default()
                    .insert(m[2].as_i64().unwrap());
            }
        }
    }
    let mut non_empty = 0;
    for o in run.client_ops().filter(|o| o.is_ok()) {
        for m in o.value.as_array().unwrap() {
            if m[0] != "r" {
                continue;
            }
            let k = m[1].as_i64().unwrap();
            let list = m[2].as_array().expect("an ok read is a list");
            non_empty += usize::from(!list.is_empty());
            for v in list {
                let v = v.as_i64().unwrap();
                assert!(
                    appended.get(&k).is_some_and(|s| s.contains(&v)),
                    "read {v} from key {k}, never appended: {o:?}"
                );
            }
        }
    }
    non_empty
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_on_one_mariadb_at_serializable_is_valid() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let run = common::run(
        "append",
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
            "5",
        ],
    )
    .await;
    let ok = run.ok_count("txn");
    assert!(ok > 100, "only {ok} ok transactions");
    assert!(
        reads_hold_appended_values(&run) > 20,
        "too few non-empty reads"
    );
    // Final reads: every key used has been read after the main phase.
    assert!(run
        .client_ops()
        .any(|o| o.is_ok() && o.value.as_array().unwrap().len() > 4));
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
async fn append_on_galera_with_kill_and_partition_reaches_a_verdict() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let run = common::run(
        "append",
        &[
            "--isolation",
            "serializable",
            "--time-limit",
            "40",
            "--nemesis",
            "random_kill,partition_one",
            "--nemesis-mode",
            "round-robin",
            "--nemesis-interval",
            "3",
            "--nemesis-duration",
            "8",
            "--seed",
            "12",
        ],
    )
    .await;
    let ok = run.ok_count("txn");
    assert!(ok > 50, "only {ok} ok transactions");
    assert!(
        reads_hold_appended_values(&run) > 10,
        "too few non-empty reads"
    );
    run.assert_faults(&["random_kill", "partition_one"]);
    assert_ne!(
        run.verdict_of("elle"),
        Validity::Unknown,
        "nothing was checked"
    );
    run.common_checks();
    run.cleanup();
}
