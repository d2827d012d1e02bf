//! The register workload end to end against real servers the test starts itself: one plain
//! MariaDB (a single server must be linearizable: this checks the client's SQL and its
//! classification of cas), and a three-node Galera cluster with random_kill and
//! partition_one, which must reach a verdict (Galera without causal reads may serve stale
//! reads from another node; whichever verdict, it is printed).

use crate::common;

use faultline_core::Validity;

/// Reads saw written values, and cas both succeeded and failed.
fn ops_did_things(run: &common::Run) {
    let reads = run.ok_count("read");
    let writes = run.ok_count("write");
    let cas_ok = run.ok_count("cas");
    let cas_fail = run
        .client_ops()
        .filter(|o| o.is_fail() && o.f == "cas")
        .count();
    let non_nil = run
        .client_ops()
        .filter(|o| o.is_ok() && o.f == "read" && !o.value["value"].is_null())
        .count();
    eprintln!(
        "ok reads {reads} (non-nil {non_nil}), ok writes {writes}, cas ok {cas_ok} fail {cas_fail}"
    );
    assert!(reads > 20 && writes > 20, "too few ok ops");
    assert!(non_nil > 10, "reads never saw a written value");
    assert!(cas_ok > 5, "no cas ever succeeded");
    assert!(cas_fail > 5, "no cas ever failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_on_one_mariadb_is_linearizable() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let run = common::run(
        "register",
        &[
            "--ops-per-key",
            "100",
            "--db",
            "local-mariadb",
            "--time-limit",
            "15",
            "--concurrency",
            "4",
            "--seed",
            "3",
        ],
    )
    .await;
    ops_did_things(&run);
    // Keys were retired: more keys than live slots were used.
    let keys: std::collections::HashSet<i64> = run
        .client_ops()
        .filter_map(|o| o.value["key"].as_i64())
        .collect();
    assert!(keys.len() > 8, "only {} keys", keys.len());
    assert_eq!(
        run.verdict_of("linearizable"),
        Validity::Valid,
        "one MariaDB server is not linearizable? {}",
        run.results["results"]
    );
    run.common_checks();
    run.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_on_galera_with_kill_and_partition_reaches_a_verdict() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let run = common::run(
        "register",
        &[
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
            "13",
        ],
    )
    .await;
    ops_did_things(&run);
    run.assert_faults(&["random_kill", "partition_one"]);
    assert_ne!(
        run.verdict_of("linearizable"),
        Validity::Unknown,
        "nothing was decided"
    );
    run.common_checks();
    run.cleanup();
}
