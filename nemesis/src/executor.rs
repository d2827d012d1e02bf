//! Executes nemesis invocations against a database, remembering what is active so that
//! [`heal_all`](faultline_core::Nemesis::heal_all) can end it.
//!
//! With [`NemesisExecutor::admit_each`] every fault passes the admission check the run does
//! before the first one (every node ready, full membership): a fault whose cluster is not
//! healthy in time is not injected. Its start and the matching stop are recorded with
//! `"skipped": true` and an error saying why, and open no fault window. Without it faults
//! compound, as in Jepsen: a node may be killed again before it rejoined.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::{Completion, Db, DbResult, NodeId};
use faultline_core::{Invocation, Nemesis, OpType};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub struct NemesisExecutor {
    db: Arc<dyn Db>,
    faults: Arc<Vec<Box<dyn Fault>>>,
    active: tokio::sync::Mutex<Vec<(usize, Vec<NodeId>)>>,
    /// Faults not injected because the admission check failed; their stops are no-ops.
    skipped: tokio::sync::Mutex<Vec<(usize, Vec<NodeId>)>>,
    admission: Option<Duration>,
}

impl NemesisExecutor {
    pub fn new(db: Arc<dyn Db>, faults: Arc<Vec<Box<dyn Fault>>>) -> Self {
        NemesisExecutor {
            db,
            faults,
            active: tokio::sync::Mutex::new(Vec::new()),
            skipped: tokio::sync::Mutex::new(Vec::new()),
            admission: None,
        }
    }

    /// Before each start, waits up to `timeout` for the cluster to be healthy, and skips the
    /// fault when it is not.
    pub fn admit_each(mut self, timeout: Duration) -> Self {
        self.admission = Some(timeout);
        self
    }

    fn find(&self, value: &Value) -> Option<(usize, Vec<NodeId>)> {
        let name = value.get("fault")?.as_str()?;
        let i = self.faults.iter().position(|f| f.name() == name)?;
        let nodes = value
            .get("nodes")?
            .as_array()?
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
        Some((i, nodes))
    }
}

impl NemesisExecutor {
    /// Why `op` is not carried out: a start the admission check refused, or the stop of
    /// such a start.
    async fn skip(&self, op: &Invocation, i: usize, nodes: &[NodeId]) -> Option<String> {
        let key = (i, nodes.to_vec());
        match op.f.as_str() {
            "start" => {
                let timeout = self.admission?;
                let e = self.db.wait_ready(timeout).await.err()?;
                self.skipped.lock().await.push(key);
                Some(format!(
                    "not injected: the cluster was not healthy within {}s ({e})",
                    timeout.as_secs()
                ))
            }
            "stop" => {
                let mut skipped = self.skipped.lock().await;
                let at = skipped.iter().position(|k| *k == key)?;
                skipped.remove(at);
                Some("its start was skipped: nothing to stop".into())
            }
            _ => None,
        }
    }
}

fn info(value: &Value, error: Option<String>) -> Completion {
    Completion {
        kind: OpType::Info,
        value: Some(value.clone()),
        error,
    }
}

#[async_trait]
impl Nemesis for NemesisExecutor {
    async fn invoke(&self, op: &Invocation) -> Completion {
        let Some((i, nodes)) = self.find(&op.value) else {
            return info(&op.value, Some(format!("unknown nemesis op {}", op.value)));
        };
        let fault = &self.faults[i];
        let mut value = op.value.clone();
        if let Some(why) = self.skip(op, i, &nodes).await {
            value["skipped"] = Value::Bool(true);
            tracing::warn!(fault = fault.name(), f = %op.f, nodes = ?nodes, "nemesis skipped: {why}");
            return info(&value, Some(why));
        }
        let result = match op.f.as_str() {
            "start" => {
                let params = op.value.get("params").cloned().unwrap_or_default();
                let r = fault.start_hitting(self.db.as_ref(), &nodes, &params).await;
                // Even a failed start may have done part of its work: heal it at the end.
                self.active.lock().await.push((i, nodes.clone()));
                r.map(|hit| {
                    if let Some(hit) = hit {
                        value["hit"] = serde_json::json!(hit);
                    }
                })
            }
            "stop" => {
                let r = fault.stop(self.db.as_ref(), &nodes).await;
                if r.is_ok() {
                    self.active
                        .lock()
                        .await
                        .retain(|(j, n)| !(*j == i && *n == nodes));
                }
                r
            }
            other => Err(faultline_core::db::DbError::new(format!(
                "unknown nemesis function {other}"
            ))),
        };
        tracing::info!(fault = fault.name(), f = %op.f, nodes = ?nodes, ok = result.is_ok(), "nemesis");
        info(&value, result.err().map(|e| e.to_string()))
    }

    async fn heal_all(&self) -> DbResult<()> {
        let active: Vec<_> = self.active.lock().await.drain(..).collect();
        let mut errors = Vec::new();
        for (i, nodes) in active.into_iter().rev() {
            if let Err(e) = self.faults[i].stop(self.db.as_ref(), &nodes).await {
                errors.push(format!("{}: {e}", self.faults[i].name()));
            }
        }
        // Whatever the faults' own stops missed, the database heals as a whole.
        if let Err(e) = self.db.heal_all().await {
            errors.push(e.to_string());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(faultline_core::db::DbError::new(errors.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    //! A fake database and a fake fault that only count calls: unit tests of the admission
    //! logic, no server in them. Real faults are tested on real clusters under nemesis/tests.
    use super::*;
    use faultline_core::db::DbError;
    use rand_chacha::ChaCha8Rng;
    use serde_json::json;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    struct Flaky {
        healthy: AtomicBool,
    }

    #[async_trait]
    impl Db for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn nodes(&self) -> Vec<NodeId> {
            vec!["n1".into(), "n2".into()]
        }
        async fn heal_all(&self) -> DbResult<()> {
            Ok(())
        }
        async fn wait_ready(&self, _: Duration) -> DbResult<()> {
            if self.healthy.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err(DbError::new("n2 is not Synced"))
            }
        }
        async fn teardown(&self) -> DbResult<()> {
            Ok(())
        }
    }

    #[derive(Default)]
    struct Counted {
        starts: AtomicUsize,
        stops: AtomicUsize,
    }

    #[async_trait]
    impl Fault for Arc<Counted> {
        fn name(&self) -> &'static str {
            "counted"
        }
        fn description(&self) -> &'static str {
            "counts its calls"
        }
        fn needs(&self) -> &'static [faultline_core::db::Capability] {
            &[]
        }
        fn unsupported(&self, _: &dyn Db) -> Option<String> {
            None
        }
        fn targets(&self, nodes: &[NodeId], _: &mut ChaCha8Rng) -> Vec<NodeId> {
            nodes[..1].to_vec()
        }
        async fn start(&self, _: &dyn Db, _: &[NodeId]) -> DbResult<()> {
            self.starts.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        async fn stop(&self, _: &dyn Db, _: &[NodeId]) -> DbResult<()> {
            self.stops.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn op(f: &str) -> Invocation {
        Invocation::new(f, json!({"fault": "counted", "nodes": ["n1"]}))
    }

    #[tokio::test]
    async fn with_admit_each_an_unhealthy_cluster_gets_no_fault_and_its_stop_is_a_no_op() {
        let db = Arc::new(Flaky {
            healthy: AtomicBool::new(false),
        });
        let counted = Arc::new(Counted::default());
        let faults: Arc<Vec<Box<dyn Fault>>> = Arc::new(vec![Box::new(counted.clone())]);
        let ex = NemesisExecutor::new(db.clone(), faults).admit_each(Duration::from_millis(1));

        let start = ex.invoke(&op("start")).await;
        assert_eq!(start.value.as_ref().unwrap()["skipped"], true);
        assert!(start.error.unwrap().contains("n2 is not Synced"));
        let stop = ex.invoke(&op("stop")).await;
        assert_eq!(stop.value.as_ref().unwrap()["skipped"], true);
        assert_eq!(counted.starts.load(Ordering::SeqCst), 0);
        assert_eq!(counted.stops.load(Ordering::SeqCst), 0);

        db.healthy.store(true, Ordering::SeqCst);
        let start = ex.invoke(&op("start")).await;
        assert!(start.error.is_none() && start.value.unwrap().get("skipped").is_none());
        ex.invoke(&op("stop")).await;
        assert_eq!(counted.starts.load(Ordering::SeqCst), 1);
        assert_eq!(counted.stops.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn without_admit_each_faults_compound() {
        let db = Arc::new(Flaky {
            healthy: AtomicBool::new(false),
        });
        let counted = Arc::new(Counted::default());
        let faults: Arc<Vec<Box<dyn Fault>>> = Arc::new(vec![Box::new(counted.clone())]);
        let ex = NemesisExecutor::new(db, faults);
        assert!(ex.invoke(&op("start")).await.error.is_none());
        assert_eq!(counted.starts.load(Ordering::SeqCst), 1);
    }
}
