//! Starting a local cluster: each node's dirs and my.cnf, spawning mariadbd in its namespace,
//! bootstrapping n1 and joining the others, and waiting until nodes are Synced in a primary
//! component of the expected size.

use super::{admin, clock, LocalGalera, Node, NodeConfig};
use super::{CLIENT_DATABASE, CLIENT_PASSWORD, CLIENT_USER};
use crate::process::Supervised;
use crate::{preflight, ClusterError, Result};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

impl LocalGalera {
    pub(super) fn peers(&self) -> Vec<Ipv4Addr> {
        self.nodes
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.address)
            .collect()
    }

    pub(super) fn config_of(&self, node: &Node, peers: &[Ipv4Addr]) -> String {
        NodeConfig {
            name: &node.name,
            dir: &node.dir,
            address: node.address,
            peers: self.opts.galera.then_some(peers),
            cluster_name: "faultline",
            server_options: &self.opts.server_options,
            data_on_fuse: self.opts.disk_faults,
        }
        .render()
    }

    pub(super) fn prepare_dirs(&self) -> Result<()> {
        let io = |context: String| move |source| ClusterError::Io { context, source };
        std::fs::create_dir_all(&self.dir)
            .map_err(io(format!("creating {}", self.dir.display())))?;
        let peers = self.peers();
        let nodes = self.nodes.lock().unwrap();
        let mut installs = Vec::new();
        for node in nodes.iter() {
            std::fs::create_dir_all(node.dir.join("tmp"))
                .map_err(io(format!("creating {}", node.dir.display())))?;
            let cnf = node.dir.join("my.cnf");
            std::fs::write(&cnf, self.config_of(node, &peers))
                .map_err(io(format!("writing {}", cnf.display())))?;
            if self.opts.disk_faults {
                let (real, data) = (node.dir.join("data.real"), node.dir.join("data"));
                for d in [&real, &data] {
                    std::fs::create_dir_all(d).map_err(io(format!("creating {}", d.display())))?;
                }
                let mount = crate::disk::DiskMount::mount(&real, &data)?;
                self.disks.push(mount);
            }
            if self.faketime {
                clock::write_offset(&node.dir, 0)?;
            }
            crate::run(
                "chown",
                &["-R", "mysql:mysql", &node.dir.display().to_string()],
            )?;
            let cnf = cnf.display().to_string();
            installs.push(std::thread::spawn(move || {
                crate::run(
                    preflight::INSTALL_DB,
                    &[
                        &format!("--defaults-file={cnf}"),
                        "--auth-root-authentication-method=normal",
                        "--skip-test-db",
                    ],
                )
            }));
        }
        for t in installs {
            t.join()
                .map_err(|_| ClusterError::Other("mariadb-install-db panicked".into()))??;
        }
        Ok(())
    }

    pub(super) fn spawn_node(&self, k: usize, extra: &[String]) -> Result<()> {
        let mut nodes = self.nodes.lock().unwrap();
        let node = &mut nodes[k - 1];
        let mut args = vec![format!(
            "--defaults-file={}",
            node.dir.join("my.cnf").display()
        )];
        args.extend_from_slice(extra);
        let env = if self.faketime {
            clock::env(&node.dir)
        } else {
            Vec::new()
        };
        let p = Supervised::spawn_with_env(
            &node.ns,
            preflight::MARIADBD,
            &args,
            &env,
            &node.dir.join("stdout.log"),
        )?;
        tracing::info!(node = %node.name, pid = p.pid(), "started mariadbd {}", extra.join(" "));
        node.process = Some(p);
        Ok(())
    }

    pub(super) async fn bootstrap(&self) -> Result<()> {
        let n = self.nodes.lock().unwrap().len();
        let started = Instant::now();
        let first = if self.opts.galera {
            vec!["--wsrep-new-cluster".to_string()]
        } else {
            vec![]
        };
        self.spawn_node(1, &first)?;
        self.wait_nodes(&[1], 1, self.opts.start_timeout).await?;
        let socket = self.socket(1);
        admin::execute(
            &socket,
            &[
                &format!("CREATE USER IF NOT EXISTS '{CLIENT_USER}'@'%' IDENTIFIED BY '{CLIENT_PASSWORD}'"),
                &format!("GRANT ALL ON *.* TO '{CLIENT_USER}'@'%'"),
                &format!("CREATE DATABASE IF NOT EXISTS {CLIENT_DATABASE}"),
            ],
        )
        .await
        .map_err(|e| ClusterError::Other(format!("creating the client user on n1: {e}")))?;
        for k in 2..=n {
            self.spawn_node(k, &[])?;
        }
        let all: Vec<usize> = (1..=n).collect();
        // Joiners start together and the one donor serves their state transfers one after
        // the other; on a loaded machine a joiner can give up on its transfer and exit.
        // Such a joiner is started again (twice at most): a cluster that is still forming
        // has no history to lose.
        let mut restarts = 0;
        loop {
            match self
                .wait_nodes(&all, n as u32, self.opts.start_timeout)
                .await
            {
                Ok(()) => break,
                Err(e) if restarts < 2 * (n - 1) => {
                    let dead: Vec<usize> = (2..=n).filter(|&k| !self.node_running(k)).collect();
                    if dead.is_empty() || !self.node_running(1) {
                        return Err(e);
                    }
                    tracing::warn!(
                        "a joiner exited while the cluster formed ({e}); starting it again"
                    );
                    for k in dead {
                        self.spawn_node(k, &[])?;
                        restarts += 1;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        tracing::info!(
            "{} ready with {n} node(s) in {:.1}s",
            self.name,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    pub(super) fn socket(&self, k: usize) -> PathBuf {
        self.nodes.lock().unwrap()[k - 1].dir.join("mysqld.sock")
    }

    /// Waits until nodes `ks` are Synced in a primary component of `size` nodes.
    pub(super) async fn wait_nodes(
        &self,
        ks: &[usize],
        size: u32,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut waiting = Vec::new();
            for &k in ks {
                if !self.node_running(k) {
                    let name = format!("n{k}");
                    let log = self.node_dir(k).join("error.log");
                    // The log goes with the temp dir when the cluster is torn down: say
                    // what it said, here.
                    return Err(ClusterError::Other(format!(
                        "mariadbd on {name} exited: {} (log: {})",
                        last_errors(&log, 3),
                        log.display()
                    )));
                }
                let ok = if self.opts.galera {
                    admin::status(&self.socket(k)).await.is_synced(size)
                } else {
                    admin::answers(&self.socket(k)).await
                };
                if !ok {
                    waiting.push(format!("n{k}"));
                }
            }
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Timeout(format!(
                    "{} not Synced after {}s; see the error.log of each under {}",
                    waiting.join(", "),
                    timeout.as_secs(),
                    self.dir.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// The last `n` error lines of a mariadbd error log, joined into one line.
fn last_errors(log: &std::path::Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[ERROR]") || l.contains("Aborting") || l.contains("signal "))
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
