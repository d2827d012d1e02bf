//! `--workers N`: N statement streams side by side on one local MariaDB, each on its own
//! connection in its own database, with its own seed. Worker k's statements in the history
//! are exactly the stream of its seed (`worker_seed(run seed, k)`), in order, and its share
//! of `--statements`; both databases exist on the server with their own tables; the
//! statistics add up; and a --concurrency that disagrees with --workers is refused in one
//! line before anything starts.

use crate::common;
use faultline_harness::run::run_test;
use faultline_harness::store::RunDir;
use faultline_sqlsmith::{Config, Smith};
use faultline_workloads::sqlsmith::workload::{database, worker_seed};
use serde_json::Value;

#[test]
fn a_concurrency_that_disagrees_with_workers_is_refused() {
    let registry = faultline_workloads::builtin();
    let store = std::env::temp_dir().join("fl-never-made");
    let argv = common::argv(
        "sqlsmith",
        &store,
        &["--workers", "2", "--concurrency", "3"],
    );
    let err = registry.plan_run("sqlsmith", argv).err().expect("refused");
    assert!(
        err.0.contains("--concurrency 3") && err.0.contains("leave --concurrency out"),
        "{}",
        err.0
    );
    let argv = common::argv(
        "sqlsmith",
        &store,
        &["--workers", "2", "--reference", "none", "--oracle", "tlp"],
    );
    let plan = registry
        .plan_run("sqlsmith", argv)
        .expect("--workers alone sets the clients");
    assert_eq!(plan.spec.concurrency, 2);
    assert!(!store.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_run_their_own_streams_in_their_own_databases() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let store = std::env::temp_dir().join(format!("fl-sqlsmith-workers-{}", std::process::id()));
    let (seed, statements) = (17u64, 1201usize);
    let argv = common::argv(
        "sqlsmith",
        &store,
        &[
            "--db",
            "local-mariadb",
            "--reference",
            "none",
            "--oracle",
            "tlp,norec",
            "--workers",
            "2",
            "--statements",
            &statements.to_string(),
            "--seed",
            &seed.to_string(),
            "--reduce",
            "0",
        ],
    );
    let registry = faultline_workloads::builtin();
    let plan = registry.plan_run("sqlsmith", argv).unwrap();
    let dir = RunDir::create(&store, "sqlsmith").unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    run_test(plan, &dir, cancel)
        .await
        .expect("the run completes");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.file("results.json")).unwrap()).unwrap();
    let stats = &results["run"]["stats"];
    println!("{stats:#}");

    // Per worker, its invocations in history order: (statement index, SQL).
    let history: faultline_core::History = faultline_core::History::read(&dir.path).unwrap();
    let mut streams: Vec<Vec<(u64, String)>> = vec![Vec::new(), Vec::new()];
    let mut processes = [
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    ];
    for o in history
        .ops
        .iter()
        .filter(|o| o.is_client() && o.is_invoke())
    {
        let w = o.value["w"]
            .as_u64()
            .expect("each statement names its worker") as usize;
        streams[w].push((
            o.value["i"].as_u64().unwrap(),
            o.value["sql"].as_str().unwrap().to_string(),
        ));
        processes[w].insert(o.process);
    }
    let found = results["run"]["findings"].as_array().unwrap().len();
    for (k, stream) in streams.iter().enumerate() {
        let share = statements / 2 + usize::from(k < statements % 2);
        if found == 0 {
            assert_eq!(stream.len(), share, "worker {k}'s share of {statements}");
        }
        assert!(
            stream.len() > 100,
            "worker {k} ran {} statements",
            stream.len()
        );
        // Its own seed's stream (which then follows the outcomes it learns), in order.
        let mut smith = Smith::new(worker_seed(seed, k), Config::default());
        assert_eq!(
            stream[0].1,
            smith.next_stmt().to_string(),
            "worker {k}'s first statement"
        );
        for (n, (i, _)) in stream.iter().enumerate() {
            assert_eq!(*i as usize, n, "worker {k}'s statement indexes");
        }
    }
    assert_eq!(worker_seed(seed, 0), seed, "worker 0 keeps the run's seed");
    assert_ne!(streams[0][0].1, streams[1][0].1, "two different streams");
    assert!(processes[0].is_disjoint(&processes[1]));
    assert_eq!(
        stats["statements"].as_u64().unwrap() as usize,
        streams[0].len() + streams[1].len()
    );
    assert!(stats["statements_per_s"].as_f64().unwrap() > 0.0);
    assert!(stats["oracle_checks_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(
        stats["tlp_checks"].as_u64().unwrap()
            + stats["tlp_agg_checks"].as_u64().unwrap()
            + stats["norec_checks"].as_u64().unwrap()
            + stats["plan_checks"].as_u64().unwrap(),
        (stats["oracle_checks_per_s"].as_f64().unwrap() * stats["elapsed_s"].as_f64().unwrap())
            .round() as u64
    );
    // Each worker's statements ran in its own database: both streams create t0, t1, ...
    // and neither CREATE TABLE met the other's table (error 1050, table exists).
    let creates = |w: usize| {
        history
            .ops
            .iter()
            .filter(|o| o.is_client() && o.is_ok() && processes[w].contains(&o.process))
            .filter(|o| {
                o.value["sql"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("CREATE TABLE t0")
            })
            .count()
    };
    assert!(creates(0) >= 1 && creates(1) >= 1, "both streams create t0");
    let clashes = history
        .ops
        .iter()
        .filter(|o| {
            o.value["sut"]
                .as_str()
                .is_some_and(|s| s.starts_with("error 1050"))
        })
        .count();
    assert_eq!(clashes, 0, "a worker met another's table");
    assert_eq!(database(0), "sqlsmith");
    assert_eq!(database(1), "sqlsmith_w1");
    std::fs::remove_dir_all(&store).ok();
}
