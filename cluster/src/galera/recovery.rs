//! Restarting nodes: clean shutdown, restarting some nodes, and whole-cluster recovery after
//! every node crashed.
//!
//! Whole-cluster recovery keeps the cluster's history (state UUID and seqno):
//! * Procedure A (automatic, pc.recovery): recover every node's position with
//!   `--wsrep-recover`, start every node with `--wsrep-start-position` and *without*
//!   `--wsrep-new-cluster`; each node restores its last primary view from `gvwstate.dat` and
//!   the primary component re-forms once all its members are back (seen: ~3 s).
//! * Procedure B (fallback when A has not formed a primary component within
//!   [`PROCEDURE_A_TIMEOUT`]): stop every node, recover positions again, mark the node with
//!   the highest seqno `safe_to_bootstrap: 1`, bootstrap it with `--wsrep-new-cluster`, then
//!   start the others, which rejoin by IST.
//!
//! When some nodes still run but none is in a primary component (a majority was killed),
//! the restarted nodes and the survivors normally re-form it through pc.recovery too; if
//! they have not within [`PROCEDURE_A_TIMEOUT`], the most advanced running node is told
//! `pc.bootstrap=YES`.

use super::{admin, LocalGalera};
use crate::{ClusterError, Result};
use std::time::{Duration, Instant};

/// How long pc.recovery gets to re-form the primary component before the fallback.
pub const PROCEDURE_A_TIMEOUT: Duration = Duration::from_secs(40);
/// How long a clean shutdown may take before it becomes kill -9.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

/// `uuid:seqno` -> seqno (-1 when unknown).
fn seqno(position: &Option<String>) -> i64 {
    position
        .as_deref()
        .and_then(|p| p.rsplit(':').next())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(-1)
}

impl LocalGalera {
    /// SIGTERM and wait for mariadbd to exit (kill -9 after [`SHUTDOWN_GRACE`]).
    pub(super) async fn shutdown_node(&self, k: usize) -> Result<()> {
        let p = self.nodes.lock().unwrap()[k - 1].process.take();
        if let Some(mut p) = p {
            let clean = tokio::task::spawn_blocking(move || p.stop(SHUTDOWN_GRACE))
                .await
                .unwrap_or(false);
            if !clean {
                tracing::warn!(node = k, "mariadbd did not shut down cleanly; killed it");
            }
        }
        Ok(())
    }

    fn running(&self) -> Vec<usize> {
        let n = self.nodes.lock().unwrap().len();
        (1..=n).filter(|&k| self.node_running(k)).collect()
    }

    fn start_with_position(&self, k: usize, pos: &Option<String>, new_cluster: bool) -> Result<()> {
        let mut extra = Vec::new();
        if new_cluster {
            extra.push("--wsrep-new-cluster".to_string());
        }
        if let Some(pos) = pos {
            extra.push(format!("--wsrep-start-position={pos}"));
        }
        self.spawn_node(k, &extra)
    }

    /// After a heal on FUSE data dirs: a node restarted after an io_error may die again at
    /// once, because the kernel keeps a failed writeback's EIO for that file's next fsync or
    /// msync, even by a new process (seen: Galera's msync of its gcache fails, "Failed to
    /// load provider", Aborting). Such a node is started again, up to twice, and said in the
    /// log; a node that keeps dying, or one still joining at the deadline, is left for
    /// `wait_ready` to report.
    pub(super) async fn restart_nodes_that_died_at_start(&self, timeout: Duration) -> Result<()> {
        let n = self.nodes.lock().unwrap().len();
        let all: Vec<usize> = (1..=n).collect();
        for _ in 0..2 {
            let Err(e) = self.wait_nodes(&all, n as u32, timeout).await else {
                return Ok(());
            };
            let running = self.running();
            let dead: Vec<usize> = all
                .iter()
                .copied()
                .filter(|k| !running.contains(k))
                .collect();
            if dead.is_empty() {
                return Ok(());
            }
            tracing::warn!(
                "{:?} died on the first start after a disk fault ({e}); starting again",
                dead.iter().map(|k| format!("n{k}")).collect::<Vec<_>>()
            );
            self.start_nodes(&dead).await?;
        }
        Ok(())
    }

    /// Starts the stopped nodes among `ks`: one by one while others run, or a whole-cluster
    /// recovery when no node runs. Waits for a primary component only when quorum was lost.
    pub(super) async fn start_nodes(&self, ks: &[usize]) -> Result<()> {
        let running = self.running();
        let stopped: Vec<usize> = ks
            .iter()
            .copied()
            .filter(|k| !running.contains(k))
            .collect();
        if stopped.is_empty() {
            return Ok(());
        }
        if !self.opts.galera {
            for &k in &stopped {
                self.spawn_node(k, &[])?;
            }
            return Ok(());
        }
        let n = self.nodes.lock().unwrap().len();
        if running.is_empty() && stopped.len() == n {
            return self.recover_cluster().await;
        }
        let mut quorum = false;
        for &k in &running {
            quorum |= admin::status(&self.socket(k)).await.cluster_status == "Primary";
        }
        for &k in &stopped {
            let pos = tokio::task::block_in_place(|| self.recover_position(k))?;
            self.start_with_position(k, &pos, false)?;
        }
        if !quorum && !running.is_empty() {
            self.regain_quorum().await?;
        }
        Ok(())
    }

    /// After a majority crash: waits for pc.recovery, then bootstraps the most advanced node.
    async fn regain_quorum(&self) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < PROCEDURE_A_TIMEOUT {
            for k in self.running() {
                if admin::status(&self.socket(k)).await.cluster_status == "Primary" {
                    tracing::info!(
                        "primary component re-formed {:.1}s after the restart",
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let mut best = None;
        for k in self.running() {
            let s = admin::status(&self.socket(k)).await;
            if s.reachable && best.is_none_or(|(_, c)| s.last_committed > c) {
                best = Some((k, s.last_committed));
            }
        }
        let (k, seq) = best.ok_or_else(|| ClusterError::Other("no node answers".into()))?;
        tracing::warn!("no primary component after {PROCEDURE_A_TIMEOUT:?}: pc.bootstrap on n{k} (seqno {seq})");
        admin::execute(
            &self.socket(k),
            &["SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"],
        )
        .await
        .map_err(ClusterError::Other)
    }

    /// Whole-cluster recovery after every node stopped; see the module docs.
    async fn recover_cluster(&self) -> Result<()> {
        let n = self.nodes.lock().unwrap().len();
        let all: Vec<usize> = (1..=n).collect();
        let started = Instant::now();
        let mut positions = Vec::new();
        for &k in &all {
            positions.push(tokio::task::block_in_place(|| self.recover_position(k))?);
        }
        tracing::info!("whole-cluster recovery, positions {positions:?}");
        for &k in &all {
            self.start_with_position(k, &positions[k - 1], false)?;
        }
        match self.wait_nodes(&all, n as u32, PROCEDURE_A_TIMEOUT).await {
            Ok(()) => {
                tracing::info!(
                    "cluster recovered by pc.recovery in {:.1}s",
                    started.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            Err(e) => tracing::warn!("pc.recovery did not re-form the cluster ({e}); bootstrapping the most advanced node"),
        }
        for &k in &all {
            self.shutdown_node(k).await?;
        }
        let mut positions = Vec::new();
        for &k in &all {
            positions.push(tokio::task::block_in_place(|| self.recover_position(k))?);
        }
        let b = all
            .iter()
            .copied()
            .max_by_key(|&k| seqno(&positions[k - 1]))
            .unwrap_or(1);
        let grastate = self.node_dir(b).join("data").join("grastate.dat");
        let text = std::fs::read_to_string(&grastate).map_err(|source| ClusterError::Io {
            context: format!("reading {}", grastate.display()),
            source,
        })?;
        std::fs::write(
            &grastate,
            text.replace("safe_to_bootstrap: 0", "safe_to_bootstrap: 1"),
        )
        .map_err(|source| ClusterError::Io {
            context: format!("writing {}", grastate.display()),
            source,
        })?;
        self.start_with_position(b, &positions[b - 1], true)?;
        self.wait_nodes(&[b], 1, self.opts.start_timeout).await?;
        for &k in all.iter().filter(|&&k| k != b) {
            self.start_with_position(k, &positions[k - 1], false)?;
        }
        self.wait_nodes(&all, n as u32, self.opts.start_timeout)
            .await?;
        tracing::info!(
            "cluster recovered by bootstrapping n{b} in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn seqno_of_a_position() {
        assert_eq!(super::seqno(&Some("5cedb804-aa:2154".into())), 2154);
        assert_eq!(super::seqno(&Some("5cedb804-aa:-1".into())), -1);
        assert_eq!(super::seqno(&None), -1);
    }
}
