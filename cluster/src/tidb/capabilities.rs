//! What a nemesis can do to a [`TidbPlayground`]: kill -9 and restart a component with the
//! same flags and data dir, SIGSTOP/SIGCONT it, cut links at the proxies, ask PD who leads.

use super::components::Role;
use super::{loopback, pd_api, TidbPlayground};
use crate::ClusterError;
use async_trait::async_trait;
use faultline_core::db::{Db, DbError, DbResult, Grudge, Kill, Leader, NodeId, Partition, Pause};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

#[async_trait]
impl Db for TidbPlayground {
    fn name(&self) -> &str {
        "tidb-playground"
    }

    fn nodes(&self) -> Vec<NodeId> {
        self.names(None)
    }

    fn client_nodes(&self) -> Vec<NodeId> {
        self.names(Some(Role::Tidb))
    }

    async fn heal_all(&self) -> DbResult<()> {
        let mut errors = Vec::new();
        for node in self.nodes() {
            let paused = self.with(&node, |c| c.process.as_ref().is_some_and(|p| p.is_paused()))?;
            if paused {
                if let Err(e) = self.resume(&node).await {
                    errors.push(e.to_string());
                }
            }
        }
        self.links.heal();
        if let Err(e) = self.start_all(&self.nodes()).await {
            errors.push(e.to_string());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DbError::new(errors.join("; ")))
        }
    }

    async fn wait_ready(&self, timeout: Duration) -> DbResult<()> {
        let deadline = Instant::now() + timeout;
        for role in [Role::Pd, Role::Tikv, Role::Tidb] {
            self.wait_role(role, deadline).await?;
        }
        Ok(())
    }

    async fn teardown(&self) -> DbResult<()> {
        for h in self.teardown_now() {
            // Aborted: awaiting makes sure the listening socket is closed.
            let _ = h.await;
        }
        Ok(())
    }

    fn facts(&self) -> Value {
        let comps = self.components.lock().unwrap();
        json!({
            "db": "tidb-playground",
            "verified_against_real_tidb": false,
            "nodes": comps.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "binaries": comps.iter().map(|c| (c.name.clone(), c.program.clone())).collect::<std::collections::BTreeMap<_, _>>(),
            "network": "loopback; every advertised address is a TCP proxy of the harness, which cuts partitioned pairs",
            "lab_prefix": self.prefix,
            "temp_dir": self.dir,
        })
    }

    fn collect_logs(&self, dest: &Path) -> DbResult<()> {
        for c in self.components.lock().unwrap().iter() {
            let to = dest.join(&c.name);
            std::fs::create_dir_all(&to).map_err(|e| DbError::new(e.to_string()))?;
            for file in [super::Layout::log_name(c.role), "stdout.log"] {
                let from = c.dir.join(file);
                if from.exists() {
                    let _ = std::fs::copy(&from, to.join(file));
                }
            }
        }
        Ok(())
    }

    fn as_kill(&self) -> Option<&dyn Kill> {
        Some(self)
    }
    fn as_pause(&self) -> Option<&dyn Pause> {
        Some(self)
    }
    fn as_partition(&self) -> Option<&dyn Partition> {
        Some(self)
    }
    fn as_leader(&self) -> Option<&dyn Leader> {
        Some(self)
    }
}

#[async_trait]
impl Kill for TidbPlayground {
    async fn kill(&self, node: &str) -> DbResult<()> {
        let p = self.with(node, |c| c.process.take())?;
        self.links.forget_owner(node);
        if let Some(mut p) = p {
            tokio::task::spawn_blocking(move || p.kill()).await.ok();
        }
        Ok(())
    }

    async fn start(&self, node: &str) -> DbResult<()> {
        if self.running(node) {
            return Ok(());
        }
        Ok(self.spawn(node)?)
    }

    async fn shutdown(&self, node: &str) -> DbResult<()> {
        let p = self.with(node, |c| c.process.take())?;
        self.links.forget_owner(node);
        if let Some(mut p) = p {
            tokio::task::spawn_blocking(move || p.stop(Duration::from_secs(30)))
                .await
                .ok();
        }
        Ok(())
    }
}

#[async_trait]
impl Pause for TidbPlayground {
    async fn pause(&self, node: &str) -> DbResult<()> {
        self.with(node, |c| match c.process.as_mut() {
            Some(p) => p.pause(),
            None => Err(ClusterError::Other(format!("{node} is not running"))),
        })??;
        Ok(())
    }

    async fn resume(&self, node: &str) -> DbResult<()> {
        self.with(node, |c| c.process.as_mut().map(|p| p.resume()))?
            .transpose()?;
        Ok(())
    }
}

#[async_trait]
impl Partition for TidbPlayground {
    async fn partition(&self, grudge: &Grudge) -> DbResult<()> {
        let nodes = self.nodes();
        for n in grudge.keys().chain(grudge.values().flatten()) {
            if !nodes.contains(n) {
                return Err(DbError::new(format!("no node {n} in this TiDB cluster")));
            }
        }
        self.links.partition(grudge);
        Ok(())
    }

    async fn heal_network(&self) -> DbResult<()> {
        self.links.heal();
        Ok(())
    }
}

#[async_trait]
impl Leader for TidbPlayground {
    /// `pd`: asks each running PD in turn (on its real client port) and returns the first
    /// answer. During a partition a PD on the minority side may still name an old leader.
    async fn leader(&self, role: &str) -> DbResult<NodeId> {
        if role != "pd" {
            return Err(DbError::new(format!(
                "tidb-playground knows the leader of pd only, not of {role:?}"
            )));
        }
        let mut errors = Vec::new();
        for (k, p) in self.layout.pd.iter().enumerate() {
            if !self.running(&format!("pd-{k}")) {
                continue;
            }
            match pd_api::leader(loopback(p.client)).await {
                Ok(name) if self.nodes().contains(&name) => return Ok(name),
                Ok(name) => errors.push(format!("pd-{k} named {name:?}, not a member")),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(DbError::new(format!(
            "no PD named its leader: {}",
            if errors.is_empty() {
                "no PD is running".into()
            } else {
                errors.join("; ")
            }
        )))
    }
}
