//! The fault capabilities of [`LocalGalera`] beyond kill, pause and partition: wall clocks
//! through libfaketime ([`super::clock`]) and link quality (loss and bandwidth in the network
//! lab, [`crate::quality`]). Delay is not available: no netem in this kernel.

use super::{admin, clock, LocalGalera};
use crate::netlab::node_index;
use crate::{ClusterError, Result};
use async_trait::async_trait;
use faultline_core::db::{Clock, DbResult, NetQuality};
use std::time::Duration;

impl LocalGalera {
    /// Runs one query as root on `node` and returns the first column of its first row, e.g.
    /// `SELECT UNIX_TIMESTAMP(NOW(6))`.
    pub async fn query_value(&self, node: &str, sql: &str) -> Result<Option<String>> {
        let k = node_index(node)?;
        admin::query_value(&self.socket(k), sql)
            .await
            .map_err(ClusterError::Other)
    }

    /// The loss rules (iptables mangle table) in a node's namespace; empty when healed.
    pub fn loss_rules(&self, node: &str) -> Result<Vec<String>> {
        self.lab.lock().unwrap().loss_rules(node_index(node)?)
    }

    /// The root qdiscs of a node's eth0 and veth, as `tc qdisc show` prints them.
    pub fn qdiscs(&self, node: &str) -> Result<Vec<String>> {
        self.lab.lock().unwrap().qdiscs(node_index(node)?)
    }

    /// The offset currently written in a node's libfaketime file (e.g. `+0.250`).
    pub fn clock_offset(&self, node: &str) -> Result<String> {
        let dir = self.node_dir(node_index(node)?);
        std::fs::read_to_string(clock::offset_file(&dir))
            .map(|s| s.trim().to_string())
            .map_err(|source| ClusterError::Io {
                context: format!("reading the clock offset of {node}"),
                source,
            })
    }

    fn clock_dir(&self, node: &str) -> Result<std::path::PathBuf> {
        if !self.faketime {
            return Err(ClusterError::Missing(format!(
                "clock faults need libfaketime ({} is missing): apt-get install -y libfaketime",
                clock::LIBFAKETIME
            )));
        }
        Ok(self.node_dir(node_index(node)?))
    }
}

#[async_trait]
impl Clock for LocalGalera {
    async fn set_offset(&self, node: &str, offset_ms: i64) -> DbResult<()> {
        let dir = self.clock_dir(node)?;
        self.strobes.stop(&dir);
        Ok(clock::write_offset(&dir, offset_ms)?)
    }

    async fn strobe(&self, node: &str, offset_ms: i64, period: Duration) -> DbResult<()> {
        let dir = self.clock_dir(node)?;
        self.strobes.start(&dir, offset_ms, period);
        Ok(())
    }

    async fn reset_clocks(&self) -> DbResult<()> {
        self.strobes.stop_all();
        for node in faultline_core::db::Db::nodes(self) {
            clock::write_offset(&self.clock_dir(&node)?, 0)?;
        }
        Ok(())
    }
}

#[async_trait]
impl NetQuality for LocalGalera {
    async fn set_loss(&self, node: &str, percent: f64) -> DbResult<()> {
        let k = node_index(node)?;
        Ok(self.lab.lock().unwrap().set_loss(k, percent)?)
    }

    async fn set_bandwidth(&self, node: &str, kbit: u32) -> DbResult<()> {
        let k = node_index(node)?;
        Ok(self.lab.lock().unwrap().set_bandwidth(k, kbit)?)
    }

    fn delay_unsupported(&self) -> Option<String> {
        Some(
            "local-galera cannot delay packets yet: this kernel has no netem qdisc, and the \
             userspace delay line (NFQUEUE) is not written"
                .into(),
        )
    }

    async fn heal_quality(&self) -> DbResult<()> {
        Ok(self.lab.lock().unwrap().heal_quality()?)
    }
}
