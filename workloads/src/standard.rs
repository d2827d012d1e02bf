//! Checkers every run gets, whatever its workload: recovery times after faults (with the
//! `--recovery-slo`). [`WithStandardCheckers`] adds them to a workload for a run;
//! [`crate::registry::all_checkers_for`] adds them when `faultline analyze` re-checks one.

use async_trait::async_trait;
use faultline_checkers::recovery::RecoveryChecker;
use faultline_core::generator::Gen;
use faultline_core::{Checker, Client, Invocation};
use faultline_harness::Workload;
use serde_json::Value;

pub fn standard_checkers(recovery_slo_s: Option<f64>) -> Vec<Box<dyn Checker>> {
    vec![Box::new(RecoveryChecker {
        slo_s: recovery_slo_s,
    })]
}

/// A workload with the standard checkers after its own.
pub struct WithStandardCheckers {
    pub inner: Box<dyn Workload>,
    pub recovery_slo_s: Option<f64>,
}

#[async_trait]
impl Workload for WithStandardCheckers {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn options(&self) -> Value {
        self.inner.options()
    }
    async fn setup(&self) -> anyhow::Result<()> {
        self.inner.setup().await
    }
    fn client(&self, node: &str) -> Box<dyn Client> {
        self.inner.client(node)
    }
    fn generator(&self) -> Gen<Invocation> {
        self.inner.generator()
    }
    fn final_generator(&self) -> Option<Gen<Invocation>> {
        self.inner.final_generator()
    }
    fn checkers(&self) -> Vec<Box<dyn Checker>> {
        let mut c = self.inner.checkers();
        c.extend(standard_checkers(self.recovery_slo_s));
        c
    }
}
