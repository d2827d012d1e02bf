//! The process and network capabilities of [`LocalGalera`]: kill -9 and start (recovering
//! the position first, see `recovery`), clean shutdown, SIGSTOP / SIGCONT, and partitions as
//! iptables rules in the nodes' namespaces ([`crate::netlab`]).

use super::LocalGalera;
use crate::netlab::node_index;
use async_trait::async_trait;
use faultline_core::db::{DbResult, Grudge, Kill, NodeId, Partition, Pause};

#[async_trait]
impl Kill for LocalGalera {
    async fn kill(&self, node: &str) -> DbResult<()> {
        let k = node_index(node)?;
        let p = self.nodes.lock().unwrap()[k - 1].process.take();
        if let Some(mut p) = p {
            tokio::task::spawn_blocking(move || p.kill()).await.ok();
        }
        Ok(())
    }

    async fn start(&self, node: &str) -> DbResult<()> {
        let k = node_index(node)?;
        if self.node_running(k) {
            return Ok(());
        }
        let mut extra = Vec::new();
        if self.opts.galera {
            // Recover the position first, or the node needs a full SST (one node down) or
            // the cluster silently restarts its history at seqno 0 (all nodes down).
            let pos = tokio::task::block_in_place(|| self.recover_position(k))?;
            if let Some(pos) = pos {
                extra.push(format!("--wsrep-start-position={pos}"));
            }
        }
        self.spawn_node(k, &extra)?;
        Ok(())
    }

    async fn shutdown(&self, node: &str) -> DbResult<()> {
        Ok(self.shutdown_node(node_index(node)?).await?)
    }

    async fn start_all(&self, nodes: &[NodeId]) -> DbResult<()> {
        let mut ks = Vec::new();
        for n in nodes {
            ks.push(node_index(n)?);
        }
        Ok(self.start_nodes(&ks).await?)
    }
}

#[async_trait]
impl Pause for LocalGalera {
    async fn pause(&self, node: &str) -> DbResult<()> {
        let k = node_index(node)?;
        match self.nodes.lock().unwrap()[k - 1].process.as_mut() {
            Some(p) => Ok(p.pause()?),
            None => Err(faultline_core::db::DbError(format!(
                "{node} is not running"
            ))),
        }
    }

    async fn resume(&self, node: &str) -> DbResult<()> {
        let k = node_index(node)?;
        if let Some(p) = self.nodes.lock().unwrap()[k - 1].process.as_mut() {
            p.resume()?;
        }
        Ok(())
    }
}

#[async_trait]
impl Partition for LocalGalera {
    async fn partition(&self, grudge: &Grudge) -> DbResult<()> {
        Ok(self.lab.lock().unwrap().partition(grudge)?)
    }

    async fn heal_network(&self) -> DbResult<()> {
        Ok(self.lab.lock().unwrap().heal()?)
    }
}
