//! The memkv nodes: TCP servers in front of one shared map, with the capabilities
//! faultline's faults need (see the crate doc).

use faultline::prelude::*;
use faultline::tokio;
use faultline::tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use faultline::tokio::net::{TcpListener, TcpStream};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A node's last acknowledged write: the key and the value before it.
#[derive(Clone, Copy)]
struct LastWrite {
    key: i64,
    before: Option<i64>,
}

type LastWriteSlot = Arc<Mutex<Option<LastWrite>>>;

#[derive(Default)]
struct Shared {
    map: BTreeMap<i64, i64>,
    grudge: Grudge,
}

struct Node {
    name: NodeId,
    addr: SocketAddr,
    paused: Arc<AtomicBool>,
    /// The accept loop and every connection of the node; aborted by a kill.
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    /// The last write this node acknowledged.
    last_write: LastWriteSlot,
}

/// A running memkv cluster.
pub struct MemKv {
    nodes: Vec<Node>,
    shared: Arc<Mutex<Shared>>,
    lose_writes: bool,
}

impl MemKv {
    /// Starts `n` nodes on loopback ports of the system's choosing.
    pub async fn start(n: usize, lose_writes: bool) -> std::io::Result<MemKv> {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let mut nodes = Vec::new();
        for k in 1..=n {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let node = Node {
                name: format!("n{k}"),
                addr: listener.local_addr()?,
                paused: Arc::new(AtomicBool::new(false)),
                tasks: Arc::new(Mutex::new(Vec::new())),
                last_write: Arc::new(Mutex::new(None)),
            };
            let kv = MemKv::serve(&node, listener, shared.clone(), n);
            node.tasks.lock().unwrap().push(kv);
            nodes.push(node);
        }
        Ok(MemKv {
            nodes,
            shared,
            lose_writes,
        })
    }

    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.nodes
            .iter()
            .map(|n| Endpoint {
                node: n.name.clone(),
                scheme: "memkv".into(),
                host: n.addr.ip().to_string(),
                port: n.addr.port(),
                user: String::new(),
                password: String::new(),
                database: String::new(),
            })
            .collect()
    }

    fn node(&self, name: &str) -> DbResult<&Node> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| DbError::new(format!("unknown node {name}")))
    }

    fn serve(
        node: &Node,
        listener: TcpListener,
        shared: Arc<Mutex<Shared>>,
        cluster_size: usize,
    ) -> tokio::task::JoinHandle<()> {
        let (name, paused, last) = (
            node.name.clone(),
            node.paused.clone(),
            node.last_write.clone(),
        );
        let tasks = node.tasks.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let ctx = Conn {
                    name: name.clone(),
                    paused: paused.clone(),
                    shared: shared.clone(),
                    last: last.clone(),
                    cluster_size,
                };
                // A kill aborts the connections with the accept loop.
                tasks.lock().unwrap().push(tokio::spawn(ctx.run(stream)));
            }
        })
    }
}

/// One client connection to one node.
struct Conn {
    name: NodeId,
    paused: Arc<AtomicBool>,
    shared: Arc<Mutex<Shared>>,
    last: LastWriteSlot,
    cluster_size: usize,
}

impl Conn {
    async fn run(self, stream: TcpStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            while self.paused.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let answer = self.answer(&line);
            if write
                .write_all(format!("{answer}\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    }

    fn answer(&self, line: &str) -> String {
        let mut s = self.shared.lock().unwrap();
        let cut = s.grudge.get(&self.name).map_or(0, |g| g.len());
        if (self.cluster_size - cut) * 2 <= self.cluster_size {
            return "ERR no quorum".into();
        }
        let words: Vec<i64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|w| w.parse().ok())
            .collect();
        match (line.split_whitespace().next(), words.as_slice()) {
            (Some("GET"), [k]) => match s.map.get(k) {
                Some(v) => format!("VAL {v}"),
                None => "VAL nil".into(),
            },
            (Some("PUT"), [k, v]) => {
                let before = s.map.insert(*k, *v);
                *self.last.lock().unwrap() = Some(LastWrite { key: *k, before });
                "OK".into()
            }
            (Some("CAS"), [k, old, new]) => {
                if s.map.get(k) == Some(old) {
                    s.map.insert(*k, *new);
                    *self.last.lock().unwrap() = Some(LastWrite {
                        key: *k,
                        before: Some(*old),
                    });
                    "OK".into()
                } else {
                    "NO".into()
                }
            }
            _ => format!("ERR cannot parse {line:?}"),
        }
    }
}

#[async_trait]
impl Db for MemKv {
    fn name(&self) -> &str {
        "memkv"
    }
    fn nodes(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }
    async fn heal_all(&self) -> DbResult<()> {
        for n in &self.nodes {
            n.paused.store(false, Ordering::SeqCst);
            Kill::start(self, &n.name).await?;
        }
        self.shared.lock().unwrap().grudge.clear();
        Ok(())
    }
    async fn wait_ready(&self, timeout: Duration) -> DbResult<()> {
        let started = std::time::Instant::now();
        for n in &self.nodes {
            loop {
                let ok = async {
                    let mut s = TcpStream::connect(n.addr).await.ok()?;
                    s.write_all(b"GET 0\n").await.ok()?;
                    let mut line = String::new();
                    BufReader::new(&mut s).read_line(&mut line).await.ok()?;
                    line.starts_with("VAL").then_some(())
                };
                if tokio::time::timeout(Duration::from_millis(500), ok)
                    .await
                    .ok()
                    .flatten()
                    .is_some()
                {
                    break;
                }
                if started.elapsed() > timeout {
                    return Err(DbError::new(format!("{} does not answer GET", n.name)));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }
    async fn teardown(&self) -> DbResult<()> {
        for n in &self.nodes {
            for t in n.tasks.lock().unwrap().drain(..) {
                t.abort();
            }
        }
        Ok(())
    }
    fn facts(&self) -> Value {
        json!({ "db": "memkv", "nodes": self.nodes(), "lose_writes": self.lose_writes })
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
}

#[async_trait]
impl Kill for MemKv {
    async fn kill(&self, node: &str) -> DbResult<()> {
        let n = self.node(node)?;
        for t in n.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
        if self.lose_writes {
            // The planted bug: the node's last acknowledged write was never persisted.
            // Its key goes back to the value before it, whatever was written since.
            if let Some(w) = n.last_write.lock().unwrap().take() {
                let mut s = self.shared.lock().unwrap();
                match w.before {
                    Some(v) => s.map.insert(w.key, v),
                    None => s.map.remove(&w.key),
                };
            }
        }
        Ok(())
    }
    async fn start(&self, node: &str) -> DbResult<()> {
        let n = self.node(node)?;
        if !n.tasks.lock().unwrap().is_empty() {
            return Ok(());
        }
        // Its port again: clients reconnect to the address they know.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(n.addr).await {
                Ok(l) => break l,
                // The killed listener goes when its aborted task is dropped: soon.
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(DbError::new(format!("{node}: binding {}: {e}", n.addr))),
            }
        };
        let task = MemKv::serve(n, listener, self.shared.clone(), self.nodes.len());
        n.tasks.lock().unwrap().push(task);
        Ok(())
    }
}

#[async_trait]
impl Pause for MemKv {
    async fn pause(&self, node: &str) -> DbResult<()> {
        self.node(node)?.paused.store(true, Ordering::SeqCst);
        Ok(())
    }
    async fn resume(&self, node: &str) -> DbResult<()> {
        self.node(node)?.paused.store(false, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait]
impl Partition for MemKv {
    async fn partition(&self, grudge: &Grudge) -> DbResult<()> {
        self.shared.lock().unwrap().grudge = grudge.clone();
        Ok(())
    }
    async fn heal_network(&self) -> DbResult<()> {
        self.shared.lock().unwrap().grudge.clear();
        Ok(())
    }
}
