//! The `local-galera` recipe (and `local-mariadb`, its one-server, no-wsrep sibling).
//!
//! Each node is a mariadbd running as the `mysql` user in its own network namespace
//! ([`NetLab`]), with its own data dir, socket and logs under one temp dir. Start: bootstrap
//! n1 with `--wsrep-new-cluster`, create the client user, start the others, wait until every
//! node is Synced in a primary component of full size. A crashed node is restarted after
//! `mariadbd --wsrep-recover` found its position, so it rejoins by IST rather than SST and
//! the cluster's history (state UUID, seqno) survives. Admin goes through the unix socket,
//! which works across namespaces and during partitions. Dropping a [`LocalGalera`] kills
//! every process and removes the namespaces, the bridge, the temp dir and libfaketime's shm
//! files. Every mariadbd runs under libfaketime when it is installed ([`clock`]), so the
//! wall clock of each node can be shifted while it runs. With `disk_faults` each data dir
//! is a FUSE passthrough of `<node>/data.real` ([`crate::disk`], mounted before
//! mariadb-install-db runs, unmounted after mariadbd died); the `Disk` capability is in
//! `disk`. Starting and joining nodes is in `start`; kill, pause and partition in
//! `control`; whole-cluster recovery after every node crashed and clean shutdown in
//! `recovery`; clocks and link quality in `capabilities`.

mod admin;
mod capabilities;
pub mod clock;
mod config;
mod control;
mod disk;
mod recovery;
mod start;

pub use admin::NodeStatus;
use config::NodeConfig;

use crate::netlab::{node_index, NetLab};
use crate::process::Supervised;
use crate::{preflight, ClusterError, Endpoint, Result};
use async_trait::async_trait;
use faultline_core::db::{Clock, Db, DbResult, Kill, NetQuality, Partition, Pause};
use serde_json::{json, Value};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The client user every workload connects as (created on bootstrap).
pub const CLIENT_USER: &str = "jepsen";
pub const CLIENT_PASSWORD: &str = "jepsen";
pub const CLIENT_DATABASE: &str = "jepsen";

#[derive(Clone, Debug)]
pub struct GaleraOptions {
    pub nodes: usize,
    /// false: one plain mariadbd without wsrep (`local-mariadb`).
    pub galera: bool,
    /// `name=value` lines added to every node's [mysqld] section.
    pub server_options: Vec<(String, String)>,
    pub start_timeout: Duration,
    /// Each node's data dir on a FUSE passthrough, so disk faults can be injected.
    pub disk_faults: bool,
    /// Node dirs on the tmpfs at [`crate::clean::MEMORY_ROOT`] rather than the temp dir:
    /// no disk I/O, for runs where durability is not under test (SQL hunting). A killed
    /// server still recovers from what it wrote (the page cache is the same); only a
    /// machine crash would lose it.
    pub data_in_memory: bool,
}

impl Default for GaleraOptions {
    fn default() -> Self {
        GaleraOptions {
            nodes: 3,
            galera: true,
            server_options: Vec::new(),
            start_timeout: Duration::from_secs(180),
            disk_faults: false,
            data_in_memory: false,
        }
    }
}

struct Node {
    name: String,
    dir: PathBuf,
    ns: String,
    address: Ipv4Addr,
    process: Option<Supervised>,
}

pub struct LocalGalera {
    opts: GaleraOptions,
    lab: Mutex<NetLab>,
    dir: PathBuf,
    nodes: Mutex<Vec<Node>>,
    mariadb_version: String,
    name: &'static str,
    /// Servers run under libfaketime (it is installed).
    faketime: bool,
    strobes: clock::Strobes,
    /// One FUSE mount per node (index k-1) when `disk_faults`; empty otherwise.
    disks: crate::disk::DiskSet,
    /// Kept up after the run (`Db::keep`): teardown leaves it alone.
    kept: std::sync::atomic::AtomicBool,
}

impl LocalGalera {
    /// Creates, bootstraps and waits for a whole cluster.
    pub async fn start(opts: GaleraOptions) -> Result<LocalGalera> {
        preflight::check(opts.galera)?;
        let n = if opts.galera { opts.nodes.max(1) } else { 1 };
        let root = match opts.data_in_memory {
            true if Path::new(crate::clean::MEMORY_ROOT).is_dir() => {
                PathBuf::from(crate::clean::MEMORY_ROOT)
            }
            true => {
                return Err(ClusterError::Missing(format!(
                    "--data-in-memory: {} is not there (a tmpfs); leave the option out",
                    crate::clean::MEMORY_ROOT
                )))
            }
            false => std::env::temp_dir(),
        };
        let lab = NetLab::create(n)?;
        let dir = root.join(format!("faultline-{}-{}", lab.prefix, std::process::id()));
        let mut nodes = Vec::new();
        for k in 1..=n {
            nodes.push(Node {
                name: format!("n{k}"),
                dir: dir.join(format!("n{k}")),
                ns: lab.namespace(k),
                address: lab.address(k),
                process: None,
            });
        }
        let mariadb_version = crate::run(preflight::MARIADBD, &["--version"])
            .unwrap_or_default()
            .trim()
            .to_string();
        let cluster = LocalGalera {
            name: if opts.galera {
                "local-galera"
            } else {
                "local-mariadb"
            },
            opts,
            lab: Mutex::new(lab),
            dir,
            nodes: Mutex::new(nodes),
            mariadb_version,
            faketime: clock::available(),
            strobes: clock::Strobes::default(),
            disks: Default::default(),
            kept: Default::default(),
        };
        // On any error from here on, dropping `cluster` tears everything down.
        cluster.prepare_dirs()?;
        cluster.bootstrap().await?;
        Ok(cluster)
    }

    fn node_running(&self, k: usize) -> bool {
        self.nodes.lock().unwrap()[k - 1]
            .process
            .as_mut()
            .is_some_and(Supervised::is_running)
    }

    fn node_dir(&self, k: usize) -> PathBuf {
        self.nodes.lock().unwrap()[k - 1].dir.clone()
    }

    /// Client endpoints, one per node.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.nodes
            .lock()
            .unwrap()
            .iter()
            .map(|n| Endpoint {
                node: n.name.clone(),
                scheme: "mysql".into(),
                host: n.address.to_string(),
                port: config::MYSQL_PORT,
                user: CLIENT_USER.into(),
                password: CLIENT_PASSWORD.into(),
                database: CLIENT_DATABASE.into(),
            })
            .collect()
    }

    /// The wsrep status of every node, for status displays and tests.
    pub async fn statuses(&self) -> Vec<(String, NodeStatus)> {
        let n = self.nodes.lock().unwrap().len();
        let mut out = Vec::new();
        for k in 1..=n {
            out.push((format!("n{k}"), admin::status(&self.socket(k)).await));
        }
        out
    }

    /// Runs SQL as root on one node over its socket.
    pub async fn admin_sql(&self, node: &str, statements: &[&str]) -> Result<()> {
        let k = node_index(node)?;
        admin::execute(&self.socket(k), statements)
            .await
            .map_err(ClusterError::Other)
    }

    /// The iptables rules in a node's namespace (empty when healed).
    pub fn partition_rules(&self, node: &str) -> Result<Vec<String>> {
        self.lab.lock().unwrap().rules(node_index(node)?)
    }

    /// A node's mariadbd error log (`n1`, `n2`, ...).
    pub fn error_log(&self, node: &str) -> Option<PathBuf> {
        let k = node_index(node).ok()?;
        (k <= self.nodes.lock().unwrap().len()).then(|| self.node_dir(k).join("error.log"))
    }

    pub fn pid(&self, node: &str) -> Option<u32> {
        let k = node_index(node).ok()?;
        let mut nodes = self.nodes.lock().unwrap();
        let p = nodes.get_mut(k - 1)?.process.as_mut()?;
        p.is_running().then(|| p.pid())
    }

    /// Runs `mariadbd --wsrep-recover` for a stopped node and returns its position.
    fn recover_position(&self, k: usize) -> Result<Option<String>> {
        let (ns, dir) = {
            let nodes = self.nodes.lock().unwrap();
            (nodes[k - 1].ns.clone(), nodes[k - 1].dir.clone())
        };
        let log = dir.join("recover.log");
        let _ = std::fs::remove_file(&log);
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &ns, preflight::MARIADBD])
            .arg(format!("--defaults-file={}", dir.join("my.cnf").display()))
            .arg("--wsrep-recover")
            .arg(format!("--log-error={}", log.display()))
            .output()
            .map_err(|source| ClusterError::Io {
                context: "running mariadbd --wsrep-recover".into(),
                source,
            })?;
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let pos = text
            .lines()
            .filter_map(|l| l.split("WSREP: Recovered position: ").nth(1))
            .map(|p| p.trim().to_string())
            .next_back();
        if pos.is_none() {
            tracing::warn!(node = k, status = ?out.status, "no recovered position; the node will rejoin by SST");
        }
        Ok(pos)
    }

    fn teardown_now(&self) {
        if self.kept.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        self.strobes.stop_all();
        // Before the namespaces go: a listener thread inside one would keep it alive.
        if let Err(e) = self.lab.lock().unwrap().stop_delays() {
            tracing::warn!("stopping the delay lines: {e}");
        }
        self.disks.heal();
        for node in self.nodes.lock().unwrap().iter_mut() {
            if let Some(mut p) = node.process.take() {
                p.kill();
            }
        }
        self.disks.unmount_all();
        self.lab.lock().unwrap().teardown();
        clock::remove_dead_shm();
        if self.dir.exists() {
            if let Err(e) = std::fs::remove_dir_all(&self.dir) {
                tracing::warn!("removing {}: {e}", self.dir.display());
            }
        }
    }
}

impl Drop for LocalGalera {
    fn drop(&mut self) {
        self.teardown_now();
    }
}

#[async_trait]
impl Db for LocalGalera {
    fn name(&self) -> &str {
        self.name
    }

    fn nodes(&self) -> Vec<String> {
        self.nodes
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.name.clone())
            .collect()
    }

    async fn heal_all(&self) -> DbResult<()> {
        let mut errors = Vec::new();
        // First, so that operations blocked by a hung disk complete.
        self.disks.heal();
        let n = self.nodes.lock().unwrap().len();
        for k in 1..=n {
            let paused = self.nodes.lock().unwrap()[k - 1]
                .process
                .as_ref()
                .is_some_and(|p| p.is_paused());
            if paused {
                if let Err(e) = self.resume(&format!("n{k}")).await {
                    errors.push(e.to_string());
                }
            }
        }
        if let Err(e) = self.lab.lock().unwrap().heal() {
            errors.push(e.to_string());
        }
        if self.opts.galera {
            if let Err(e) = self.heal_quality().await {
                errors.push(e.to_string());
            }
        }
        if self.faketime {
            if let Err(e) = self.reset_clocks().await {
                errors.push(e.to_string());
            }
        }
        // Killed nodes restart; when every node is down this is a whole-cluster recovery.
        if let Err(e) = self.start_all(&self.nodes()).await {
            errors.push(e.to_string());
        } else if self.opts.disk_faults {
            if let Err(e) = self
                .restart_nodes_that_died_at_start(Duration::from_secs(120))
                .await
            {
                errors.push(e.to_string());
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(faultline_core::db::DbError(errors.join("; ")))
        }
    }

    async fn wait_ready(&self, timeout: Duration) -> DbResult<()> {
        let n = self.nodes.lock().unwrap().len();
        let all: Vec<usize> = (1..=n).collect();
        Ok(self.wait_nodes(&all, n as u32, timeout).await?)
    }

    async fn teardown(&self) -> DbResult<()> {
        self.teardown_now();
        Ok(())
    }

    fn keep(&self) -> DbResult<String> {
        if !self.disks.is_empty() {
            return Err(faultline_core::db::DbError(
                "its data dirs are FUSE mounts this process serves (disk faults): they cannot outlive the run".into(),
            ));
        }
        // What runs inside this process goes; the servers and the lab stay.
        self.strobes.stop_all();
        self.lab
            .lock()
            .unwrap()
            .stop_delays()
            .map_err(|e| faultline_core::db::DbError(e.to_string()))?;
        let mut lines = Vec::new();
        for node in self.nodes.lock().unwrap().iter_mut() {
            let pid = node.process.take().map(Supervised::detach);
            lines.push(format!(
                "  {}: {}:{} (pid {}), as root: mysql --socket={}",
                node.name,
                node.address,
                config::MYSQL_PORT,
                pid.map_or("none: not running".into(), |p| p.to_string()),
                node.dir.join("mysqld.sock").display()
            ));
        }
        self.lab.lock().unwrap().detach();
        self.kept.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(format!(
            "{lines}\n  remove it with: faultline cluster clean (once this run has exited)",
            lines = lines.join("\n")
        ))
    }

    /// mariadbd's error.log: its crash handler (`got signal`, InnoDB assertions, the
    /// backtrace it attempts), `[ERROR]` lines, and crash recovery after a kill (a note).
    fn log_patterns(&self) -> Vec<faultline_core::LogPattern> {
        use faultline_core::{LogPattern as P, Severity::*};
        vec![
            P::new("signal", "got signal", Crash),
            P::new("assertion", "Assertion failure", Crash),
            P::new("assertion", "Failing assertion", Crash),
            P::new("backtrace", "Attempting backtrace", Crash),
            P::new("[ERROR]", "[ERROR]", Error),
            P::new("crash recovery", "Starting crash recovery", Note),
        ]
    }

    fn facts(&self) -> Value {
        json!({
            "db": self.name,
            "nodes": self.nodes(),
            "mariadb_version": self.mariadb_version,
            "galera_provider": if self.opts.galera { preflight::GALERA_PROVIDER } else { "" },
            "server_options": self.opts.server_options.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "network": "one network namespace per node on a private bridge",
            "lab_prefix": self.lab.lock().unwrap().prefix,
            "temp_dir": self.dir,
            "data_dirs": match (self.opts.disk_faults, self.opts.data_in_memory) {
                (true, _) => "FUSE passthrough (disk faults)",
                (false, true) => "in memory (tmpfs)",
                (false, false) => "plain",
            },
        })
    }

    async fn status(&self) -> Value {
        let statuses = self.statuses().await;
        let nodes: Vec<Value> = statuses
            .into_iter()
            .map(|(node, s)| {
                json!({
                    "node": node,
                    "pid": self.pid(&node),
                    "ready": s.is_synced(s.cluster_size.max(1)) && s.cluster_status == "Primary",
                    "state": s.state,
                    "cluster_status": s.cluster_status,
                    "cluster_size": s.cluster_size,
                    "galera_version": s.provider_version,
                    "partition_rules": self.partition_rules(&node).map(|r| r.len()).unwrap_or(0),
                })
            })
            .collect();
        json!({ "lab": self.lab.lock().unwrap().prefix, "nodes": nodes })
    }

    fn collect_logs(&self, dest: &Path) -> DbResult<()> {
        for node in self.nodes.lock().unwrap().iter() {
            let to = dest.join(&node.name);
            std::fs::create_dir_all(&to).map_err(|e| faultline_core::db::DbError(e.to_string()))?;
            for file in ["error.log", "stdout.log", "recover.log", "my.cnf"] {
                let from = node.dir.join(file);
                if from.exists() {
                    let _ = std::fs::copy(&from, to.join(file));
                }
            }
            let _ = std::fs::copy(
                node.dir.join("data").join("grastate.dat"),
                to.join("grastate.dat"),
            );
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
        self.opts.galera.then_some(self as &dyn Partition)
    }
    fn as_clock(&self) -> Option<&dyn Clock> {
        self.faketime.then_some(self as &dyn Clock)
    }
    fn as_net_quality(&self) -> Option<&dyn NetQuality> {
        self.opts.galera.then_some(self as &dyn NetQuality)
    }
    fn as_disk(&self) -> Option<&dyn faultline_core::db::Disk> {
        self.disk_capability()
    }
}
