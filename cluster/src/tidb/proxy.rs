//! TCP proxies in front of every advertised address, and the partitions they enforce.
//!
//! Every component listens on its real port, but is advertised to the others through a
//! proxy of ours ([`Proxy`]), which forwards each connection to the real port. On loopback
//! every connection comes from 127.0.0.1, so the proxy finds out who connected by looking up
//! the owner of the connecting socket: the client's port in /proc/net/tcp{,6} gives the
//! socket's inode, and the component whose /proc/<pid>/fd holds `socket:[inode]` is the
//! client ([`owner_of`]). A cut pair ([`Links::partition`]) has its new connections closed
//! right after accept and its open ones torn down, in both directions.
//!
//! Limits: only connections to advertised addresses go through a proxy (PD client and peer
//! URLs, TiKV's advertise-addr); status ports and TiDB's MySQL port are not cut. A client
//! that is not one of our component processes (the harness, a workload, a process the
//! component forked) is never cut. A connection whose owner cannot be found in time (it
//! closed already) is let through.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

struct Conn {
    from: Option<String>,
    to: String,
    abort: AbortHandle,
}

#[derive(Default)]
struct State {
    /// Component pids and their node names.
    owners: HashMap<u32, String>,
    /// Cut pairs, each as (smaller name, larger name).
    cut: BTreeSet<(String, String)>,
    conns: HashMap<u64, Conn>,
    next_id: u64,
    refused: u64,
}

impl State {
    fn is_cut(&self, from: Option<&str>, to: &str) -> bool {
        from.is_some_and(|f| self.cut.contains(&pair(f, to)))
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

/// What the proxies know and enforce: who is who, which pairs are cut, the open links.
#[derive(Default)]
pub struct Links {
    state: Mutex<State>,
}

impl Links {
    pub fn set_owner(&self, pid: u32, node: &str) {
        let mut st = self.state.lock().unwrap();
        st.owners.retain(|_, n| n != node);
        st.owners.insert(pid, node.to_string());
    }

    pub fn forget_owner(&self, node: &str) {
        self.state.lock().unwrap().owners.retain(|_, n| n != node);
    }

    /// Cuts every pair the grudge names (a grudge one way cuts the TCP link both ways) and
    /// closes the open connections between them. Replaces the previous partition.
    pub fn partition(&self, grudge: &faultline_core::db::Grudge) {
        let mut st = self.state.lock().unwrap();
        st.cut = grudge
            .iter()
            .flat_map(|(a, bs)| bs.iter().map(move |b| pair(a, b)))
            .filter(|(a, b)| a != b)
            .collect();
        let doomed: Vec<u64> = st
            .conns
            .iter()
            .filter(|(_, c)| st.is_cut(c.from.as_deref(), &c.to))
            .map(|(id, _)| *id)
            .collect();
        for id in doomed {
            if let Some(c) = st.conns.remove(&id) {
                c.abort.abort();
            }
        }
    }

    pub fn heal(&self) {
        self.state.lock().unwrap().cut.clear();
    }

    /// The cut pairs, for facts and tests.
    pub fn cut_pairs(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().cut.iter().cloned().collect()
    }

    /// The open proxied connections as (client node if known, proxied node).
    pub fn open(&self) -> Vec<(Option<String>, String)> {
        let st = self.state.lock().unwrap();
        st.conns
            .values()
            .map(|c| (c.from.clone(), c.to.clone()))
            .collect()
    }

    /// How many connections were refused because their pair was cut.
    pub fn refused(&self) -> u64 {
        self.state.lock().unwrap().refused
    }

    /// Tears down every open connection (teardown).
    pub fn close_all(&self) {
        let mut st = self.state.lock().unwrap();
        for (_, c) in st.conns.drain() {
            c.abort.abort();
        }
    }

    fn owners(&self) -> Vec<(u32, String)> {
        let st = self.state.lock().unwrap();
        st.owners.iter().map(|(p, n)| (*p, n.clone())).collect()
    }
}

/// One listening proxy: 127.0.0.1:`port` forwards to `target`, on behalf of node `node`.
pub struct Proxy {
    pub node: String,
    pub port: u16,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Binds a free loopback port and starts forwarding (on the current tokio runtime).
    pub async fn start(
        node: &str,
        target: SocketAddr,
        links: Arc<Links>,
    ) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let name = node.to_string();
        let task = tokio::spawn(accept_loop(listener, port, name, target, links));
        Ok(Proxy {
            node: node.to_string(),
            port,
            task: Some(task),
        })
    }

    /// Stops listening; await the handle to be sure the port is released.
    pub fn stop(&mut self) -> Option<JoinHandle<()>> {
        let task = self.task.take()?;
        task.abort();
        Some(task)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(
    listener: TcpListener,
    port: u16,
    node: String,
    target: SocketAddr,
    links: Arc<Links>,
) {
    loop {
        let (client, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let owners = links.owners();
        let from = owner_of(peer.port(), port, &owners);
        let mut st = links.state.lock().unwrap();
        if st.is_cut(from.as_deref(), &node) {
            st.refused += 1;
            drop(client);
            continue;
        }
        let id = st.next_id;
        st.next_id += 1;
        let done = links.clone();
        let task = tokio::spawn(async move {
            let mut client = client;
            if let Ok(mut upstream) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
            done.state.lock().unwrap().conns.remove(&id);
        });
        st.conns.insert(
            id,
            Conn {
                from,
                to: node.clone(),
                abort: task.abort_handle(),
            },
        );
    }
}

/// The inode of the socket whose local port is `client_port` and remote port `server_port`.
fn socket_inode(client_port: u16, server_port: u16) -> Option<u64> {
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 {
                continue;
            }
            let port = |s: &str| {
                s.rsplit_once(':')
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
            };
            if port(f[1]) == Some(client_port) && port(f[2]) == Some(server_port) {
                return f[9].parse().ok().filter(|i| *i != 0);
            }
        }
    }
    None
}

/// Which of `owners` (pid, node) holds the client end of a connection from `client_port` to
/// our `server_port`, if any.
pub fn owner_of(client_port: u16, server_port: u16, owners: &[(u32, String)]) -> Option<String> {
    let inode = socket_inode(client_port, server_port)?;
    let wanted = format!("socket:[{inode}]");
    owners.iter().find_map(|(pid, node)| {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        fds.flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == wanted.as_str()))
            .then(|| node.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_owner_of_a_loopback_connection_is_found_through_proc() {
        // Our own process holds the client end, so it is found under our own pid.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server_port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", server_port)).unwrap();
        let client_port = client.local_addr().unwrap().port();
        let me = vec![(std::process::id(), "me".to_string())];
        assert_eq!(
            owner_of(client_port, server_port, &me).as_deref(),
            Some("me")
        );
        let stranger = vec![(1, "init".to_string())];
        assert_eq!(owner_of(client_port, server_port, &stranger), None);
    }

    #[test]
    fn a_one_way_grudge_cuts_the_pair() {
        let links = Links::default();
        let mut g = faultline_core::db::Grudge::new();
        g.insert("tikv-0".into(), ["pd-0".to_string()].into_iter().collect());
        links.partition(&g);
        let st = links.state.lock().unwrap();
        assert!(st.is_cut(Some("pd-0"), "tikv-0") && st.is_cut(Some("tikv-0"), "pd-0"));
        assert!(!st.is_cut(Some("tikv-1"), "pd-0") && !st.is_cut(None, "tikv-0"));
    }
}
