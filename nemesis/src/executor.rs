//! Executes nemesis invocations against a database, remembering what is active so that
//! [`heal_all`](faultline_core::Nemesis::heal_all) can end it.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::{Completion, Db, DbResult, NodeId};
use faultline_core::{Invocation, Nemesis, OpType};
use serde_json::Value;
use std::sync::Arc;

pub struct NemesisExecutor {
    db: Arc<dyn Db>,
    faults: Arc<Vec<Box<dyn Fault>>>,
    active: tokio::sync::Mutex<Vec<(usize, Vec<NodeId>)>>,
}

impl NemesisExecutor {
    pub fn new(db: Arc<dyn Db>, faults: Arc<Vec<Box<dyn Fault>>>) -> Self {
        NemesisExecutor {
            db,
            faults,
            active: tokio::sync::Mutex::new(Vec::new()),
        }
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
