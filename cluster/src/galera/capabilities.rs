//! The fault capabilities of [`LocalGalera`] beyond kill, pause and partition: wall clocks
//! through libfaketime ([`super::clock`]) and link quality (loss and bandwidth in the network
//! lab, [`crate::quality`]; delay with jitter through the NFQUEUE delay line of
//! [`crate::delayline`], as this kernel has no netem).

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

    /// The delay rules (iptables raw table) in a node's namespace; empty when healed.
    pub fn delay_rules(&self, node: &str) -> Result<Vec<String>> {
        self.lab.lock().unwrap().delay_rules(node_index(node)?)
    }

    /// Whether the delay line thread of a node is still running in this process.
    pub fn delay_listener_running(&self, node: &str) -> Result<bool> {
        let ns = self.lab.lock().unwrap().namespace(node_index(node)?);
        Ok(crate::delayline::listener_running(&ns))
    }

    /// How long one TCP connect from `from`'s namespace to `to`'s Galera port (4567) takes.
    pub fn connect_time(&self, from: &str, to: &str) -> Result<Duration> {
        let lab = self.lab.lock().unwrap();
        let ns = lab.namespace(node_index(from)?);
        let peer = std::net::SocketAddr::from((lab.address(node_index(to)?), 4567));
        drop(lab);
        crate::delayline::connect_time(&ns, peer)
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

    async fn set_delay(&self, node: &str, delay: Duration, jitter: Duration) -> DbResult<()> {
        let k = node_index(node)?;
        Ok(self.lab.lock().unwrap().set_delay(k, delay, jitter)?)
    }

    fn delay_unsupported(&self) -> Option<String> {
        crate::delayline::unsupported()
    }

    async fn heal_quality(&self) -> DbResult<()> {
        Ok(self.lab.lock().unwrap().heal_quality()?)
    }

    async fn heal_quality_of(&self, node: &str) -> DbResult<()> {
        let k = node_index(node)?;
        Ok(self.lab.lock().unwrap().heal_quality_of(k)?)
    }
}
