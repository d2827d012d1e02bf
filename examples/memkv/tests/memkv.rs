//! memkv under faultline in seconds, no server to install: kills, pauses and partitions
//! leave a linearizable history, and the planted bug (a killed node loses its last
//! acknowledged write) is found by the linearizability checker.

use faultline::harness::run::run_test;
use faultline::harness::store::RunDir;
use faultline::prelude::*;
use faultline_example_memkv::{MemKvRecipe, Register};

async fn run(extra: &[&str]) -> (Value, History) {
    let store = std::env::temp_dir().join(format!(
        "fl-memkv-{}-{}",
        std::process::id(),
        faultline::rand::random::<u32>()
    ));
    let registry = faultline::builtin().recipe(MemKvRecipe).workload(Register);
    let mut argv: Vec<std::ffi::OsString> = vec![
        "memkv-register".into(),
        "--store".into(),
        store.clone().into(),
    ];
    argv.extend(extra.iter().map(Into::into));
    let plan = registry
        .plan_run("memkv-register", argv)
        .expect("valid arguments");
    let dir = RunDir::create(&store, "memkv-register").unwrap();
    let (_tx, cancel) = faultline::tokio::sync::watch::channel(false);
    run_test(plan, &dir, cancel)
        .await
        .expect("the run completes");
    let results: Value = faultline::serde_json::from_str(
        &std::fs::read_to_string(dir.file("results.json")).unwrap(),
    )
    .unwrap();
    let history = History::read(&dir.path).unwrap();
    std::fs::remove_dir_all(&store).ok();
    (results, history)
}

fn verdict(results: &Value, checker: &str) -> Value {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["checker"] == checker)
        .unwrap_or_else(|| panic!("no {checker}: {results}"))["valid"]
        .clone()
}

#[faultline::tokio::test(
    flavor = "multi_thread",
    worker_threads = 2,
    crate = "faultline::tokio"
)]
async fn kills_pauses_and_partitions_keep_memkv_linearizable() {
    let (results, history) = run(&[
        "--time-limit",
        "10",
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
        "2",
    ])
    .await;
    for fault in ["random_kill", "pause_one", "partition_one"] {
        assert!(
            history.ops.iter().any(|o| o.process.is_nemesis()
                && o.f == "stop"
                && o.value["fault"] == fault
                && o.error.is_none()),
            "no {fault}"
        );
    }
    let [ok, fail, info] = ["ok", "fail", "info"].map(|t| {
        history
            .ops
            .iter()
            .filter(|o| o.is_client() && o.kind.to_string() == t)
            .count()
    });
    println!("{ok} ok, {fail} fail, {info} info");
    assert!(ok > 300 && fail > 0, "{ok} ok, {fail} fail");
    assert_eq!(verdict(&results, "linearizable"), "valid", "{results}");
}

#[faultline::tokio::test(
    flavor = "multi_thread",
    worker_threads = 2,
    crate = "faultline::tokio"
)]
async fn the_planted_lost_write_is_found() {
    let (results, _) = run(&[
        "--memkv-lose-writes",
        "--keys",
        "1",
        "--values",
        "1000",
        "--time-limit",
        "10",
        "--concurrency",
        "3",
        "--nemesis",
        "random_kill",
        "--nemesis-interval",
        "1",
        "--nemesis-duration",
        "1",
        "--seed",
        "4",
    ])
    .await;
    assert_eq!(verdict(&results, "linearizable"), "invalid", "{results}");
}
