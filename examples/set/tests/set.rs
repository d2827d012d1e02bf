//! The set workload end to end on a real three-node Galera cluster the test starts, with
//! nodes killed and partitioned: every acknowledged add must be in the final read. Built
//! exactly as a user's crate would be: `faultline` is the only dependency.

use faultline::harness::run::run_test;
use faultline::harness::store::RunDir;
use faultline::prelude::*;
use faultline_example_set::Set;

#[faultline::tokio::test(
    flavor = "multi_thread",
    worker_threads = 2,
    crate = "faultline::tokio"
)]
async fn acknowledged_adds_survive_kills_and_partitions_on_galera() {
    let store = std::env::temp_dir().join(format!("fl-set-{}", std::process::id()));
    let registry = faultline::builtin().workload(Set);
    let argv: Vec<std::ffi::OsString> = [
        "set",
        "--time-limit",
        "25",
        "--nemesis",
        "random_kill,partition_one",
        "--nemesis-mode",
        "round-robin",
        "--nemesis-interval",
        "3",
        "--nemesis-duration",
        "6",
        "--seed",
        "8",
        "--store",
    ]
    .iter()
    .map(Into::into)
    .chain([store.clone().into()])
    .collect();
    let plan = registry.plan_run("set", argv).expect("valid arguments");
    let dir = RunDir::create(&store, "set").unwrap();
    let (_tx, cancel) = faultline::tokio::sync::watch::channel(false);
    let outcome = run_test(plan, &dir, cancel)
        .await
        .expect("the run completes");
    let history: History = History::read(&dir.path).unwrap();
    let results: Value = faultline::serde_json::from_str(
        &std::fs::read_to_string(dir.file("results.json")).unwrap(),
    )
    .unwrap();
    let set = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["checker"] == "set")
        .expect("a set result")
        .clone();
    println!("{set:#}");
    let ok_adds = history
        .ops
        .iter()
        .filter(|o| o.is_client() && o.f == "add" && o.is_ok())
        .count();
    assert!(ok_adds > 200, "only {ok_adds} acknowledged adds");
    for fault in ["random_kill", "partition_one"] {
        assert!(
            history.ops.iter().any(|o| o.process.is_nemesis()
                && o.f == "start"
                && !o.is_invoke()
                && o.value["fault"] == fault),
            "no {fault}"
        );
    }
    assert_eq!(
        set["details"]["read_count"].as_u64().map(|n| n > 0),
        Some(true),
        "{set}"
    );
    assert_eq!(
        set["valid"], "valid",
        "Galera lost acknowledged adds? {set}"
    );
    assert_eq!(outcome.checked.verdict, Validity::Valid, "{results}");
    // `faultline analyze` of this build (the registry with `set`) agrees.
    let test: Value =
        faultline::serde_json::from_str(&std::fs::read_to_string(dir.file("test.json")).unwrap())
            .unwrap();
    let again = faultline::harness::analyze::check_run_dir(
        &dir.path,
        &registry.checkers_for(&test).unwrap(),
        Value::Null,
    )
    .unwrap();
    assert_eq!(again.verdict, outcome.checked.verdict);
    let prefix = test["db"]["lab_prefix"].as_str().unwrap();
    let temp = std::path::PathBuf::from(test["db"]["temp_dir"].as_str().unwrap());
    let left = faultline::cluster::leftovers::leftovers(prefix, &temp);
    assert!(left.is_empty(), "left behind: {left:?}");
    std::fs::remove_dir_all(&store).ok();
}
