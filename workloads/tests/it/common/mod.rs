//! Helpers shared by the register, append and rw-register integration tests: build run
//! arguments, run a workload end to end against a real server or cluster, and the checks
//! every such test makes (single-threaded processes, faults recorded, analyze agrees,
//! nothing left behind). One run at a time per test binary: the machine has two cores.

#![allow(dead_code)]

pub mod browser;

use faultline_core::{History, Op, Validity};
use faultline_harness::analyze::check_run_dir;
use faultline_harness::run::{run_test, Outcome};
use faultline_harness::store::RunDir;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The command line of `test` with its store under `store` and the arguments `extra`.
pub fn argv(test: &str, store: &Path, extra: &[&str]) -> Vec<std::ffi::OsString> {
    let mut argv: Vec<std::ffi::OsString> = vec![test.into(), "--store".into(), store.into()];
    argv.extend(extra.iter().map(Into::into));
    argv
}

pub struct Run {
    pub store: PathBuf,
    pub dir: RunDir,
    pub outcome: Outcome,
    pub history: History,
    pub test: Value,
    pub results: Value,
}

/// Runs workload `test` with the arguments `extra` (run options and the workload's own),
/// as its binary would, in a fresh store under the temp dir.
pub async fn run(test: &str, extra: &[&str]) -> Run {
    let store = std::env::temp_dir().join(format!(
        "fl-{test}-it-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let registry = faultline_workloads::builtin();
    let plan = registry
        .plan_run(test, argv(test, &store, extra))
        .expect("valid arguments");
    let dir = RunDir::create(&store, test).unwrap();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let outcome = run_test(plan, &dir, cancel)
        .await
        .expect("the run completes");
    let history = History::read(&dir.path).unwrap();
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.file(f)).unwrap()).unwrap()
    };
    let (test_json, results) = (read("test.json"), read("results.json"));
    eprintln!("{test} run: {}", dir.path.display());
    for r in results["results"].as_array().unwrap() {
        eprintln!("  {}: {} ({})", r["checker"], r["valid"], r["summary"]);
    }
    Run {
        store,
        dir,
        outcome,
        history,
        test: test_json,
        results,
    }
}

impl Run {
    pub fn client_ops(&self) -> impl Iterator<Item = &Op> {
        self.history.ops.iter().filter(|o| o.is_client())
    }

    pub fn ok_count(&self, f: &str) -> usize {
        self.client_ops().filter(|o| o.is_ok() && o.f == f).count()
    }

    /// The common checks: single-threaded processes, results.json agrees with the outcome,
    /// analyze (the registry) reproduces the verdict, nothing is left behind.
    pub fn common_checks(&self) {
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
        assert_eq!(
            self.results["valid"],
            serde_json::to_value(self.outcome.checked.verdict).unwrap()
        );
        assert!(self.dir.file("report.html").exists());
        let again = check_run_dir(
            &self.dir.path,
            &faultline_workloads::builtin()
                .checkers_for(&self.test)
                .unwrap(),
            Value::Null,
        )
        .unwrap();
        assert_eq!(
            again.verdict, self.outcome.checked.verdict,
            "analyze disagrees"
        );
        let prefix = self.test["db"]["lab_prefix"].as_str().unwrap();
        let temp = PathBuf::from(self.test["db"]["temp_dir"].as_str().unwrap());
        let left = faultline_cluster::leftovers::leftovers(prefix, &temp);
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    /// Each fault started and stopped at least once without an error, and a final heal.
    pub fn assert_faults(&self, faults: &[&str]) {
        let nemesis: Vec<&Op> = self
            .history
            .ops
            .iter()
            .filter(|o| o.process.is_nemesis())
            .collect();
        for fault in faults {
            for f in ["start", "stop"] {
                assert!(
                    nemesis
                        .iter()
                        .any(|o| o.f == f && o.value["fault"] == *fault && o.error.is_none()),
                    "no successful {f} of {fault}"
                );
            }
        }
        assert!(nemesis.iter().any(|o| o.f == "heal"));
    }

    /// The verdict of the checker named `name`.
    pub fn verdict_of(&self, name: &str) -> Validity {
        let r = self.results["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["checker"] == name)
            .unwrap_or_else(|| panic!("no {name} result"));
        serde_json::from_value(r["valid"].clone()).unwrap()
    }

    pub fn cleanup(self) {
        std::fs::remove_dir_all(&self.store).ok();
    }
}
