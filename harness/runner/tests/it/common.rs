//! Running a test of the testkit registry into a fresh store, and reading what it left.

use faultline_core::{History, Op};
use faultline_harness::run::{run_test, Outcome};
use faultline_harness::store::RunDir;
use faultline_harness::testkit::{AtomDb, AtomRecipe};
use faultline_harness::Registry;
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

pub struct Run {
    pub store: PathBuf,
    pub dir: RunDir,
    pub outcome: Outcome,
    pub history: History,
    pub test: Value,
    pub results: Value,
}

pub fn store(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "fl-runner-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ))
}

pub fn argv(workload: &str, store: &std::path::Path, extra: &[&str]) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> = vec![workload.into(), "--store".into(), store.into()];
    v.extend(extra.iter().map(Into::into));
    v
}

/// The testkit registry whose atom system is `db`.
pub fn registry(db: &Arc<AtomDb>) -> Registry {
    faultline_harness::testkit::registry().recipe(AtomRecipe::shared(db.clone()))
}

/// Runs `workload` of `registry` with `extra`, cancelled when `cancel` turns true.
pub async fn run_with(
    registry: &Registry,
    workload: &str,
    extra: &[&str],
    cancel: tokio::sync::watch::Receiver<bool>,
) -> Run {
    let store = store(workload);
    let plan = registry
        .plan_run(workload, argv(workload, &store, extra))
        .expect("valid arguments");
    let dir = RunDir::create(&store, workload).unwrap();
    let outcome = run_test(plan, &dir, cancel)
        .await
        .expect("the run completes");
    let history = History::read(&dir.path).unwrap();
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.file(f)).unwrap()).unwrap()
    };
    let (test, results) = (read("test.json"), read("results.json"));
    Run {
        store,
        dir,
        outcome,
        history,
        test,
        results,
    }
}

pub async fn run(registry: &Registry, workload: &str, extra: &[&str]) -> Run {
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    run_with(registry, workload, extra, cancel).await
}

impl Run {
    pub fn client_ops(&self) -> impl Iterator<Item = &Op> {
        self.history.ops.iter().filter(|o| o.is_client())
    }

    pub fn nemesis_ops(&self) -> impl Iterator<Item = &Op> {
        self.history.ops.iter().filter(|o| o.process.is_nemesis())
    }

    /// Every invocation has exactly one completion of its process, and no process has
    /// two ops open at once (Jepsen's rule), whatever happened during the run.
    pub fn assert_well_formed(&self) {
        let mut open = HashSet::new();
        for o in self.client_ops() {
            if o.is_invoke() {
                assert!(
                    open.insert(o.process),
                    "process {} invoked twice",
                    o.process
                );
            } else {
                assert!(
                    open.remove(&o.process),
                    "completion without invocation: {o:?}"
                );
            }
        }
        assert!(open.is_empty(), "invocations never completed: {open:?}");
        let indexes: Vec<u64> = self.history.ops.iter().map(|o| o.index).collect();
        assert!(
            indexes.windows(2).all(|w| w[1] == w[0] + 1),
            "indexes have gaps"
        );
    }

    pub fn verdict_of(&self, checker: &str) -> Value {
        self.results["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["checker"] == checker)
            .unwrap_or_else(|| panic!("no {checker} result in {}", self.results))["valid"]
            .clone()
    }

    pub fn cleanup(self) {
        std::fs::remove_dir_all(&self.store).ok();
    }
}
