//! Link quality through the database's NetQuality capability: packet loss, a bandwidth
//! cap, and delay with jitter. On the local cluster loss is iptables' `statistic` match and
//! bandwidth a `tbf` qdisc; this kernel has no netem, so delay is the cluster's userspace
//! delay line (NFQUEUE, held packets released after delay ± jitter), and the `delay` fault
//! refuses to start where the database has none.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::Capability;
use faultline_core::db::{Db, DbError, DbResult, NetQuality, NodeId};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

fn quality_capability(db: &dyn Db) -> DbResult<&dyn NetQuality> {
    db.as_net_quality()
        .ok_or_else(|| DbError::new(format!("{} cannot degrade its links", db.name())))
}

fn unsupported(db: &dyn Db) -> Option<String> {
    if db.nodes().len() < 2 {
        return Some("link faults need at least two nodes".into());
    }
    quality_capability(db).err().map(|e| e.to_string())
}

async fn heal(db: &dyn Db) -> DbResult<()> {
    quality_capability(db)?.heal_quality().await
}

/// Drops a share of one node's packets to and from its peers.
pub struct Loss;

#[async_trait]
impl Fault for Loss {
    fn name(&self) -> &'static str {
        "loss"
    }
    fn description(&self) -> &'static str {
        "drop 10-40% of the packets between one random node and its peers (iptables statistic), restore at the end"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::NetQuality]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        unsupported(db)
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    fn params(&self, _targets: &[NodeId], rng: &mut ChaCha8Rng) -> Value {
        json!({ "percent": rng.random_range(10..=40u32) })
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_with(db, targets, &Value::Null).await
    }
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], params: &Value) -> DbResult<()> {
        let q = quality_capability(db)?;
        let percent = params["percent"].as_f64().unwrap_or(30.0);
        for n in targets {
            q.set_loss(n, percent).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, _targets: &[NodeId]) -> DbResult<()> {
        heal(db).await
    }
}

/// Caps one node's bandwidth.
pub struct Bandwidth;

#[async_trait]
impl Fault for Bandwidth {
    fn name(&self) -> &'static str {
        "bandwidth"
    }
    fn description(&self) -> &'static str {
        "cap one random node's traffic at 64-1024 kbit/s each way (tbf qdisc), lift the cap at the end"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::NetQuality]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        unsupported(db)
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    fn params(&self, _targets: &[NodeId], rng: &mut ChaCha8Rng) -> Value {
        let kbit = [64u32, 128, 256, 512, 1024][rng.random_range(0..5)];
        json!({ "kbit": kbit })
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_with(db, targets, &Value::Null).await
    }
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], params: &Value) -> DbResult<()> {
        let q = quality_capability(db)?;
        let kbit = params["kbit"].as_u64().unwrap_or(256) as u32;
        for n in targets {
            q.set_bandwidth(n, kbit).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, _targets: &[NodeId]) -> DbResult<()> {
        heal(db).await
    }
}

/// Delays one node's packets to and from its peers, with jitter.
pub struct Delay;

#[async_trait]
impl Fault for Delay {
    fn name(&self) -> &'static str {
        "delay"
    }
    fn description(&self) -> &'static str {
        "delay the packets between one random node and its peers by 50-500 ms ± up to half that (NFQUEUE delay line), restore at the end"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::NetQuality]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        unsupported(db).or_else(|| db.as_net_quality().and_then(|q| q.delay_unsupported()))
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    fn params(&self, _targets: &[NodeId], rng: &mut ChaCha8Rng) -> Value {
        let delay = rng.random_range(50..=500u64);
        json!({ "delay_ms": delay, "jitter_ms": rng.random_range(0..=delay / 2) })
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_with(db, targets, &Value::Null).await
    }
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], params: &Value) -> DbResult<()> {
        let q = quality_capability(db)?;
        let delay = Duration::from_millis(params["delay_ms"].as_u64().unwrap_or(200));
        let jitter = Duration::from_millis(params["jitter_ms"].as_u64().unwrap_or(50));
        for n in targets {
            q.set_delay(n, delay, jitter).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, _targets: &[NodeId]) -> DbResult<()> {
        heal(db).await
    }
}
