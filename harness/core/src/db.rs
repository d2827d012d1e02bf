//! The narrow protocols a test is made of, after Jepsen's Client / DB / Nemesis.
//!
//! * [`Client`]: turns one [`Invocation`] into calls on the system under test and classifies
//!   the outcome as ok, fail or info. One client per worker, one connection per client.
//! * [`Db`]: the system under test as a whole (nodes, setup, teardown, readiness) plus optional
//!   capabilities, each its own trait: [`Kill`], [`Pause`], [`Partition`], [`Clock`],
//!   [`NetQuality`], [`Leader`], [`Disk`]. A nemesis asks for the capability it needs and
//!   refuses to start when the database lacks it.
//! * [`Nemesis`]: executes nemesis invocations (start or stop a fault) and heals everything.

use crate::op::{Invocation, OpType};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A node's name: n1, n2, ...
pub type NodeId = String;

/// What a system can have done to it, one per capability trait. A fault declares the ones
/// it needs ([`Db::capabilities`] says which a running system has); a run tells the recipe
/// which it will need before the system starts, so that, e.g., data dirs go on a FUSE
/// passthrough only when a disk fault is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Kill,
    Pause,
    Partition,
    Clock,
    NetQuality,
    Leader,
    Disk,
    Stress,
}

impl Capability {
    pub fn name(self) -> &'static str {
        match self {
            Capability::Kill => "kill",
            Capability::Pause => "pause",
            Capability::Partition => "partition",
            Capability::Clock => "clock",
            Capability::NetQuality => "net_quality",
            Capability::Leader => "leader",
            Capability::Disk => "disk",
            Capability::Stress => "stress",
        }
    }
}

/// For each node, the set of nodes whose traffic it drops (Jepsen's "grudge").
pub type Grudge = BTreeMap<NodeId, BTreeSet<NodeId>>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbError(pub String);

impl DbError {
    pub fn new(msg: impl Into<String>) -> Self {
        DbError(msg.into())
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// How an invocation ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// `Ok`, `Fail` or `Info`; never `Invoke`.
    pub kind: OpType,
    /// The result (a read's values); `None` keeps the invocation's value.
    pub value: Option<Value>,
    pub error: Option<String>,
}

impl Completion {
    pub fn ok(value: Option<Value>) -> Self {
        Completion {
            kind: OpType::Ok,
            value,
            error: None,
        }
    }
    pub fn fail(error: impl Into<String>) -> Self {
        Completion {
            kind: OpType::Fail,
            value: None,
            error: Some(error.into()),
        }
    }
    pub fn info(error: impl Into<String>) -> Self {
        Completion {
            kind: OpType::Info,
            value: None,
            error: Some(error.into()),
        }
    }
}

/// One logical client. The runner calls `invoke` under a timeout; when the timeout fires it
/// drops the future and calls [`Client::reset`], so the next `invoke` reconnects.
#[async_trait]
pub trait Client: Send {
    async fn invoke(&mut self, op: &Invocation) -> Completion;
    /// Drops the connection (after a timeout or a broken connection).
    fn reset(&mut self);
    /// True when `op` has no side effects: a timed-out read is then `fail`, not `info`.
    fn is_read_only(&self, _op: &Invocation) -> bool {
        false
    }
}

/// The system under test.
#[async_trait]
pub trait Db: Send + Sync {
    /// Short name, e.g. `local-galera`.
    fn name(&self) -> &str;
    fn nodes(&self) -> Vec<NodeId>;
    /// The nodes clients talk to (every node by default). Faults still target all of
    /// [`Db::nodes`]: on a TiDB playground clients reach only the tidb-* servers, while a
    /// partition or kill may hit pd-* and tikv-* too.
    fn client_nodes(&self) -> Vec<NodeId> {
        self.nodes()
    }
    /// Undoes every fault this database knows of (resume, restart, heal network, reset clocks).
    async fn heal_all(&self) -> DbResult<()>;
    /// Waits until every node serves queries.
    async fn wait_ready(&self, timeout: Duration) -> DbResult<()>;
    /// Stops every process and removes everything the database created.
    async fn teardown(&self) -> DbResult<()>;
    /// `--keep-on-failure`: leaves the (healed) system running when this process exits
    /// instead of tearing it down, and says how to reach it and how to remove it. A system
    /// that cannot outlive the harness says why; it is then torn down as usual.
    fn keep(&self) -> DbResult<String> {
        Err(DbError(format!(
            "{} cannot be kept up after the run",
            self.name()
        )))
    }
    /// Versions and other facts for test.json.
    fn facts(&self) -> Value {
        Value::Null
    }
    /// Copies each node's logs into `dest/<node>/` (the run's `nodes/` folder).
    fn collect_logs(&self, _dest: &std::path::Path) -> DbResult<()> {
        Ok(())
    }
    fn as_kill(&self) -> Option<&dyn Kill> {
        None
    }
    fn as_pause(&self) -> Option<&dyn Pause> {
        None
    }
    fn as_partition(&self) -> Option<&dyn Partition> {
        None
    }
    fn as_clock(&self) -> Option<&dyn Clock> {
        None
    }
    fn as_net_quality(&self) -> Option<&dyn NetQuality> {
        None
    }
    fn as_leader(&self) -> Option<&dyn Leader> {
        None
    }
    fn as_disk(&self) -> Option<&dyn Disk> {
        None
    }
    fn as_stress(&self) -> Option<&dyn Stress> {
        None
    }
    /// Why this system has no `capability`, when it can say more than "it has none" (a
    /// fault that needs it is refused with this reason, e.g. "etcd is a Go binary:
    /// libfaketime cannot shift its clock").
    fn lacks(&self, _capability: Capability) -> Option<String> {
        None
    }
    /// What to look for in this system's node logs (crashes, errors, notes); recorded in
    /// test.json and used to scan the logs `collect_logs` kept.
    fn log_patterns(&self) -> Vec<crate::log_pattern::LogPattern> {
        crate::log_pattern::generic_patterns()
    }
    /// The capabilities this system has, from the `as_*` methods.
    fn capabilities(&self) -> BTreeSet<Capability> {
        let mut c = BTreeSet::new();
        let has = [
            (Capability::Kill, self.as_kill().is_some()),
            (Capability::Pause, self.as_pause().is_some()),
            (Capability::Partition, self.as_partition().is_some()),
            (Capability::Clock, self.as_clock().is_some()),
            (Capability::NetQuality, self.as_net_quality().is_some()),
            (Capability::Leader, self.as_leader().is_some()),
            (Capability::Disk, self.as_disk().is_some()),
            (Capability::Stress, self.as_stress().is_some()),
        ];
        for (cap, yes) in has {
            if yes {
                c.insert(cap);
            }
        }
        c
    }
    /// What `faultline cluster status` shows of each node (pid, state, membership...), as
    /// the system knows it. The default lists the nodes.
    async fn status(&self) -> Value {
        serde_json::json!({ "nodes": self.nodes() })
    }
}

/// Crash (kill -9) and start nodes.
#[async_trait]
pub trait Kill: Send + Sync {
    async fn kill(&self, node: &str) -> DbResult<()>;
    /// Starts a killed node so it rejoins (recovering its position first where that matters).
    async fn start(&self, node: &str) -> DbResult<()>;
    /// Clean shutdown (SIGTERM and wait); a database without one crashes the node instead.
    async fn shutdown(&self, node: &str) -> DbResult<()> {
        self.kill(node).await
    }
    /// Starts every stopped node of `nodes`. When no node of the cluster is left running this
    /// is a whole-cluster recovery, which must keep the cluster's history.
    async fn start_all(&self, nodes: &[NodeId]) -> DbResult<()> {
        for n in nodes {
            self.start(n).await?;
        }
        Ok(())
    }
}

/// Freeze (SIGSTOP) and thaw (SIGCONT) nodes.
#[async_trait]
pub trait Pause: Send + Sync {
    async fn pause(&self, node: &str) -> DbResult<()>;
    async fn resume(&self, node: &str) -> DbResult<()>;
}

/// Cut links between nodes.
#[async_trait]
pub trait Partition: Send + Sync {
    /// Replaces the current partition with `grudge`.
    async fn partition(&self, grudge: &Grudge) -> DbResult<()>;
    /// Removes every partition rule.
    async fn heal_network(&self) -> DbResult<()>;
}

/// Shift nodes' wall clocks (the monotonic clock is left alone).
#[async_trait]
pub trait Clock: Send + Sync {
    /// Sets `node`'s wall clock to true time plus `offset_ms` (negative: behind).
    async fn set_offset(&self, node: &str, offset_ms: i64) -> DbResult<()>;
    /// Flips `node`'s wall clock between true time and true time plus `offset_ms` every
    /// `period` until [`Clock::reset_clocks`] (Jepsen's strobe).
    async fn strobe(&self, node: &str, offset_ms: i64, period: Duration) -> DbResult<()>;
    /// Every node back to true time, strobes stopped.
    async fn reset_clocks(&self) -> DbResult<()>;
}

/// Degrade links between nodes: packet loss, a bandwidth cap, delay with jitter.
#[async_trait]
pub trait NetQuality: Send + Sync {
    /// Drops `percent` (0-100) of the packets between `node` and the other nodes, both ways.
    async fn set_loss(&self, node: &str, percent: f64) -> DbResult<()>;
    /// Caps `node`'s traffic at `kbit` kbit/s in each direction.
    async fn set_bandwidth(&self, node: &str, kbit: u32) -> DbResult<()>;
    /// Why delay is not available, if it is not.
    fn delay_unsupported(&self) -> Option<String> {
        Some("this database cannot delay packets".into())
    }
    /// Holds each packet between `node` and the other nodes for `delay` ± `jitter`.
    async fn set_delay(&self, node: &str, delay: Duration, jitter: Duration) -> DbResult<()> {
        let _ = (node, delay, jitter);
        Err(DbError::new(
            self.delay_unsupported()
                .unwrap_or_else(|| "delay is not implemented".into()),
        ))
    }
    /// Removes every loss rule, bandwidth cap and delay.
    async fn heal_quality(&self) -> DbResult<()>;
    /// Removes `node`'s loss rules, bandwidth cap and delay, leaving other nodes' alone.
    /// The default heals every node (more than asked, never less).
    async fn heal_quality_of(&self, node: &str) -> DbResult<()> {
        let _ = node;
        self.heal_quality().await
    }
}

/// What a node's disk does to its file operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DiskFault {
    /// Every operation goes through untouched.
    #[default]
    None,
    /// Each read, write and fsync waits `ms` milliseconds first.
    Delay { ms: u64 },
    /// `percent` (0-100) of writes and fsyncs fail with EIO.
    Error { percent: u8 },
    /// Every operation blocks until the fault is healed.
    Hang,
    /// Writes that grow a file and file creation fail with ENOSPC; statfs says 0 free.
    Full,
}

/// Make nodes' disks slow, failing, hung or full.
#[async_trait]
pub trait Disk: Send + Sync {
    /// Replaces `node`'s disk fault with `fault` (`DiskFault::None` heals that node).
    async fn set_disk_fault(&self, node: &str, fault: DiskFault) -> DbResult<()>;
    /// Every node's disk back to `DiskFault::None`; operations blocked by a hang complete.
    async fn heal_disks(&self) -> DbResult<()>;
}

/// CPU or memory pressure inside a node (Chaos Mesh's StressChaos: stress-ng next to the
/// server process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StressLoad {
    /// `workers` busy loops, each at `load` percent (0-100) of a CPU.
    Cpu { workers: u32, load: u8 },
    /// One worker holding `mb` MiB of memory.
    Memory { mb: u64 },
}

/// Put nodes under CPU or memory pressure.
#[async_trait]
pub trait Stress: Send + Sync {
    /// Adds `load` on `node` until healed.
    async fn stress(&self, node: &str, load: StressLoad) -> DbResult<()>;
    /// Every stress on every node removed.
    async fn heal_stress(&self) -> DbResult<()>;
}

/// The fault injector. Invocations are `start` / `stop` with a value naming the fault and
/// its targets; the nemesis records what it did in the completion's value.
#[async_trait]
pub trait Nemesis: Send + Sync {
    async fn invoke(&self, op: &Invocation) -> Completion;
    /// Ends every fault still active. Must be safe to call at any time, repeatedly.
    async fn heal_all(&self) -> DbResult<()>;
}

/// Splits `nodes` so that every node in `isolated` drops traffic from every node outside it,
/// and the other way round: a symmetric partition into two sides.
pub fn grudge_isolating(nodes: &[NodeId], isolated: &[NodeId]) -> Grudge {
    let inside: BTreeSet<NodeId> = isolated.iter().cloned().collect();
    let outside: BTreeSet<NodeId> = nodes
        .iter()
        .filter(|n| !inside.contains(*n))
        .cloned()
        .collect();
    let mut grudge = Grudge::new();
    for n in &inside {
        grudge.insert(n.clone(), outside.clone());
    }
    for n in &outside {
        grudge.insert(n.clone(), inside.clone());
    }
    grudge.retain(|_, v| !v.is_empty());
    grudge
}

/// Names the node that currently leads a role of the database (e.g. `pd`: the PD leader
/// of a TiDB cluster), as the database itself reports it.
#[async_trait]
pub trait Leader: Send + Sync {
    async fn leader(&self, role: &str) -> DbResult<NodeId>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolating_one_node_is_symmetric() {
        let nodes: Vec<NodeId> = ["n1", "n2", "n3"].iter().map(|s| s.to_string()).collect();
        let g = grudge_isolating(&nodes, &["n3".to_string()]);
        assert_eq!(g["n3"].len(), 2);
        assert!(g["n1"].contains("n3") && g["n2"].contains("n3"));
        assert!(!g["n1"].contains("n2"));
    }
}
