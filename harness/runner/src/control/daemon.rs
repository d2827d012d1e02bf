//! The control daemon's side: one [`Daemon`] per system, answering [`Request`]s through the
//! nemesis executor (the one a run uses) over the whole catalogue, and remembering the
//! faults it started (for `status` and `heal`).

use super::{Request, Response};
use faultline_core::db::{Db, NodeId};
use faultline_core::{Endpoint, Invocation, Nemesis};
use faultline_nemesis::{catalogue, Fault, NemesisExecutor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{watch, Mutex};

/// A fault the daemon started and has not stopped.
#[derive(Clone, Debug)]
struct Active {
    name: String,
    nodes: Vec<NodeId>,
    params: Value,
}

pub(super) struct Daemon {
    db: Arc<dyn Db>,
    endpoints: Vec<Endpoint>,
    faults: Arc<Vec<Box<dyn Fault>>>,
    executor: NemesisExecutor,
    active: Mutex<Vec<Active>>,
    rng: Mutex<ChaCha8Rng>,
    stop: watch::Sender<bool>,
}

/// How `status` shows an active fault: the words of the CLI verb that starts it where
/// there is one (`killed n2`, `skew n2 +300ms`, `loss n3 20%`, `n3 drops n1,n2`).
fn describe(a: &Active, all: &[NodeId]) -> String {
    let nodes = a.nodes.join(",");
    let first = a.nodes.first().cloned().unwrap_or_default();
    match a.name.as_str() {
        "random_kill" | "minor_kill" | "major_kill" | "all_kill" => format!("killed {nodes}"),
        "pause_one" | "pause_all" => format!("paused {nodes}"),
        n if n.ends_with("_skews") && n != "strobe_skews" => a
            .nodes
            .iter()
            .map(|x| {
                let ms = a.params["offsets_ms"][x].as_i64().unwrap_or(0);
                format!("skew {x} {ms:+}ms")
            })
            .collect::<Vec<_>>()
            .join("; "),
        "loss" => format!(
            "loss {nodes} {}%",
            a.params["percent"].as_f64().unwrap_or_default()
        ),
        "delay" => format!(
            "delay {nodes} {}ms jitter {}ms",
            a.params["delay_ms"], a.params["jitter_ms"]
        ),
        "partition_one" => {
            let others: Vec<&str> = all
                .iter()
                .filter(|n| !a.nodes.contains(n))
                .map(String::as_str)
                .collect();
            format!("{first} drops {}", others.join(","))
        }
        "partition_link" if a.nodes.len() == 2 => format!("{first} drops {}", a.nodes[1]),
        other => format!("{other} {nodes}"),
    }
}

impl Daemon {
    pub(super) fn new(
        db: Arc<dyn Db>,
        endpoints: Vec<Endpoint>,
        stop: watch::Sender<bool>,
    ) -> Self {
        let faults = Arc::new(catalogue());
        Daemon {
            executor: NemesisExecutor::new(db.clone(), faults.clone()),
            db,
            endpoints,
            faults,
            active: Mutex::new(Vec::new()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(rand::random())),
            stop,
        }
    }

    pub(super) async fn handle(&self, stream: UnixStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        while let Some(line) = lines.next_line().await? {
            let response = match serde_json::from_str::<Request>(&line) {
                Ok(req) => self.dispatch(req).await,
                Err(e) => Response::err(format!("bad request: {e}")),
            };
            let mut text = serde_json::to_string(&response).unwrap_or_default();
            text.push('\n');
            write.write_all(text.as_bytes()).await?;
        }
        Ok(())
    }

    async fn dispatch(&self, req: Request) -> Response {
        let result = match req {
            Request::Status => return Response::ok("status", self.status().await),
            Request::Fault {
                name,
                action,
                nodes,
                params,
            } => self.fault(&name, &action, nodes, params).await,
            Request::Heal { node } => self.heal(node.as_deref()).await,
            Request::Stop => {
                let _ = self.executor.heal_all().await;
                let _ = self.db.teardown().await;
                let _ = self.stop.send(true);
                Ok("stopped: every node shut down, everything removed".into())
            }
        };
        match result {
            Ok(m) => Response::ok(m, Value::Null),
            Err(e) => Response::err(e),
        }
    }

    /// Runs `f` (start or stop) of `fault` on `nodes` through the executor.
    async fn invoke(&self, f: &str, a: &Active) -> Result<(), String> {
        let value = json!({ "fault": a.name, "nodes": a.nodes, "params": a.params });
        let done = self.executor.invoke(&Invocation::new(f, value)).await;
        match done.error {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    async fn fault(
        &self,
        name: &str,
        action: &str,
        nodes: Option<Vec<String>>,
        params: Option<Value>,
    ) -> Result<String, String> {
        faultline_nemesis::lookup(&[name.to_string()]).map_err(|e| e.to_string())?;
        let fault = self
            .faults
            .iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| format!("{name} is not a fault"))?;
        if let Some(why) = fault.unsupported(self.db.as_ref()) {
            return Err(why);
        }
        let all = self.db.nodes();
        if let Some(unknown) = nodes.iter().flatten().find(|n| !all.contains(n)) {
            return Err(format!(
                "unknown node {unknown}: nodes are {}",
                all.join(", ")
            ));
        }
        match action {
            "start" => {
                let (targets, params) = {
                    let mut rng = self.rng.lock().await;
                    let targets = nodes.unwrap_or_else(|| fault.targets(&all, &mut rng));
                    let params = params.unwrap_or_else(|| fault.params(&targets, &mut rng));
                    (targets, params)
                };
                let a = Active {
                    name: name.to_string(),
                    nodes: targets,
                    params,
                };
                self.invoke("start", &a).await?;
                let what = describe(&a, &all);
                self.active.lock().await.push(a);
                Ok(what)
            }
            "stop" => {
                // Without --nodes: every start of this fault, on the nodes it started on.
                let stopping: Vec<Active> = {
                    let active = self.active.lock().await;
                    let mine: Vec<Active> = active
                        .iter()
                        .filter(|a| a.name == name && nodes.as_ref().is_none_or(|n| *n == a.nodes))
                        .cloned()
                        .collect();
                    if mine.is_empty() {
                        let mut rng = self.rng.lock().await;
                        vec![Active {
                            name: name.to_string(),
                            nodes: nodes.unwrap_or_else(|| fault.targets(&all, &mut rng)),
                            params: Value::Null,
                        }]
                    } else {
                        mine
                    }
                };
                let mut undone = Vec::new();
                for a in stopping {
                    self.invoke("stop", &a).await?;
                    self.active
                        .lock()
                        .await
                        .retain(|x| !(x.name == a.name && x.nodes == a.nodes));
                    undone.push(format!("undone: {}", describe(&a, &all)));
                }
                Ok(undone.join("; "))
            }
            other => Err(format!("action {other:?}: use start or stop")),
        }
    }

    async fn heal(&self, node: Option<&str>) -> Result<String, String> {
        let Some(node) = node else {
            self.executor.heal_all().await.map_err(|e| e.to_string())?;
            self.active.lock().await.clear();
            return Ok("healed every fault".into());
        };
        let all = self.db.nodes();
        if !all.iter().any(|n| n == node) {
            return Err(format!("unknown node {node}: nodes are {}", all.join(", ")));
        }
        // Every fault that touches the node ends (a partition ends for every node in it).
        let touching: Vec<Active> = self
            .active
            .lock()
            .await
            .iter()
            .filter(|a| a.nodes.iter().any(|n| n == node))
            .cloned()
            .collect();
        for a in &touching {
            self.invoke("stop", a).await?;
        }
        self.active
            .lock()
            .await
            .retain(|a| !a.nodes.iter().any(|n| n == node));
        // And whatever else was done to the node by other means.
        let db = self.db.as_ref();
        if let Some(p) = db.as_pause() {
            p.resume(node).await.map_err(|e| e.to_string())?;
        }
        if let Some(k) = db.as_kill() {
            k.start(node).await.map_err(|e| e.to_string())?;
        }
        if let Some(c) = db.as_clock() {
            // Fails only where clocks cannot be skewed at all (no libfaketime).
            if let Err(e) = c.set_offset(node, 0).await {
                tracing::debug!("resetting {node}'s clock: {e}");
            }
        }
        if let Some(q) = db.as_net_quality() {
            q.heal_quality_of(node).await.map_err(|e| e.to_string())?;
        }
        Ok(format!("healed {node}"))
    }

    async fn status(&self) -> Value {
        let mut status = self.db.status().await;
        if !status.is_object() {
            status = json!({ "nodes": status });
        }
        let all = self.db.nodes();
        status["db"] = json!(self.db.name());
        status["endpoints"] = json!(self
            .endpoints
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>());
        status["active_faults"] = json!(self
            .active
            .lock()
            .await
            .iter()
            .map(|a| describe(a, &all))
            .collect::<Vec<_>>());
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(name: &str, nodes: &[&str], params: Value) -> Active {
        Active {
            name: name.into(),
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            params,
        }
    }

    #[test]
    fn active_faults_read_as_the_verbs_that_started_them() {
        let all: Vec<NodeId> = ["n1", "n2", "n3"].iter().map(|n| n.to_string()).collect();
        let cases = [
            (active("random_kill", &["n2"], Value::Null), "killed n2"),
            (active("pause_one", &["n1"], Value::Null), "paused n1"),
            (
                active("big_skews", &["n2"], json!({"offsets_ms": {"n2": 300}})),
                "skew n2 +300ms",
            ),
            (
                active("loss", &["n3"], json!({"percent": 20.0})),
                "loss n3 20%",
            ),
            (
                active("loss", &["n3"], json!({"percent": 12.5})),
                "loss n3 12.5%",
            ),
            (
                active("delay", &["n1"], json!({"delay_ms": 200, "jitter_ms": 50})),
                "delay n1 200ms jitter 50ms",
            ),
            (
                active("partition_one", &["n3"], Value::Null),
                "n3 drops n1,n2",
            ),
            (
                active("partition_link", &["n3", "n1"], Value::Null),
                "n3 drops n1",
            ),
            (
                active("bandwidth", &["n1"], json!({"kbit": 256})),
                "bandwidth n1",
            ),
        ];
        for (a, want) in cases {
            assert_eq!(describe(&a, &all), want);
        }
    }
}
