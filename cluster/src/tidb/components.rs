//! The playground's components: their roles, ports and the command-line flags each real
//! binary takes (after tiup playground's instance files). Every address another component
//! dials is advertised as one of our proxies' ports, never the real listen port.

use std::net::TcpListener;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Pd,
    Tikv,
    Tidb,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Pd => "pd",
            Role::Tikv => "tikv",
            Role::Tidb => "tidb",
        }
    }

    /// The role of a node name like `tikv-2`.
    pub fn of(node: &str) -> Option<Role> {
        let (role, k) = node.rsplit_once('-')?;
        k.parse::<usize>().ok()?;
        [Role::Pd, Role::Tikv, Role::Tidb]
            .into_iter()
            .find(|r| r.name() == role)
    }
}

/// PD k: its real client and peer ports, and the proxies advertised in front of them.
#[derive(Clone, Debug)]
pub struct PdPorts {
    pub client: u16,
    pub peer: u16,
    pub client_proxy: u16,
    pub peer_proxy: u16,
}

/// TiKV k: its real gRPC and status ports, and the proxy advertised in front of the first.
#[derive(Clone, Debug)]
pub struct TikvPorts {
    pub addr: u16,
    pub status: u16,
    pub addr_proxy: u16,
}

/// TiDB k: the MySQL port clients use (no proxy: clients are not nodes) and the status port.
#[derive(Clone, Debug)]
pub struct TidbPorts {
    pub port: u16,
    pub status: u16,
}

#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub pd: Vec<PdPorts>,
    pub tikv: Vec<TikvPorts>,
    pub tidb: Vec<TidbPorts>,
}

const HOST: &str = "127.0.0.1";

/// Ports for the components, held (bound) until the components are about to start: while a
/// port is held, neither another `take` nor a proxy's bind to port 0 can be given it. (A
/// port merely bound and let go, as tiup's MustGetFreePort does, can come back twice.)
#[derive(Default)]
pub struct PortReservations(Vec<TcpListener>);

impl PortReservations {
    /// A port nobody else listens on, kept until `release`.
    pub fn take(&mut self) -> std::io::Result<u16> {
        let listener = TcpListener::bind((HOST, 0))?;
        let port = listener.local_addr()?.port();
        self.0.push(listener);
        Ok(port)
    }

    /// Lets every port go, for the components to bind.
    pub fn release(self) {}
}

fn url(port: u16) -> String {
    format!("http://{HOST}:{port}")
}

impl Layout {
    /// PD endpoints as the other components are told them: the client proxies.
    pub fn pd_endpoints(&self) -> Vec<String> {
        self.pd
            .iter()
            .map(|p| format!("{HOST}:{}", p.client_proxy))
            .collect()
    }

    /// `pd-server` flags of PD k; `dir` is its own directory.
    pub fn pd_args(&self, k: usize, dir: &Path) -> Vec<String> {
        let p = &self.pd[k];
        let initial: Vec<String> = self
            .pd
            .iter()
            .enumerate()
            .map(|(i, q)| format!("pd-{i}={}", url(q.peer_proxy)))
            .collect();
        vec![
            format!("--name=pd-{k}"),
            format!("--data-dir={}", dir.join("data").display()),
            format!("--peer-urls={}", url(p.peer)),
            format!("--advertise-peer-urls={}", url(p.peer_proxy)),
            format!("--client-urls={}", url(p.client)),
            format!("--advertise-client-urls={}", url(p.client_proxy)),
            format!("--initial-cluster={}", initial.join(",")),
            format!("--log-file={}", dir.join("pd.log").display()),
        ]
    }

    /// `tikv-server` flags of TiKV k.
    pub fn tikv_args(&self, k: usize, dir: &Path) -> Vec<String> {
        let t = &self.tikv[k];
        vec![
            format!("--addr={HOST}:{}", t.addr),
            format!("--advertise-addr={HOST}:{}", t.addr_proxy),
            format!("--status-addr={HOST}:{}", t.status),
            format!("--pd-endpoints={}", self.pd_endpoints().join(",")),
            format!("--data-dir={}", dir.join("data").display()),
            format!("--log-file={}", dir.join("tikv.log").display()),
        ]
    }

    /// `tidb-server` flags of TiDB k.
    pub fn tidb_args(&self, k: usize, dir: &Path) -> Vec<String> {
        let t = &self.tidb[k];
        vec![
            "-P".into(),
            t.port.to_string(),
            format!("--host={HOST}"),
            "--store=tikv".into(),
            format!("--status={}", t.status),
            format!("--path={}", self.pd_endpoints().join(",")),
            format!("--log-file={}", dir.join("tidb.log").display()),
        ]
    }

    /// The log file a component's own `--log-file` flag names.
    pub fn log_name(role: Role) -> &'static str {
        match role {
            Role::Pd => "pd.log",
            Role::Tikv => "tikv.log",
            Role::Tidb => "tidb.log",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_node_names() {
        assert_eq!(Role::of("pd-0"), Some(Role::Pd));
        assert_eq!(Role::of("tikv-12"), Some(Role::Tikv));
        assert_eq!(Role::of("tidb-1"), Some(Role::Tidb));
        assert_eq!(Role::of("n1"), None);
        assert_eq!(Role::of("tiflash-0"), None);
    }

    #[test]
    fn peers_are_told_the_proxies_not_the_real_ports() {
        let layout = Layout {
            pd: vec![
                PdPorts {
                    client: 1,
                    peer: 2,
                    client_proxy: 11,
                    peer_proxy: 12,
                },
                PdPorts {
                    client: 3,
                    peer: 4,
                    client_proxy: 13,
                    peer_proxy: 14,
                },
            ],
            tikv: vec![TikvPorts {
                addr: 5,
                status: 6,
                addr_proxy: 15,
            }],
            tidb: vec![TidbPorts { port: 7, status: 8 }],
        };
        let pd = layout.pd_args(1, Path::new("/d"));
        assert!(pd.contains(&"--peer-urls=http://127.0.0.1:4".to_string()));
        assert!(pd.contains(&"--advertise-peer-urls=http://127.0.0.1:14".to_string()));
        assert!(pd.contains(
            &"--initial-cluster=pd-0=http://127.0.0.1:12,pd-1=http://127.0.0.1:14".to_string()
        ));
        let kv = layout.tikv_args(0, Path::new("/d"));
        assert!(kv.contains(&"--advertise-addr=127.0.0.1:15".to_string()));
        assert!(kv.contains(&"--pd-endpoints=127.0.0.1:11,127.0.0.1:13".to_string()));
        let db = layout.tidb_args(0, Path::new("/d"));
        assert!(db.contains(&"--path=127.0.0.1:11,127.0.0.1:13".to_string()));
    }
}
