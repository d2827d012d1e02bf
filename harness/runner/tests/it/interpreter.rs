//! The interpreter on the atom system: histories well formed, processes retired after
//! `info`, the store complete, `analyze` agreeing, generators told of every completion.

use crate::common::{self, run};
use async_trait::async_trait;
use faultline_core::generator::{Ctx, Gen, Generator, Next};
use faultline_core::{Checker, Client, Completion, Invocation, Op, OpType};
use faultline_harness::analyze::check_run_dir;
use faultline_harness::testkit::AtomDb;
use faultline_harness::{RunSpec, Sut, Workload, WorkloadDef};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_run_without_faults_is_valid_complete_and_reproducible() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    let r = run(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "2",
            "--concurrency",
            "6",
            "--op-interval-ms",
            "1",
            "--seed",
            "9",
        ],
    )
    .await;
    r.assert_well_formed();
    let ok = r.client_ops().filter(|o| o.is_ok()).count();
    assert!(ok > 200, "only {ok} ok ops");
    assert_eq!(r.verdict_of("linearizable"), "valid", "{}", r.results);
    assert_eq!(r.verdict_of("recovery"), "valid", "{}", r.results);
    for f in [
        "test.json",
        "history.jsonl",
        "results.json",
        "report.html",
        "junit.xml",
    ] {
        assert!(r.dir.file(f).exists(), "no {f}");
    }
    assert_eq!(r.test["workload"]["name"], "atom-register");
    assert_eq!(r.test["spec"]["seed"], 9);
    assert_eq!(r.test["spec"]["concurrency"], 6);
    // Every client node got its share of the workers.
    for n in ["n1", "n2", "n3"] {
        assert!(
            r.client_ops().any(|o| o.node.as_deref() == Some(n)),
            "no op on {n}"
        );
    }
    let again = check_run_dir(
        &r.dir.path,
        &registry.checkers_for(&r.test).unwrap(),
        serde_json::Value::Null,
    )
    .unwrap();
    assert_eq!(again.verdict, r.outcome.checked.verdict);
    assert_eq!(db.counts().teardowns, 1);
    r.cleanup();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_times_ops_out_as_info_and_retires_their_processes() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    let r = run(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "7",
            "--concurrency",
            "6",
            "--op-timeout",
            "1",
            "--nemesis",
            "pause_one",
            "--nemesis-interval",
            "1",
            "--nemesis-duration",
            "4",
            "--seed",
            "4",
        ],
    )
    .await;
    r.assert_well_formed();
    let infos: Vec<&Op> = r.client_ops().filter(|o| o.is_info()).collect();
    assert!(!infos.is_empty(), "no op timed out during the pause");
    // A timed-out write is info and its process never invokes again; a timed-out read is
    // fail (it changed nothing). Two clients of the paused node time out about four times
    // each: that none of eight was a write has odds of 1 in 6,561.
    for o in r.client_ops().filter(|o| o.f == "read" && !o.is_invoke()) {
        if o.error.as_deref().is_some_and(|e| e.contains("timeout")) {
            assert!(o.is_fail(), "a timed-out read is not fail: {o:?}");
        }
    }
    for i in &infos {
        assert_ne!(i.f, "read");
        let later = r
            .client_ops()
            .filter(|o| o.index > i.index && o.process == i.process)
            .count();
        assert_eq!(later, 0, "process {} was not retired", i.process);
    }
    assert_eq!(r.verdict_of("linearizable"), "valid", "{}", r.results);
    r.cleanup();
}

/// Paced slots go to the worker that has waited longest. Without that, the workers
/// whose ops complete at once (here every atom op does) took nearly every slot, and the
/// workers of other nodes starved: a pause of n3 then held no op at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_slots_are_shared_by_every_worker_and_node() {
    let db = Arc::new(AtomDb::new(3));
    let registry = common::registry(&db);
    let r = run(
        &registry,
        "atom-register",
        &[
            "--time-limit",
            "3",
            "--concurrency",
            "6",
            "--op-interval-ms",
            "10",
            "--seed",
            "5",
        ],
    )
    .await;
    r.assert_well_formed();
    let mut per_process = std::collections::BTreeMap::<String, usize>::new();
    let mut per_node = std::collections::BTreeMap::<String, usize>::new();
    for o in r.client_ops().filter(|o| o.is_invoke()) {
        *per_process.entry(o.process.to_string()).or_default() += 1;
        *per_node
            .entry(o.node.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let total: usize = per_process.values().sum();
    println!("{total} ops; per process {per_process:?}; per node {per_node:?}");
    assert_eq!(
        per_process.len(),
        6,
        "a worker never ran an op: {per_process:?}"
    );
    // A fair share is a sixth per worker, a third per node; allow half of it.
    for (p, n) in &per_process {
        assert!(n * 12 >= total, "process {p} ran {n} of {total} ops");
    }
    for (node, n) in &per_node {
        assert!(n * 6 >= total, "node {node} served {n} of {total} ops");
    }
    r.cleanup();
}

/// A workload whose generator stops after it learned of 25 completions: proof that the
/// interpreter passes every completion to the generator (Jepsen's `update`).
struct Counted;

#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
struct CountedOptions {}

impl WorkloadDef for Counted {
    type Options = CountedOptions;
    fn name(&self) -> &'static str {
        "counted"
    }
    fn about(&self) -> &'static str {
        "stops after 25 completions"
    }
    fn build(&self, _: &CountedOptions, _: &Sut, _: &RunSpec) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(CountedRun))
    }
    fn checkers(&self, _: &CountedOptions) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![])
    }
}

struct CountedRun;

struct StopAfter {
    seen: usize,
    given: usize,
}

impl Generator<Invocation> for StopAfter {
    fn next(&mut self, _ctx: &mut Ctx<'_>) -> Next<Invocation> {
        if self.seen >= 25 {
            Next::Done
        } else if self.given > self.seen {
            // One op at a time: wait for its completion.
            Next::Wait(None)
        } else {
            self.given += 1;
            Next::Op(Invocation::new("tick", serde_json::Value::Null))
        }
    }
    fn update(&mut self, completed: &Op) {
        assert_ne!(completed.kind, OpType::Invoke);
        self.seen += 1;
    }
}

struct Tick;

#[async_trait]
impl Client for Tick {
    async fn invoke(&mut self, _op: &Invocation) -> Completion {
        Completion::ok(None)
    }
    fn reset(&mut self) {}
}

#[async_trait]
impl Workload for CountedRun {
    async fn setup(&self) -> anyhow::Result<()> {
        Ok(())
    }
    fn client(&self, _node: &str) -> Box<dyn Client> {
        Box::new(Tick)
    }
    fn generator(&self) -> Gen<Invocation> {
        Box::new(StopAfter { seen: 0, given: 0 })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generators_learn_every_completion() {
    let db = Arc::new(AtomDb::new(2));
    let registry = common::registry(&db).workload(Counted);
    let r = run(
        &registry,
        "counted",
        &[
            "--db",
            "atom",
            "--time-limit",
            "30",
            "--concurrency",
            "4",
            "--op-interval-ms",
            "0",
        ],
    )
    .await;
    r.assert_well_formed();
    assert_eq!(r.client_ops().filter(|o| o.is_ok()).count(), 25);
    // The run ended when the generator did, long before its time limit.
    let last = r.history.ops.last().unwrap().time;
    assert!(last < 10_000_000_000, "the run went on to its time limit");
    r.cleanup();
}

/// A workload whose every op is refused at once, as a node outside the primary component
/// refuses: proof that a worker backs off while its ops keep failing.
struct Refused;

impl WorkloadDef for Refused {
    type Options = CountedOptions;
    fn name(&self) -> &'static str {
        "refused"
    }
    fn about(&self) -> &'static str {
        "every op fails at once"
    }
    fn build(&self, _: &CountedOptions, _: &Sut, _: &RunSpec) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(RefusedRun))
    }
    fn checkers(&self, _: &CountedOptions) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![])
    }
}

struct RefusedRun;

struct Refuse;

#[async_trait]
impl Client for Refuse {
    async fn invoke(&mut self, _op: &Invocation) -> Completion {
        Completion::fail("1047 WSREP has not yet prepared node for application use")
    }
    fn reset(&mut self) {}
}

struct Ticks;

impl Generator<Invocation> for Ticks {
    fn next(&mut self, _ctx: &mut Ctx<'_>) -> Next<Invocation> {
        Next::Op(Invocation::new("tick", serde_json::Value::Null))
    }
}

#[async_trait]
impl Workload for RefusedRun {
    async fn setup(&self) -> anyhow::Result<()> {
        Ok(())
    }
    fn client(&self, _node: &str) -> Box<dyn Client> {
        Box::new(Refuse)
    }
    fn generator(&self) -> Gen<Invocation> {
        Box::new(Ticks)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_ops_keep_failing_backs_off() {
    use faultline_harness::interpreter::fail_backoff;
    let db = Arc::new(AtomDb::new(2));
    let registry = common::registry(&db).workload(Refused);
    let r = run(
        &registry,
        "refused",
        &[
            "--db",
            "atom",
            "--time-limit",
            "2",
            "--concurrency",
            "2",
            "--op-interval-ms",
            "0",
        ],
    )
    .await;
    r.assert_well_formed();
    // Per process: after the k-th failure in a row, the next invocation waits at least
    // fail_backoff(k): nothing after one, 1 ms after two, doubling to 100 ms.
    assert_eq!(fail_backoff(1), std::time::Duration::ZERO);
    assert_eq!(fail_backoff(2), std::time::Duration::from_millis(1));
    assert_eq!(fail_backoff(4), std::time::Duration::from_millis(4));
    assert_eq!(fail_backoff(40), std::time::Duration::from_millis(100));
    let mut last_fail: std::collections::HashMap<_, (u64, u32)> = Default::default();
    let mut invokes = 0;
    for o in r.client_ops() {
        if o.is_invoke() {
            invokes += 1;
            if let Some((t, k)) = last_fail.get(&o.process) {
                let want = fail_backoff(*k);
                let gap = std::time::Duration::from_nanos(o.time - t);
                assert!(
                    gap >= want,
                    "failure {k} of {:?} followed after {gap:?}, not {want:?}",
                    o.process
                );
            }
        } else {
            assert_eq!(o.kind, OpType::Fail);
            let k = last_fail.get(&o.process).map_or(1, |(_, k)| k + 1);
            last_fail.insert(o.process, (o.time, k));
        }
    }
    // Unpaced and never backing off, two workers would have invoked tens of thousands.
    assert!(
        (10..=120).contains(&invokes),
        "{invokes} invocations in 2 s"
    );
    r.cleanup();
}
