//! Faults on the very node the sqlsmith client talks to must not produce false divergences.
//!
//! The system under test is a one-node local Galera cluster (`--db local-galera --nodes 1`):
//! the client always uses the first node's endpoint, and with one node `random_kill` always
//! kills exactly that node (kill -9, then the cluster is recovered and started again). The
//! reference is a standalone local-mariadb. 3,000 statements: at a few hundred statements
//! a second the run lasts long enough for several kills (one a second, each lasting one). Statements in flight when the node dies, COMMITs
//! whose answer never came and statements sent while it is down have unknown outcomes; the
//! rule in `bookkeeping` retires the tables they touched. The run must end with no false
//! divergence (every finding, if any, reproduces on a fresh server without faults: MariaDB's
//! own bug), with at least one unknown outcome (so the rule was exercised; the count is
//! `run.stats.unknown` and the sqlsmith checker's `unknown_outcomes` in results.json), and leave no process, namespace or temp dir of either
//! lab behind.

use crate::common;
use faultline_core::Validity;
use faultline_harness::analyze::check_run_dir;
use faultline_harness::run::run_test;
use faultline_harness::store::RunDir;
use serde_json::Value;
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_client_node_gives_no_false_divergence() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let store = std::env::temp_dir().join(format!("fl-sqlsmith-faults-{}", std::process::id()));
    let argv = common::argv(
        "sqlsmith",
        &store,
        &[
            "--db",
            "local-galera",
            "--nodes",
            "1",
            "--reference",
            "local-mariadb",
            "--oracle",
            "diff,tlp,norec",
            "--statements",
            "3000",
            "--seed",
            "5",
            "--nemesis",
            "random_kill",
            "--nemesis-interval",
            "1",
            "--nemesis-duration",
            "1",
            "--snapshot-every",
            "50",
            "--stmt-timeout",
            "5",
            "--reduce",
            "1",
        ],
    );
    let registry = faultline_workloads::builtin();
    let plan = registry.plan_run("sqlsmith", argv).unwrap();
    let dir = RunDir::create(&store, "sqlsmith").unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let outcome = run_test(plan, &dir, cancel)
        .await
        .expect("the run completes");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.file(f)).unwrap()).unwrap()
    };
    let (test, results) = (read("test.json"), read("results.json"));
    let s = &results["run"]["stats"];
    let findings = &results["run"]["findings"];
    println!(
        "{} statements, {} unknown, {} compared, {} snapshots, retired {}, findings {findings:#}",
        s["statements"], s["unknown"], s["compared"], s["snapshots"], s["retired"]
    );
    println!("run folder: {}", dir.path.display());

    // The same store layout as every workload.
    for f in [
        "test.json",
        "history.jsonl",
        "results.json",
        "report.html",
        "junit.xml",
    ] {
        assert!(dir.file(f).exists(), "no {f}");
    }
    assert!(dir.path.join("nodes/n1/error.log").exists());

    // The faults really happened, on the client's node, through the run's schedule.
    let history = std::fs::read_to_string(dir.file("history.jsonl")).unwrap();
    let kills = history
        .lines()
        .filter(|l| l.contains("\"random_kill\"") && l.contains("\"start\""))
        .count();
    println!("{kills} kill(s) of the client's node");
    assert!(kills >= 1, "no kill was started and recorded");
    // A finding is a false divergence unless it is MariaDB's own bug: a metamorphic
    // finding whose reproducer, replayed on a fresh server that no fault touches, still
    // fails its oracle (this seed's generator can reach MariaDB's known
    // `(SELECT MIN(..)) IN (SELECT <outer column> ..)` bug: which statements it emits depends on
    // which tables the kills retired). A divergence that did not replay because the servers
    // planned it differently in the run is reduced as the plan-dependent wrong result behind
    // it (a plan-oracle finding: MariaDB's own bug again, e.g. its DOUBLE-key BETWEEN bug).
    // A diff finding, or one that does not reproduce, fails.
    let findings = findings.as_array().expect("run.findings");
    if !findings.is_empty() {
        let healthy = crate::sqlsmith_common::mariadb(&[]).await;
        for f in findings {
            let oracle = f["oracle"].as_str().unwrap_or_default();
            let path = f["reproducer"].as_str().unwrap_or_default();
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let replayed =
                crate::sqlsmith_common::replay_oracle_finding(&healthy, oracle, &text).await;
            match replayed {
                Err(why) => println!(
                    "genuine MariaDB bug, reproduced on a fault-free server ({oracle}: {why}): {}",
                    f["reduced_query"]
                ),
                Ok(()) => panic!("false divergence (does not reproduce without faults): {f:#}"),
            }
        }
        drop(healthy);
    }
    let expected = if findings.is_empty() {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    assert_eq!(outcome.checked.verdict, expected);
    assert_eq!(
        results["valid"],
        serde_json::to_value(expected).unwrap(),
        "results.json"
    );
    let unknown = s["unknown"].as_u64().expect("run.stats.unknown");
    assert!(unknown > 0, "no statement had an unknown outcome");
    let checker = &results["results"][0];
    assert_eq!(checker["checker"], "sqlsmith");
    assert_eq!(
        checker["details"]["unknown_outcomes"].as_u64(),
        Some(unknown)
    );
    assert!(
        s["compared"].as_u64().unwrap() > 50,
        "too little was compared: {}",
        s["compared"]
    );
    // Every run gets the recovery checker, and analyze reaches the same verdict.
    let recovery = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["checker"] == "recovery")
        .expect("a recovery result");
    assert!(recovery["details"].is_object(), "{recovery}");
    let again = check_run_dir(
        &dir.path,
        &registry.checkers_for(&test).unwrap(),
        Value::Null,
    )
    .unwrap();
    assert_eq!(again.verdict, outcome.checked.verdict, "analyze disagrees");

    // Nothing of either lab is left behind.
    for facts in [&test["db"], &results["run"]["reference"]] {
        let prefix = facts["lab_prefix"].as_str().unwrap();
        let temp = PathBuf::from(facts["temp_dir"].as_str().unwrap());
        let left = faultline_cluster::leftovers::leftovers(prefix, &temp);
        assert!(left.is_empty(), "left behind by {prefix}: {left:?}");
    }
    std::fs::remove_dir_all(&store).ok();
}
