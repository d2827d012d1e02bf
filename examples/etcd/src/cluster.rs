//! N etcd members, each in a network namespace of its own on a private bridge (faultline's
//! network lab, as the local Galera cluster uses), with its own data dir, peer URL
//! (`http://10.x.y.k:2380`) and client URL (`:2379`), all under one temp dir.
//!
//! Start: every member at once with the same `--initial-cluster`, then wait until each
//! answers a linearizable read and all name the same leader. Kill is `kill -9`; start runs
//! the same command again on the same data dir, so the member rejoins with its data (etcd
//! ignores the `--initial-cluster` flags once its data dir has a member). Pause is
//! SIGSTOP / SIGCONT. Partitions, loss, bandwidth and delay are the lab's (iptables, tc and
//! the delay line inside the namespaces). Clocks are refused: etcd is a Go binary, whose
//! runtime reads the time through the vDSO and never calls libc, so libfaketime cannot
//! shift it. Disk faults: each data dir on FUSE when a run asks for one ([`crate::disk`]).
//! Dropping an [`EtcdCluster`] kills every member and removes the namespaces,
//! the bridge and the temp dir; `faultline cluster clean` finds what a killed harness left,
//! by the same names.

use crate::client::EtcdClient;
use faultline::cluster::netlab::{node_index, NetLab};
use faultline::cluster::process::Supervised;
use faultline::prelude::*;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The etcd binary (Debian's `etcd-server`).
pub const ETCD: &str = "etcd";
pub const CLIENT_PORT: u16 = 2379;
pub const PEER_PORT: u16 = 2380;

#[derive(Clone, Debug)]
pub struct EtcdOptions {
    pub nodes: usize,
    pub start_timeout: Duration,
    /// Raft heartbeat and election timeout, ms (etcd's defaults: 100 and 1000).
    pub heartbeat_ms: u64,
    pub election_ms: u64,
    /// Each member's data dir on faultline's FUSE passthrough, for the disk faults.
    pub disk_faults: bool,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            nodes: 3,
            start_timeout: Duration::from_secs(60),
            heartbeat_ms: 100,
            election_ms: 1000,
            disk_faults: false,
        }
    }
}

struct Member {
    name: String,
    dir: PathBuf,
    ns: String,
    address: Ipv4Addr,
    process: Option<Supervised>,
}

impl Member {
    fn client_url(&self) -> String {
        format!("http://{}:{CLIENT_PORT}", self.address)
    }
    fn peer_url(&self) -> String {
        format!("http://{}:{PEER_PORT}", self.address)
    }
    fn log(&self) -> PathBuf {
        self.dir.join("etcd.log")
    }
}

pub struct EtcdCluster {
    opts: EtcdOptions,
    lab: Mutex<NetLab>,
    dir: PathBuf,
    members: Mutex<Vec<Member>>,
    version: String,
    /// The FUSE mounts of the data dirs, one per member, when `disk_faults` (see crate::disk).
    pub(crate) disks: faultline::cluster::disk::DiskSet,
}

/// Says what to install when etcd is missing.
pub fn preflight() -> Result<String, DbError> {
    match std::process::Command::new(ETCD).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()),
        _ => Err(DbError::new(
            "etcd is not installed: apt-get install -y etcd-server",
        )),
    }
}

impl EtcdCluster {
    /// Creates the lab, starts every member and waits for a healthy cluster with a leader.
    pub async fn start(opts: EtcdOptions) -> Result<EtcdCluster, DbError> {
        let version = preflight()?;
        let n = opts.nodes.max(1);
        let lab = NetLab::create(n).map_err(|e| DbError::new(e.to_string()))?;
        let dir =
            std::env::temp_dir().join(format!("faultline-{}-{}", lab.prefix, std::process::id()));
        let members = (1..=n)
            .map(|k| Member {
                name: format!("n{k}"),
                dir: dir.join(format!("n{k}")),
                ns: lab.namespace(k),
                address: lab.address(k),
                process: None,
            })
            .collect();
        let cluster = EtcdCluster {
            opts,
            lab: Mutex::new(lab),
            dir,
            members: Mutex::new(members),
            version,
            disks: Default::default(),
        };
        // From here on, an error drops `cluster`, which tears everything down.
        for k in 1..=n {
            let d = cluster.member_dir(k);
            std::fs::create_dir_all(&d)
                .map_err(|e| DbError::new(format!("creating {}: {e}", d.display())))?;
            if cluster.opts.disk_faults {
                cluster.mount_disk(&d)?;
            }
            cluster.spawn(k)?;
        }
        let started = Instant::now();
        cluster.wait_healthy(cluster.opts.start_timeout).await?;
        faultline::tracing::info!(
            "etcd ready with {n} member(s) in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        Ok(cluster)
    }

    fn member_dir(&self, k: usize) -> PathBuf {
        self.members.lock().unwrap()[k - 1].dir.clone()
    }

    fn args(&self, k: usize) -> Vec<String> {
        let members = self.members.lock().unwrap();
        let m = &members[k - 1];
        let initial: Vec<String> = members
            .iter()
            .map(|p| format!("{}={}", p.name, p.peer_url()))
            .collect();
        let token = self.lab.lock().unwrap().prefix.clone();
        [
            ("--name", m.name.clone()),
            ("--data-dir", m.dir.join("data").display().to_string()),
            ("--listen-client-urls", m.client_url()),
            ("--advertise-client-urls", m.client_url()),
            ("--listen-peer-urls", m.peer_url()),
            ("--initial-advertise-peer-urls", m.peer_url()),
            ("--initial-cluster", initial.join(",")),
            ("--initial-cluster-state", "new".into()),
            ("--initial-cluster-token", token),
            ("--heartbeat-interval", self.opts.heartbeat_ms.to_string()),
            ("--election-timeout", self.opts.election_ms.to_string()),
            ("--logger", "zap".into()),
            ("--log-outputs", "stderr".into()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect()
    }

    fn spawn(&self, k: usize) -> Result<(), DbError> {
        let args = self.args(k);
        let mut members = self.members.lock().unwrap();
        let m = &mut members[k - 1];
        let p = Supervised::spawn(&m.ns, ETCD, &args, &m.log())
            .map_err(|e| DbError::new(format!("starting etcd on {}: {e}", m.name)))?;
        faultline::tracing::info!(node = %m.name, pid = p.pid(), "started etcd");
        m.process = Some(p);
        Ok(())
    }

    fn running(&self, k: usize) -> bool {
        self.members.lock().unwrap()[k - 1]
            .process
            .as_mut()
            .is_some_and(Supervised::is_running)
    }

    fn index(&self, node: &str) -> DbResult<usize> {
        let k = node_index(node).map_err(|e| DbError::new(e.to_string()))?;
        if k > self.opts.nodes.max(1) {
            return Err(DbError::new(format!(
                "unknown node {node} (this cluster has n1..n{})",
                self.opts.nodes.max(1)
            )));
        }
        Ok(k)
    }

    /// A client of member `k` that gives up after `timeout`.
    pub fn client(&self, node: &str, timeout: Duration) -> DbResult<EtcdClient> {
        let k = self.index(node)?;
        let url = self.members.lock().unwrap()[k - 1].client_url();
        EtcdClient::new(&url, timeout).map_err(|e| DbError::new(e.to_string()))
    }

    /// Client endpoints, one per member (`http` URLs; no password).
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.members
            .lock()
            .unwrap()
            .iter()
            .map(|m| Endpoint {
                node: m.name.clone(),
                scheme: "http".into(),
                host: m.address.to_string(),
                port: CLIENT_PORT,
                user: String::new(),
                password: String::new(),
                database: String::new(),
            })
            .collect()
    }

    /// What member `k` says of itself: its id and the leader it follows (0: none).
    async fn member_status(&self, k: usize) -> Result<(u64, u64), String> {
        let c = self
            .client(&format!("n{k}"), Duration::from_secs(1))
            .map_err(|e| e.to_string())?;
        c.status().await.map_err(|e| e.to_string())
    }

    /// The node every running member names as leader, if they agree on one of them.
    pub async fn leader(&self) -> Option<String> {
        let n = self.opts.nodes.max(1);
        let mut ids = Vec::new();
        let mut leaders = Vec::new();
        for k in 1..=n {
            if !self.running(k) {
                continue;
            }
            let (id, leader) = self.member_status(k).await.ok()?;
            ids.push((id, k));
            leaders.push(leader);
        }
        let first = *leaders.first()?;
        if first == 0 || leaders.iter().any(|&l| l != first) {
            return None;
        }
        ids.iter()
            .find(|(id, _)| *id == first)
            .map(|(_, k)| format!("n{k}"))
    }

    /// Waits until every member answers a linearizable read and all agree on a leader.
    pub async fn wait_healthy(&self, timeout: Duration) -> Result<(), DbError> {
        let n = self.opts.nodes.max(1);
        let deadline = Instant::now() + timeout;
        loop {
            let mut waiting = Vec::new();
            for k in 1..=n {
                if !self.running(k) {
                    let log = self.member_dir(k).join("etcd.log");
                    return Err(DbError::new(format!(
                        "etcd on n{k} exited: {} (log: {})",
                        last_errors(&log, 3),
                        log.display()
                    )));
                }
                let c = self.client(&format!("n{k}"), Duration::from_secs(2))?;
                if c.get("faultline-health", false).await.is_err() {
                    waiting.push(format!("n{k}"));
                }
            }
            if waiting.is_empty() && self.leader().await.is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DbError::new(format!(
                    "etcd not healthy after {}s (waiting for {}); see etcd.log of each member under {}",
                    timeout.as_secs(),
                    if waiting.is_empty() { "a leader".to_string() } else { waiting.join(", ") },
                    self.dir.display()
                )));
            }
            faultline::tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The iptables rules in a member's namespace (empty when healed).
    pub fn partition_rules(&self, node: &str) -> DbResult<Vec<String>> {
        let k = self.index(node)?;
        self.lab
            .lock()
            .unwrap()
            .rules(k)
            .map_err(|e| DbError::new(e.to_string()))
    }

    /// The pid of a running member.
    pub fn pid(&self, node: &str) -> Option<u32> {
        let k = self.index(node).ok()?;
        let mut members = self.members.lock().unwrap();
        let p = members.get_mut(k - 1)?.process.as_mut()?;
        p.is_running().then(|| p.pid())
    }

    /// The lab's prefix (`fl<id>`): every namespace and link of this cluster starts with it.
    pub fn prefix(&self) -> String {
        self.lab.lock().unwrap().prefix.clone()
    }

    /// The temp dir every member's data dir and log is under.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn teardown_now(&self) {
        let lab = self.lab.lock().unwrap();
        if let Err(e) = lab.stop_delays() {
            faultline::tracing::warn!("stopping the delay lines: {e}");
        }
        drop(lab);
        for m in self.members.lock().unwrap().iter_mut() {
            if let Some(mut p) = m.process.take() {
                p.kill();
            }
        }
        // The members are dead: their FUSE mounts can go (hung operations complete first).
        self.disks.unmount_all();
        self.lab.lock().unwrap().teardown();
        if self.dir.exists() {
            if let Err(e) = std::fs::remove_dir_all(&self.dir) {
                faultline::tracing::warn!("removing {}: {e}", self.dir.display());
            }
        }
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        self.teardown_now();
    }
}

/// The last `n` error lines of a member's log, on one line.
fn last_errors(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains("\"level\":\"error\"")
                || l.contains("\"level\":\"fatal\"")
                || l.contains("panic")
        })
        .collect();
    if lines.is_empty() {
        return "no error in its log".into();
    }
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.chars().take(240).collect::<String>())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn err(e: impl std::fmt::Display) -> DbError {
    DbError::new(e.to_string())
}

#[async_trait]
impl Db for EtcdCluster {
    fn name(&self) -> &str {
        "etcd"
    }

    fn nodes(&self) -> Vec<NodeId> {
        (1..=self.opts.nodes.max(1))
            .map(|k| format!("n{k}"))
            .collect()
    }

    async fn heal_all(&self) -> DbResult<()> {
        let mut errors = Vec::new();
        let n = self.opts.nodes.max(1);
        for k in 1..=n {
            let paused = self.members.lock().unwrap()[k - 1]
                .process
                .as_ref()
                .is_some_and(Supervised::is_paused);
            if paused {
                if let Err(e) = Pause::resume(self, &format!("n{k}")).await {
                    errors.push(e.to_string());
                }
            }
        }
        let lab = self.lab.lock().unwrap();
        if let Err(e) = lab.heal() {
            errors.push(e.to_string());
        }
        self.disks.heal();
        if let Err(e) = lab.heal_quality() {
            errors.push(e.to_string());
        }
        drop(lab);
        for k in 1..=n {
            if !self.running(k) {
                if let Err(e) = self.spawn(k) {
                    errors.push(e.to_string());
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DbError::new(errors.join("; ")))
        }
    }

    async fn wait_ready(&self, timeout: Duration) -> DbResult<()> {
        self.wait_healthy(timeout).await
    }

    async fn teardown(&self) -> DbResult<()> {
        self.teardown_now();
        Ok(())
    }

    /// etcd logs JSON lines (zap): panics and fatal errors, then errors; a Go runtime panic
    /// prints `panic:` to stderr, which goes to the same log.
    fn log_patterns(&self) -> Vec<faultline::core::LogPattern> {
        use faultline::core::{LogPattern as P, Severity::*};
        vec![
            P::new("panic", "\"level\":\"panic\"", Crash),
            P::new("fatal", "\"level\":\"fatal\"", Crash),
            P::new("panic", "panic:", Crash),
            P::new("error", "\"level\":\"error\"", Error),
        ]
    }

    fn facts(&self) -> Value {
        json!({
            "db": "etcd",
            "nodes": self.nodes(),
            "etcd_version": self.version,
            "network": "one network namespace per member on a private bridge",
            "lab_prefix": self.prefix(),
            "temp_dir": self.dir,
            "heartbeat_ms": self.opts.heartbeat_ms,
            "election_ms": self.opts.election_ms,
        })
    }

    async fn status(&self) -> Value {
        let mut nodes = Vec::new();
        let leader = self.leader().await;
        for k in 1..=self.opts.nodes.max(1) {
            let node = format!("n{k}");
            let status = self.member_status(k).await;
            nodes.push(json!({
                "node": node,
                "pid": self.pid(&node),
                "ready": status.as_ref().is_ok_and(|(_, l)| *l != 0),
                "member_id": status.as_ref().map(|(id, _)| format!("{id:x}")).ok(),
                "leader": leader.as_deref() == Some(node.as_str()),
                "error": status.err(),
                "partition_rules": self.partition_rules(&node).map(|r| r.len()).unwrap_or(0),
            }));
        }
        json!({ "lab": self.prefix(), "leader": leader, "nodes": nodes })
    }

    fn collect_logs(&self, dest: &Path) -> DbResult<()> {
        for m in self.members.lock().unwrap().iter() {
            let to = dest.join(&m.name);
            std::fs::create_dir_all(&to).map_err(err)?;
            if m.log().exists() {
                std::fs::copy(m.log(), to.join("etcd.log")).map_err(err)?;
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
    fn as_net_quality(&self) -> Option<&dyn NetQuality> {
        Some(self)
    }
    fn as_disk(&self) -> Option<&dyn Disk> {
        self.disk_capability()
    }
    fn lacks(&self, capability: Capability) -> Option<String> {
        match capability {
            Capability::Clock => Some(
                "etcd cannot have its clock shifted here: it is a Go binary, which reads the \
                 time through the vDSO and not through libc, so libfaketime does not reach it"
                    .into(),
            ),
            Capability::Disk => Some(
                "this etcd cluster was started without its data dirs on FUSE: start it with \
                 a disk fault in --nemesis (or `faultline cluster start --db etcd --disk-faults`)"
                    .into(),
            ),
            _ => None,
        }
    }
}

#[async_trait]
impl Kill for EtcdCluster {
    async fn kill(&self, node: &str) -> DbResult<()> {
        let k = self.index(node)?;
        if let Some(p) = self.members.lock().unwrap()[k - 1].process.as_mut() {
            p.kill();
        }
        Ok(())
    }

    async fn start(&self, node: &str) -> DbResult<()> {
        let k = self.index(node)?;
        if !self.running(k) {
            self.spawn(k)?;
        }
        Ok(())
    }

    async fn shutdown(&self, node: &str) -> DbResult<()> {
        let k = self.index(node)?;
        if let Some(p) = self.members.lock().unwrap()[k - 1].process.as_mut() {
            p.stop(Duration::from_secs(10));
        }
        Ok(())
    }
}

#[async_trait]
impl Pause for EtcdCluster {
    async fn pause(&self, node: &str) -> DbResult<()> {
        let k = self.index(node)?;
        match self.members.lock().unwrap()[k - 1].process.as_mut() {
            Some(p) => match p.is_running() {
                true => p.pause().map_err(err),
                false => Err(DbError::new(format!(
                    "{node} is not running: nothing to pause"
                ))),
            },
            None => Err(DbError::new(format!(
                "{node} is not running: nothing to pause"
            ))),
        }
    }

    async fn resume(&self, node: &str) -> DbResult<()> {
        let k = self.index(node)?;
        match self.members.lock().unwrap()[k - 1].process.as_mut() {
            Some(p) if p.is_paused() => p.resume().map_err(err),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Partition for EtcdCluster {
    async fn partition(&self, grudge: &Grudge) -> DbResult<()> {
        self.lab.lock().unwrap().partition(grudge).map_err(err)
    }

    async fn heal_network(&self) -> DbResult<()> {
        self.lab.lock().unwrap().heal().map_err(err)
    }
}

#[async_trait]
impl NetQuality for EtcdCluster {
    async fn set_loss(&self, node: &str, percent: f64) -> DbResult<()> {
        let k = self.index(node)?;
        self.lab.lock().unwrap().set_loss(k, percent).map_err(err)
    }

    async fn set_bandwidth(&self, node: &str, kbit: u32) -> DbResult<()> {
        let k = self.index(node)?;
        self.lab.lock().unwrap().set_bandwidth(k, kbit).map_err(err)
    }

    async fn set_delay(&self, node: &str, delay: Duration, jitter: Duration) -> DbResult<()> {
        let k = self.index(node)?;
        self.lab
            .lock()
            .unwrap()
            .set_delay(k, delay, jitter)
            .map_err(err)
    }

    fn delay_unsupported(&self) -> Option<String> {
        faultline::cluster::delayline::unsupported()
    }

    async fn heal_quality(&self) -> DbResult<()> {
        self.lab.lock().unwrap().heal_quality().map_err(err)
    }

    async fn heal_quality_of(&self, node: &str) -> DbResult<()> {
        let k = self.index(node)?;
        self.lab.lock().unwrap().heal_quality_of(k).map_err(err)
    }
}
