//! The control daemon's side: one [`Daemon`] per cluster, answering [`Request`]s by calling
//! the cluster's capabilities and the nemesis catalogue, and remembering the faults it caused
//! (for `status` and `heal`).

use super::{Request, Response};
use faultline_cluster::LocalGalera;
use faultline_core::db::{Db, Grudge};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{watch, Mutex};

pub(super) struct Daemon {
    pub(super) cluster: Arc<LocalGalera>,
    pub(super) grudge: Mutex<Grudge>,
    pub(super) active: Mutex<BTreeSet<String>>,
    pub(super) stop: watch::Sender<bool>,
}

impl Daemon {
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
        let db: &dyn Db = self.cluster.as_ref();
        let result: Result<String, String> = match req {
            Request::Status => return Response::ok("status", self.status().await),
            Request::Kill { node } => match db.as_kill() {
                Some(k) => match k.kill(&node).await {
                    Ok(()) => Ok(self.mark(format!("killed {node}")).await),
                    Err(e) => Err(e.to_string()),
                },
                None => Err("this database cannot kill nodes".into()),
            },
            Request::Restart { node } => match db.as_kill() {
                Some(k) => match k.start(&node).await {
                    Ok(()) => Ok(self.unmark(&format!("killed {node}")).await),
                    Err(e) => Err(e.to_string()),
                },
                None => Err("this database cannot start nodes".into()),
            },
            Request::Pause { node } => match db.as_pause() {
                Some(p) => match p.pause(&node).await {
                    Ok(()) => Ok(self.mark(format!("paused {node}")).await),
                    Err(e) => Err(e.to_string()),
                },
                None => Err("this database cannot pause nodes".into()),
            },
            Request::Resume { node } => match db.as_pause() {
                Some(p) => match p.resume(&node).await {
                    Ok(()) => Ok(self.unmark(&format!("paused {node}")).await),
                    Err(e) => Err(e.to_string()),
                },
                None => Err("this database cannot pause nodes".into()),
            },
            Request::Partition { node, from } => self.partition(&node, from).await,
            Request::Skew { node, offset_ms } => match db.as_clock() {
                Some(c) => match c.set_offset(&node, offset_ms).await {
                    Ok(()) => Ok(self.mark(format!("skew {node} {offset_ms:+}ms")).await),
                    Err(e) => Err(e.to_string()),
                },
                None => Err("this database cannot shift clocks (is libfaketime installed?)".into()),
            },
            Request::Loss { node, percent } => match db.as_net_quality() {
                Some(q) => match q.set_loss(&node, percent).await {
                    Ok(()) => Ok(self.mark(format!("loss {node} {percent}%")).await),
                    Err(e) => Err(e.to_string()),
                },
                None => Err("this database cannot degrade links".into()),
            },
            Request::Delay {
                node,
                delay_ms,
                jitter_ms,
            } => match db.as_net_quality() {
                Some(q) => {
                    let (d, j) = (
                        std::time::Duration::from_millis(delay_ms),
                        std::time::Duration::from_millis(jitter_ms),
                    );
                    match q.set_delay(&node, d, j).await {
                        Ok(()) => {
                            // A new delay replaces the node's old one.
                            let old = format!("delay {node} ");
                            self.active.lock().await.retain(|a| !a.starts_with(&old));
                            if delay_ms == 0 && jitter_ms == 0 {
                                Ok(format!("undone: delay {node}"))
                            } else {
                                let what =
                                    format!("delay {node} {delay_ms}ms jitter {jitter_ms}ms");
                                Ok(self.mark(what).await)
                            }
                        }
                        Err(e) => Err(e.to_string()),
                    }
                }
                None => Err("this database cannot degrade links".into()),
            },
            Request::Heal { node } => self.heal(node.as_deref()).await,
            Request::Fault {
                name,
                action,
                nodes,
            } => self.fault(&name, &action, nodes).await,
            Request::Stop => {
                let _ = db.heal_all().await;
                let _ = db.teardown().await;
                let _ = self.stop.send(true);
                Ok("stopped: every node shut down, namespaces removed".into())
            }
        };
        match result {
            Ok(m) => Response::ok(m, Value::Null),
            Err(e) => Response::err(e),
        }
    }

    async fn mark(&self, what: String) -> String {
        self.active.lock().await.insert(what.clone());
        what
    }

    async fn unmark(&self, what: &str) -> String {
        self.active.lock().await.remove(what);
        format!("undone: {what}")
    }

    async fn partition(&self, node: &str, from: Option<Vec<String>>) -> Result<String, String> {
        let nodes = self.cluster.nodes();
        if !nodes.iter().any(|n| n == node) {
            return Err(format!(
                "unknown node {node}: nodes are {}",
                nodes.join(", ")
            ));
        }
        let others: Vec<String> =
            from.unwrap_or_else(|| nodes.iter().filter(|n| *n != node).cloned().collect());
        let mut grudge = self.grudge.lock().await;
        for o in &others {
            grudge
                .entry(node.to_string())
                .or_default()
                .insert(o.clone());
            grudge
                .entry(o.clone())
                .or_default()
                .insert(node.to_string());
        }
        let p = self
            .cluster
            .as_partition()
            .ok_or("this database cannot partition its nodes")?;
        p.partition(&grudge).await.map_err(|e| e.to_string())?;
        Ok(format!("partitioned {node} from {}", others.join(",")))
    }

    async fn heal(&self, node: Option<&str>) -> Result<String, String> {
        let db: &dyn Db = self.cluster.as_ref();
        match node {
            None => {
                db.heal_all().await.map_err(|e| e.to_string())?;
                self.grudge.lock().await.clear();
                self.active.lock().await.clear();
                Ok("healed every fault".into())
            }
            Some(node) => {
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
                let mut grudge = self.grudge.lock().await;
                grudge.remove(node);
                for enemies in grudge.values_mut() {
                    enemies.remove(node);
                }
                grudge.retain(|_, v| !v.is_empty());
                if let Some(p) = db.as_partition() {
                    p.partition(&grudge).await.map_err(|e| e.to_string())?;
                }
                self.active.lock().await.retain(|a| {
                    !a.split_whitespace()
                        .any(|w| w == node || w.split(',').any(|x| x == node))
                });
                Ok(format!("healed {node}"))
            }
        }
    }

    async fn fault(
        &self,
        name: &str,
        action: &str,
        nodes: Option<Vec<String>>,
    ) -> Result<String, String> {
        let faults = faultline_nemesis::lookup(&[name.to_string()]).map_err(|e| e.to_string())?;
        let fault = faults
            .into_iter()
            .next()
            .ok_or_else(|| format!("{name} is not a fault"))?;
        let db: &dyn Db = self.cluster.as_ref();
        if let Some(why) = fault.unsupported(db) {
            return Err(why);
        }
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(rand::random());
        match action {
            "start" => {
                let targets = nodes.unwrap_or_else(|| fault.targets(&db.nodes(), &mut rng));
                let params = fault.params(&targets, &mut rng);
                fault
                    .start_with(db, &targets, &params)
                    .await
                    .map_err(|e| e.to_string())?;
                let key = format!("{name} {}", targets.join(","));
                Ok(self.mark(key).await)
            }
            "stop" => {
                // Without --nodes: the nodes it was started on (every such start).
                let started: Vec<Vec<String>> = match nodes {
                    Some(n) => vec![n],
                    None => {
                        let prefix = format!("{name} ");
                        let active = self.active.lock().await;
                        let v: Vec<Vec<String>> = active
                            .iter()
                            .filter_map(|a| a.strip_prefix(&prefix))
                            .map(|n| n.split(',').map(str::to_string).collect())
                            .collect();
                        if v.is_empty() {
                            vec![fault.targets(&db.nodes(), &mut rng)]
                        } else {
                            v
                        }
                    }
                };
                let mut undone = Vec::new();
                for targets in started {
                    fault.stop(db, &targets).await.map_err(|e| e.to_string())?;
                    undone.push(self.unmark(&format!("{name} {}", targets.join(","))).await);
                }
                Ok(undone.join("; "))
            }
            other => Err(format!("action {other:?}: use start or stop")),
        }
    }

    async fn status(&self) -> Value {
        let statuses = self.cluster.statuses().await;
        let nodes: Vec<Value> = statuses
            .into_iter()
            .map(|(node, s)| {
                json!({
                    "node": node,
                    "pid": self.cluster.pid(&node),
                    "ready": s.is_synced(s.cluster_size.max(1)) && s.cluster_status == "Primary",
                    "state": s.state,
                    "cluster_status": s.cluster_status,
                    "cluster_size": s.cluster_size,
                    "partition_rules": self.cluster.partition_rules(&node).map(|r| r.len()).unwrap_or(0),
                })
            })
            .collect();
        json!({
            "db": self.cluster.name(),
            "lab": self.cluster.facts()["lab_prefix"],
            "endpoints": self.cluster.endpoints().iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "nodes": nodes,
            "active_faults": self.active.lock().await.iter().cloned()
                .chain(self.grudge.lock().await.iter().map(|(n, e)| format!("{n} drops {}", e.iter().cloned().collect::<Vec<_>>().join(","))))
                .collect::<Vec<_>>(),
        })
    }
}
