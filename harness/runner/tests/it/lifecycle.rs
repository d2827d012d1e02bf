//! The run lifecycle without a server: bad arguments are refused before anything starts,
//! a cancel (Ctrl-C, SIGTERM) stops the run, heals and still checks what was recorded (a
//! cancel before the system is up leaves an empty run that analyze agrees with), a
//! failing workload set-up still tears the system down.

use crate::common::{self, run_with};
use faultline_core::Validity;
use faultline_harness::analyze::check_run_dir;
use faultline_harness::testkit::AtomDb;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn bad_arguments_are_one_line_that_says_what_to_do() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    let store = common::store("bad");
    let refuse = |workload: &str, extra: &[&str]| -> String {
        registry
            .plan_run(workload, common::argv(workload, &store, extra))
            .err()
            .unwrap_or_else(|| panic!("{workload} {extra:?} was accepted"))
            .to_string()
    };
    for (workload, extra, says) in [
        ("no-such-workload", &[][..], "atom-register"),
        ("atom-register", &["--db", "oracle"][..], "atom"),
        (
            "atom-register",
            &["--nemesis", "partition_everything"][..],
            "partition_one",
        ),
        ("atom-register", &["--concurrency", "x"][..], "2n"),
        ("atom-register", &["--time-limit", "0"][..], "--time-limit"),
        ("atom-register", &["--no-such-flag"][..], "--no-such-flag"),
        (
            "atom-register",
            &["--db", "mysql://u:hunter2@h:1/x"][..],
            "u:***@h",
        ),
    ] {
        let e = refuse(workload, extra);
        assert!(e.contains(says) && !e.contains('\n'), "{extra:?}: {e}");
        assert!(!e.contains("hunter2"), "a password in an error: {e}");
    }
    assert_eq!(
        db.counts().teardowns,
        0,
        "nothing may start on bad arguments"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_while_the_system_starts_leaves_a_checkable_empty_run() {
    let db = Arc::new(AtomDb::new(3).start_delay(Duration::from_secs(30)));
    let registry = common::registry(&db);
    let (tx, cancel) = tokio::sync::watch::channel(false);
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tx.send(true);
        tx
    });
    let started = std::time::Instant::now();
    let r = run_with(&registry, "atom-register", &["--seed", "3"], cancel).await;
    let _tx = canceller.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited for the start"
    );
    assert!(r.outcome.cancelled);
    assert!(r.history.ops.is_empty(), "{:?}", r.history.ops);
    assert_eq!(r.outcome.checked.verdict, Validity::Unknown);
    assert_eq!(r.results["valid"], "unknown");
    assert_eq!(r.test["interrupted"], "while the system was starting");
    assert_eq!(r.test["workload"]["name"], "atom-register");
    // `faultline analyze` rebuilds the same checkers from test.json and agrees.
    let checkers = registry.checkers_for(&r.test).unwrap();
    let again = check_run_dir(&r.dir.path, &checkers, serde_json::Value::Null).unwrap();
    assert_eq!(again.verdict, Validity::Unknown);
    assert_eq!(db.counts().teardowns, 0, "nothing had started");
    r.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_dies_before_its_system_is_up_leaves_a_folder_analyze_can_check() {
    // A SIGKILL runs no handler: here the run's future is dropped mid-start instead.
    let db = Arc::new(AtomDb::new(3).start_delay(Duration::from_secs(30)));
    let registry = common::registry(&db);
    let store = common::store("atom-register-killed");
    let argv = common::argv("atom-register", &store, &["--seed", "4"]);
    let plan = registry.plan_run("atom-register", argv).unwrap();
    let dir = faultline_harness::store::RunDir::create(&store, "atom-register").unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let run = faultline_harness::run::run_test(plan, &dir, cancel);
    assert!(tokio::time::timeout(Duration::from_millis(300), run)
        .await
        .is_err());
    let test: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.file("test.json")).unwrap()).unwrap();
    assert_eq!(test["workload"]["name"], "atom-register");
    let history: faultline_core::History = faultline_core::History::read(&dir.path).unwrap();
    assert!(history.is_empty());
    let checkers = registry.checkers_for(&test).unwrap();
    let checked = check_run_dir(&dir.path, &checkers, serde_json::Value::Null).unwrap();
    assert_eq!(checked.verdict, Validity::Unknown);
    std::fs::remove_dir_all(&store).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_mid_fault_heals_checks_and_keeps_the_history() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    let (tx, cancel) = tokio::sync::watch::channel(false);
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let _ = tx.send(true);
        tx
    });
    let r = run_with(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "60",
            "--concurrency",
            "3",
            "--nemesis",
            "random_kill",
            "--nemesis-interval",
            "1",
            "--nemesis-duration",
            "30",
            "--seed",
            "5",
        ],
        cancel,
    )
    .await;
    let _tx = canceller.await.unwrap();
    assert!(r.outcome.cancelled);
    assert_eq!(r.results["run"]["cancelled"], true);
    r.assert_well_formed();
    // The kill was active when the cancel came; the final heal ended it.
    assert!(r.nemesis_ops().any(|o| o.f == "start" && !o.is_invoke()));
    assert!(r.nemesis_ops().any(|o| o.f == "heal"));
    assert!(db.faulty().is_empty(), "left faulty: {:?}", db.faulty());
    assert_eq!(db.counts().teardowns, 1);
    // Well before the time limit, and still checked.
    assert!(r.history.ops.last().unwrap().time < 20_000_000_000);
    assert_ne!(r.verdict_of("linearizable"), "unknown", "{}", r.results);
    r.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_run_like_a_cancel() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    // The handler the binaries install; then a real SIGINT to this process.
    let cancel = faultline_harness::run::cancel_on_signals();
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(2000));
        nix::sys::signal::raise(nix::sys::signal::Signal::SIGINT).unwrap();
    });
    let r = run_with(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "60",
            "--concurrency",
            "3",
            "--nemesis",
            "partition_one",
            "--nemesis-interval",
            "1",
            "--nemesis-duration",
            "30",
            "--seed",
            "6",
        ],
        cancel,
    )
    .await;
    assert!(r.outcome.cancelled, "the run did not see the Ctrl-C");
    r.assert_well_formed();
    assert!(r.nemesis_ops().any(|o| o.f == "heal"));
    assert!(db.faulty().is_empty(), "left faulty: {:?}", db.faulty());
    assert_eq!(db.counts().teardowns, 1);
    r.cleanup();
}
