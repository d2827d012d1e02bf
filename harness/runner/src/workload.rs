//! The Workload protocol: what a test does to the database and how its history is judged.

use async_trait::async_trait;
use faultline_core::generator::Gen;
use faultline_core::{Checker, Client, Invocation};
use serde_json::Value;

/// A workload = client + generator + final generator + checkers. Adding one is one file in
/// faultline-workloads plus one registration line.
#[async_trait]
pub trait Workload: Send + Sync {
    /// `bank`, `register`, ...
    fn name(&self) -> &str;
    /// The workload's own options, recorded in test.json (and read back by analyze).
    fn options(&self) -> Value;
    /// Creates the schema and initial data, on the first node, before any op runs.
    async fn setup(&self) -> anyhow::Result<()>;
    /// A fresh client bound to `node`; it connects lazily and reconnects after a reset.
    fn client(&self, node: &str) -> Box<dyn Client>;
    /// The client ops of the main phase (the runner adds the time limit and the nemesis).
    fn generator(&self) -> Gen<Invocation>;
    /// Ops run after every fault is healed and the cluster is ready again (final reads).
    fn final_generator(&self) -> Option<Gen<Invocation>> {
        None
    }
    fn checkers(&self) -> Vec<Box<dyn Checker>>;
}
