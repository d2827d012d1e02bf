//! The `tidb-playground` recipe: PD, TiKV and TiDB processes on loopback, like
//! `tiup playground`, started from binaries the user names (`--pd.path` etc.).
//!
//! NOT YET VERIFIED AGAINST REAL TIDB: TiDB binaries cannot be installed on the machines this
//! was written on, so it is tested only with stand-in programs that take the same flags
//! (cluster/tests/tidb_playground.rs).
//!
//! Layout: one temp dir `faultline-fl<id>-<pid>` (so `faultline cluster clean` knows it), a
//! subdir per component (`pd-0`, `tikv-0`, `tidb-0`, ...) with its data dir and logs. The
//! flags are in [`components`]; every address one component dials is advertised as one of
//! our TCP proxies ([`proxy`]), which is where partitions are done. Start order: every PD,
//! wait until a PD reports all members healthy ([`pd_api`]); every TiKV, wait for their
//! status ports; every TiDB, wait for its MySQL port. Finding the binaries, claiming the
//! temp dir and readiness are in `setup`; kill, pause, partition and leader in
//! `capabilities`. Dropping a [`TidbPlayground`] kills every process, stops
//! every proxy and removes the temp dir. A harness killed with -9 leaves the components
//! running (they are not in a namespace that `clean` could empty): kill them by hand.

mod capabilities;
pub mod components;
pub mod pd_api;
pub mod proxy;
mod setup;

use crate::process::Supervised;
use crate::{ClusterError, Endpoint, Result};
use components::{Layout, PdPorts, PortReservations, Role, TidbPorts, TikvPorts};
use proxy::{Links, Proxy};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct TidbOptions {
    pub pd_path: PathBuf,
    pub tikv_path: PathBuf,
    pub tidb_path: PathBuf,
    pub pd_count: usize,
    pub tikv_count: usize,
    pub tidb_count: usize,
    pub start_timeout: Duration,
}

impl Default for TidbOptions {
    /// tiup playground's defaults: one of each, binaries from PATH.
    fn default() -> Self {
        TidbOptions {
            pd_path: "pd-server".into(),
            tikv_path: "tikv-server".into(),
            tidb_path: "tidb-server".into(),
            pd_count: 1,
            tikv_count: 1,
            tidb_count: 1,
            start_timeout: Duration::from_secs(180),
        }
    }
}

struct Component {
    name: String,
    role: Role,
    program: String,
    args: Vec<String>,
    dir: PathBuf,
    process: Option<Supervised>,
}

pub struct TidbPlayground {
    prefix: String,
    dir: PathBuf,
    layout: Layout,
    components: Mutex<Vec<Component>>,
    links: Arc<Links>,
    proxies: Mutex<Vec<Proxy>>,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl TidbPlayground {
    /// Starts every component and waits until the cluster answers.
    pub async fn start(opts: TidbOptions) -> Result<TidbPlayground> {
        let [pd_bin, tikv_bin, tidb_bin] = opts.check_binaries()?;
        if opts.pd_count == 0 || opts.tikv_count == 0 || opts.tidb_count == 0 {
            return Err(ClusterError::Other(
                "a TiDB cluster needs at least one PD, one TiKV and one TiDB".into(),
            ));
        }
        let (prefix, dir) = setup::claim_dir()?;
        let mut playground = TidbPlayground {
            prefix,
            dir,
            layout: Layout::default(),
            components: Mutex::new(Vec::new()),
            links: Arc::new(Links::default()),
            proxies: Mutex::new(Vec::new()),
        };
        // From here on, an error drops `playground`, which tears everything down.
        let io = |context: &str| {
            let context = context.to_string();
            move |source| ClusterError::Io { context, source }
        };
        let mut proxies = Vec::new();
        let proxy = |node: String, port: u16| {
            let links = playground.links.clone();
            async move {
                Proxy::start(&node, loopback(port), links)
                    .await
                    .map_err(io("starting a proxy"))
            }
        };
        let mut layout = Layout::default();
        let mut ports = PortReservations::default();
        for k in 0..opts.pd_count {
            let (client, peer) = (
                ports.take().map_err(io("port"))?,
                ports.take().map_err(io("port"))?,
            );
            let c = proxy(format!("pd-{k}"), client).await?;
            let p = proxy(format!("pd-{k}"), peer).await?;
            layout.pd.push(PdPorts {
                client,
                peer,
                client_proxy: c.port,
                peer_proxy: p.port,
            });
            proxies.extend([c, p]);
        }
        for k in 0..opts.tikv_count {
            let (addr, status) = (
                ports.take().map_err(io("port"))?,
                ports.take().map_err(io("port"))?,
            );
            let a = proxy(format!("tikv-{k}"), addr).await?;
            layout.tikv.push(TikvPorts {
                addr,
                status,
                addr_proxy: a.port,
            });
            proxies.push(a);
        }
        for _ in 0..opts.tidb_count {
            let (port, status) = (
                ports.take().map_err(io("port"))?,
                ports.take().map_err(io("port"))?,
            );
            layout.tidb.push(TidbPorts { port, status });
        }
        *playground.proxies.lock().unwrap() = proxies;
        let mut components = Vec::new();
        for (role, bin, count) in [
            (Role::Pd, &pd_bin, opts.pd_count),
            (Role::Tikv, &tikv_bin, opts.tikv_count),
            (Role::Tidb, &tidb_bin, opts.tidb_count),
        ] {
            for k in 0..count {
                let name = format!("{}-{k}", role.name());
                let cdir = playground.dir.join(&name);
                std::fs::create_dir_all(&cdir).map_err(io("creating a component dir"))?;
                let args = match role {
                    Role::Pd => layout.pd_args(k, &cdir),
                    Role::Tikv => layout.tikv_args(k, &cdir),
                    Role::Tidb => layout.tidb_args(k, &cdir),
                };
                components.push(Component {
                    name,
                    role,
                    program: bin.clone(),
                    args,
                    dir: cdir,
                    process: None,
                });
            }
        }
        playground.layout = layout;
        *playground.components.lock().unwrap() = components;
        ports.release();
        let started = Instant::now();
        let deadline = started + opts.start_timeout;
        for role in [Role::Pd, Role::Tikv, Role::Tidb] {
            for name in playground.names(Some(role)) {
                playground.spawn(&name)?;
            }
            playground.wait_role(role, deadline).await?;
        }
        tracing::info!(
            "tidb-playground ready ({} PD, {} TiKV, {} TiDB) in {:.1}s under {}",
            opts.pd_count,
            opts.tikv_count,
            opts.tidb_count,
            started.elapsed().as_secs_f64(),
            playground.dir.display()
        );
        Ok(playground)
    }

    fn names(&self, role: Option<Role>) -> Vec<String> {
        let comps = self.components.lock().unwrap();
        comps
            .iter()
            .filter(|c| role.is_none_or(|r| c.role == r))
            .map(|c| c.name.clone())
            .collect()
    }

    fn with<T>(&self, node: &str, f: impl FnOnce(&mut Component) -> T) -> Result<T> {
        let mut comps = self.components.lock().unwrap();
        let c = comps
            .iter_mut()
            .find(|c| c.name == node)
            .ok_or_else(|| ClusterError::Other(format!("no node {node} in this TiDB cluster")))?;
        Ok(f(c))
    }

    /// Starts a component with its flags (the same on every restart, so the same data dir).
    fn spawn(&self, node: &str) -> Result<()> {
        let links = self.links.clone();
        self.with(node, |c| {
            let p = Supervised::spawn_host(&c.program, &c.args, &c.dir.join("stdout.log"))?;
            tracing::info!(node = %c.name, pid = p.pid(), "started {}", c.program);
            links.set_owner(p.pid(), &c.name);
            c.process = Some(p);
            Ok(())
        })?
    }

    fn running(&self, node: &str) -> bool {
        self.with(node, |c| {
            c.process.as_mut().is_some_and(Supervised::is_running)
        })
        .unwrap_or(false)
    }

    /// The pid of a running component.
    pub fn pid(&self, node: &str) -> Option<u32> {
        self.with(node, |c| {
            let p = c.process.as_mut()?;
            p.is_running().then(|| p.pid())
        })
        .ok()
        .flatten()
    }

    /// The flags a component is started with.
    pub fn args(&self, node: &str) -> Vec<String> {
        self.with(node, |c| c.args.clone()).unwrap_or_default()
    }

    /// The file a component's `--log-file` names.
    pub fn log_file(&self, node: &str) -> Option<PathBuf> {
        self.with(node, |c| c.dir.join(Layout::log_name(c.role)))
            .ok()
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Every proxy's listening port.
    pub fn proxy_ports(&self) -> Vec<u16> {
        self.proxies
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.port)
            .collect()
    }

    /// The proxies' view of the network: open links and cut pairs.
    pub fn links(&self) -> &Links {
        &self.links
    }

    pub fn temp_dir(&self) -> &Path {
        &self.dir
    }

    /// Client endpoints: the TiDB MySQL ports, user root without a password, database
    /// `test` (which TiDB creates on bootstrap).
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.layout
            .tidb
            .iter()
            .enumerate()
            .map(|(k, t)| Endpoint {
                node: format!("tidb-{k}"),
                scheme: "mysql".into(),
                host: "127.0.0.1".into(),
                port: t.port,
                user: "root".into(),
                password: String::new(),
                database: "test".into(),
            })
            .collect()
    }

    fn teardown_now(&self) -> Vec<tokio::task::JoinHandle<()>> {
        for c in self.components.lock().unwrap().iter_mut() {
            if let Some(mut p) = c.process.take() {
                p.kill();
            }
        }
        let handles = self
            .proxies
            .lock()
            .unwrap()
            .iter_mut()
            .filter_map(Proxy::stop)
            .collect();
        self.links.close_all();
        if self.dir.exists() {
            if let Err(e) = std::fs::remove_dir_all(&self.dir) {
                tracing::warn!("removing {}: {e}", self.dir.display());
            }
        }
        handles
    }
}

impl Drop for TidbPlayground {
    fn drop(&mut self) {
        self.teardown_now();
    }
}
