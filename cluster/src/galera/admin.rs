//! Admin queries over a node's unix socket (works across namespaces and partitions).

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// The wsrep status of one node, or why it could not be read.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct NodeStatus {
    pub reachable: bool,
    pub state: String,
    pub cluster_status: String,
    pub cluster_size: u32,
    pub ready: bool,
    pub cluster_state_uuid: String,
    pub last_committed: i64,
    pub provider_version: String,
}

impl NodeStatus {
    /// Serving queries as a full member of a primary component of `size` nodes.
    pub fn is_synced(&self, size: u32) -> bool {
        self.reachable
            && self.ready
            && self.state == "Synced"
            && self.cluster_status == "Primary"
            && self.cluster_size == size
    }
}

pub async fn connect(socket: &Path, timeout: Duration) -> Result<Conn, String> {
    let opts = OptsBuilder::default()
        .socket(Some(socket.display().to_string()))
        .user(Some("root"))
        .prefer_socket(true);
    match tokio::time::timeout(timeout, Conn::new(opts)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

/// Runs statements over the socket as root.
pub async fn execute(socket: &Path, statements: &[&str]) -> Result<(), String> {
    let mut conn = connect(socket, Duration::from_secs(5)).await?;
    for s in statements {
        conn.query_drop(*s).await.map_err(|e| format!("{s}: {e}"))?;
    }
    let _ = conn.disconnect().await;
    Ok(())
}

pub async fn status(socket: &Path) -> NodeStatus {
    let fut = async {
        let mut conn = connect(socket, Duration::from_secs(2)).await?;
        let rows: Vec<(String, String)> = conn
            .query("SHOW GLOBAL STATUS LIKE 'wsrep_%'")
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.disconnect().await;
        Ok::<_, String>(rows.into_iter().collect::<HashMap<_, _>>())
    };
    match tokio::time::timeout(Duration::from_secs(3), fut).await {
        Ok(Ok(m)) => {
            let get = |k: &str| m.get(k).cloned().unwrap_or_default();
            NodeStatus {
                reachable: true,
                state: get("wsrep_local_state_comment"),
                cluster_status: get("wsrep_cluster_status"),
                cluster_size: get("wsrep_cluster_size").parse().unwrap_or(0),
                ready: get("wsrep_ready") == "ON",
                cluster_state_uuid: get("wsrep_cluster_state_uuid"),
                last_committed: get("wsrep_last_committed").parse().unwrap_or(-1),
                provider_version: get("wsrep_provider_version"),
            }
        }
        _ => NodeStatus::default(),
    }
}

/// True when a plain (non-Galera) server answers `SELECT 1`.
pub async fn answers(socket: &Path) -> bool {
    let fut = async {
        let mut conn = connect(socket, Duration::from_secs(2)).await?;
        let one: Option<u8> = conn
            .query_first("SELECT 1")
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.disconnect().await;
        Ok::<_, String>(one == Some(1))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(3), fut).await,
        Ok(Ok(true))
    )
}

/// The first column of the first row of `sql`, as text (`None` for no row or NULL).
pub async fn query_value(socket: &Path, sql: &str) -> Result<Option<String>, String> {
    let mut conn = connect(socket, Duration::from_secs(5)).await?;
    let v: Option<Option<String>> = conn
        .query_first(sql)
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    let _ = conn.disconnect().await;
    Ok(v.flatten())
}
