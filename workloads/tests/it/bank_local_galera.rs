//! The bank workload end to end on a real three-node Galera cluster the test starts itself,
//! with random_kill and partition_one: ok ops, nemesis ops and results.json come out, a
//! verdict is reached, `analyze` reproduces it from the history alone, and nothing of ours is
//! left running or configured afterwards.

use crate::common;
use faultline_core::{History, Validity};
use faultline_harness::analyze::check_run_dir;
use faultline_harness::run::run_test;
use faultline_harness::store::RunDir;
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_with_kill_and_partition_reaches_a_verdict_and_leaves_nothing() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let store = std::env::temp_dir().join(format!("fl-bank-it-{}", std::process::id()));
    let argv = common::argv(
        "bank",
        &store,
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
            "11",
            "--concurrency",
            "2n",
        ],
    );
    let registry = faultline_workloads::builtin();
    let plan = registry.plan_run("bank", argv).unwrap();
    let dir = RunDir::create(&store, "bank").unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let outcome = run_test(plan, &dir, cancel)
        .await
        .expect("the run completes");

    // The history holds client ops that succeeded and both faults, started and stopped.
    let history: History = History::read(&dir.path).unwrap();
    let ok = history
        .ops
        .iter()
        .filter(|o| o.is_client() && o.is_ok())
        .count();
    assert!(ok > 50, "only {ok} ok ops");
    for fault in ["random_kill", "partition_one"] {
        for f in ["start", "stop"] {
            assert!(
                history.ops.iter().any(|o| o.process.is_nemesis()
                    && o.f == f
                    && o.value["fault"] == fault
                    && o.error.is_none()),
                "no successful {f} of {fault}"
            );
        }
    }
    assert!(history
        .ops
        .iter()
        .any(|o| o.process.is_nemesis() && o.f == "heal"));
    // Every process is single-threaded: no process has two open invocations.
    let mut open = std::collections::HashSet::new();
    for o in history.ops.iter().filter(|o| o.is_client()) {
        if o.is_invoke() {
            assert!(
                open.insert(o.process),
                "process {} invoked twice",
                o.process
            );
        } else {
            assert!(open.remove(&o.process));
        }
    }

    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.file("results.json")).unwrap()).unwrap();
    assert_eq!(
        results["valid"],
        serde_json::to_value(outcome.checked.verdict).unwrap()
    );
    assert_ne!(
        outcome.checked.verdict,
        Validity::Unknown,
        "final reads must give the checker something to check"
    );
    // The report in a real browser: no console error, the plots, the node lanes and the
    // node-log section drawn, and for an invalid run the anomaly's timeline; the screenshot
    // stays in the run's store (kept with FAULTLINE_KEEP_STORE=1).
    let shot = dir.file("report.png");
    let seen = common::browser::open(
        &dir.file("report.html"),
        common::browser::REPORT_PROBE,
        &shot,
    );
    println!("report in chromium: {} ({})", seen.probe, shot.display());
    assert!(
        seen.errors.is_empty(),
        "the report raised: {:?}",
        seen.errors
    );
    for section in ["latency", "throughput", "lanes"] {
        assert!(
            seen.probe[section].as_u64().unwrap() >= 1,
            "no {section} plot: {}",
            seen.probe
        );
    }
    assert_eq!(seen.probe["node_logs"], true);
    assert!(
        seen.probe["verdict"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains(results["valid"].as_str().unwrap()),
        "{}",
        seen.probe
    );
    if outcome.checked.verdict == Validity::Invalid {
        assert!(
            seen.probe["timelines"].as_u64().unwrap() >= 1,
            "no anomaly timeline: {}",
            seen.probe
        );
    }
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    assert!(dir.path.join("nodes/n1/error.log").exists());
    // Each node's error.log was scanned with MariaDB's patterns; kill -9 leaves no crash
    // line of mariadbd's own, so any crash found would be a finding no fault explains.
    let logs = &results["node_logs"];
    for n in ["n1", "n2", "n3"] {
        let files = logs["nodes"][n]["files"]
            .as_array()
            .expect("n's logs were scanned");
        assert!(files.contains(&serde_json::json!("error.log")), "{logs:#}");
    }
    assert_eq!(
        logs["unexplained_crashes"],
        serde_json::json!([]),
        "{logs:#}"
    );

    // analyze reaches the same verdict from the history alone.
    let test: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.file("test.json")).unwrap()).unwrap();
    let again = check_run_dir(
        &dir.path,
        &registry.checkers_for(&test).unwrap(),
        serde_json::Value::Null,
    )
    .unwrap();
    assert_eq!(again.verdict, outcome.checked.verdict);

    // Nothing of ours is left: no namespace, link, temp dir or process.
    let prefix = test["db"]["lab_prefix"].as_str().unwrap();
    let temp = PathBuf::from(test["db"]["temp_dir"].as_str().unwrap());
    let left = faultline_cluster::leftovers::leftovers(prefix, &temp);
    assert!(left.is_empty(), "left behind: {left:?}");
    if std::env::var_os("FAULTLINE_KEEP_STORE").is_none() {
        std::fs::remove_dir_all(&store).ok();
    }
}
