//! The cluster control daemon: a cluster that keeps running between commands, driven
//! over a unix socket (`faultline cluster start --detach`, then `kill n1`, `status`, ...).
//!
//! Protocol: one JSON request per line, one JSON response per line. A [`Request`] is a
//! fault (any fault of the catalogue, started or stopped by name, run through the same
//! [`NemesisExecutor`](faultline_nemesis::NemesisExecutor) as a test run), a status, a heal
//! or a stop; the CLI's verbs (kill, restart, pause, resume, partition, skew, loss, delay)
//! are aliases for faults. The daemon remembers what it started, so `status` lists the
//! active faults and `heal` (all) or `heal n1` (one node) undoes them. `stop` heals, tears
//! down and exits. It serves any system: it only uses the system's capabilities.
//!
//! The socket and the state file live in `$TMPDIR/faultline-fl-ctl-<name>/`, which
//! `faultline cluster clean` removes along with everything else of ours. The protocol and the
//! client are here; what the daemon does with each request is in `daemon`.

mod daemon;

use daemon::Daemon;
use faultline_core::db::Db;
use faultline_core::Endpoint;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    /// Each node's state as the system reports it, and the active faults.
    Status,
    /// Starts or stops a catalogue fault by name (`action`: start or stop) on `nodes`
    /// (default: the fault's own choice when starting, every node it was started on when
    /// stopping), with `params` (default: drawn like a scheduled fault's).
    Fault {
        name: String,
        action: String,
        nodes: Option<Vec<String>>,
        #[serde(default)]
        params: Option<Value>,
    },
    /// Heals everything, or everything about one node.
    Heal { node: Option<String> },
    /// Heals, tears the system down and exits.
    Stop,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    pub message: String,
    #[serde(default)]
    pub data: Value,
}

impl Response {
    fn ok(message: impl Into<String>, data: Value) -> Self {
        Response {
            ok: true,
            message: message.into(),
            data,
        }
    }
    fn err(message: impl Into<String>) -> Self {
        Response {
            ok: false,
            message: message.into(),
            data: Value::Null,
        }
    }
}

/// Where the daemon named `name` keeps its socket and state.
pub fn control_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("faultline-fl-ctl-{name}"))
}

pub fn socket_path(name: &str) -> PathBuf {
    control_dir(name).join("control.sock")
}

/// Serves requests for `cluster` (any system: the daemon uses its capabilities) on `socket`
/// until a `stop` request or `shutdown` turns true.
pub async fn serve(
    cluster: Arc<dyn Db>,
    endpoints: Vec<Endpoint>,
    socket: &Path,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    let (stop, mut stopped) = watch::channel(false);
    let daemon = Arc::new(Daemon::new(cluster, endpoints, stop));
    loop {
        tokio::select! {
            conn = listener.accept() => {
                let (stream, _) = conn?;
                let d = daemon.clone();
                tokio::spawn(async move { let _ = d.handle(stream).await; });
            }
            _ = stopped.changed() => break,
            _ = shutdown.changed() => break,
        }
    }
    let _ = std::fs::remove_file(socket);
    Ok(())
}

/// Sends one request to the daemon named `name` and waits for its answer.
pub async fn request(name: &str, req: &Request) -> anyhow::Result<Response> {
    let socket = socket_path(name);
    let stream = UnixStream::connect(&socket).await.map_err(|e| {
        anyhow::anyhow!(
            "no cluster named {name:?} is running ({}: {e}): start one with `faultline cluster start --detach`",
            socket.display()
        )
    })?;
    let (read, mut write) = stream.into_split();
    let mut text = serde_json::to_string(req)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    let mut lines = BufReader::new(read).lines();
    let line = lines
        .next_line()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the daemon closed the connection"))?;
    Ok(serde_json::from_str(&line)?)
}
