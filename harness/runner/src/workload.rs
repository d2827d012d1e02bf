//! The Workload protocol: what one run does to the database. Its checkers come from its
//! [`WorkloadDef`](crate::WorkloadDef), so that a run and `faultline analyze` share them.

use crate::store::RunDir;
use async_trait::async_trait;
use faultline_core::generator::Gen;
use faultline_core::{Client, Invocation};
use serde_json::Value;

/// A workload = client + generator + final generator (+ checkers, from its definition).
#[async_trait]
pub trait Workload: Send + Sync {
    /// Creates the schema and initial data (and anything the workload runs beside the
    /// system, such as a reference server) before any op runs.
    async fn setup(&self) -> anyhow::Result<()>;
    /// A fresh client bound to `node`; it connects lazily and reconnects after a reset.
    fn client(&self, node: &str) -> Box<dyn Client>;
    /// The client ops of the main phase (the runner adds the time limit and the nemesis).
    fn generator(&self) -> Gen<Invocation>;
    /// Ops run after every fault is healed and the cluster is ready again (final reads).
    fn final_generator(&self) -> Option<Gen<Invocation>> {
        None
    }
    /// Runs after the final phase, with the system still up and healed and the history
    /// synced to `dir` (e.g. reduce findings by replaying them). What it returns is kept
    /// in results.json under `run`.
    async fn after_run(&self, _dir: &RunDir) -> anyhow::Result<Value> {
        Ok(Value::Null)
    }
    /// Stops what [`Workload::setup`] started beside the system. Called on every path out
    /// of a run that got past setup.
    async fn teardown(&self) {}
}
