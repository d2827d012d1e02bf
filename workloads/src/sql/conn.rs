//! One connection per client, opened lazily, dropped after a timeout or a broken connection.

use super::errors::{classify, describe, Stage};
use super::isolation::Isolation;
use faultline_core::Endpoint;
use faultline_core::{Completion, OpType};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use std::time::Duration;

/// How long a client waits after a failed connect before reporting it (`fail`: nothing
/// was sent).
pub const CONNECT_RETRY: Duration = Duration::from_millis(500);

pub use faultline_core::endpoint::endpoint_for;

/// The statements every new connection of a workload runs: its isolation level (default:
/// the server's) and, with `sync_wait`, Galera's causal reads.
pub fn session(isolation: Option<Isolation>, sync_wait: bool) -> Vec<String> {
    let mut init: Vec<String> = isolation
        .map(Isolation::session_statement)
        .into_iter()
        .collect();
    if sync_wait {
        init.push("SET SESSION wsrep_sync_wait = 1".to_string());
    }
    init
}

/// A connection for a workload's setup (schema, initial data) on `endpoint`; a failure
/// names the endpoint (password masked).
pub async fn setup_connection(endpoint: &Endpoint) -> anyhow::Result<Conn> {
    let mut c = SqlConn::new(endpoint.clone(), vec![]);
    c.get()
        .await
        .map_err(|e| anyhow::anyhow!("connecting to {endpoint}: {}", e.message))?;
    Ok(c.conn.take().expect("connected above"))
}

/// A lazily opened connection to one node.
pub struct SqlConn {
    endpoint: Endpoint,
    /// Statements run on every new connection (isolation level, ...).
    init: Vec<String>,
    conn: Option<Conn>,
    connect_timeout: Duration,
}

/// An error with the outcome it implies.
pub struct OpError {
    pub kind: OpType,
    pub message: String,
}

impl OpError {
    pub fn completion(self) -> Completion {
        Completion {
            kind: self.kind,
            value: None,
            error: Some(self.message),
        }
    }
}

impl SqlConn {
    pub fn new(endpoint: Endpoint, init: Vec<String>) -> Self {
        SqlConn {
            endpoint,
            init,
            conn: None,
            connect_timeout: Duration::from_secs(2),
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The open connection, connecting first when needed. Errors here are always `fail`:
    /// nothing of the op was sent.
    pub async fn get(&mut self) -> Result<&mut Conn, OpError> {
        if self.conn.is_none() {
            if !self.endpoint.scheme.is_empty() && self.endpoint.scheme != "mysql" {
                return Err(OpError {
                    kind: OpType::Fail,
                    message: format!(
                        "{} speaks {}, not the MySQL protocol: this SQL workload needs a MySQL-protocol \
                         --db (local-galera, local-mariadb, tidb-playground, mysql://...); \
                         `faultline list workloads` names the workloads of other systems",
                        self.endpoint, self.endpoint.scheme
                    ),
                });
            }
            let opts = Opts::from_url(&self.endpoint.url_with_secret()).map_err(|e| OpError {
                kind: OpType::Fail,
                message: format!("bad endpoint {}: {e}", self.endpoint),
            })?;
            let opts = OptsBuilder::from_opts(opts)
                .init(self.init.clone())
                .stmt_cache_size(0)
                .tcp_nodelay(true);
            let message = match tokio::time::timeout(self.connect_timeout, Conn::new(opts)).await {
                Ok(Ok(c)) => {
                    self.conn = Some(c);
                    return Ok(self.conn.as_mut().expect("just connected"));
                }
                Ok(Err(e)) => format!("connect: {}", describe(&e)),
                Err(_) => "connect: timed out".to_string(),
            };
            // Ops are paced globally: a worker whose node is down would otherwise fail at
            // once, again and again, take most op slots from the workers of healthy nodes
            // and fill the history with fails. Waiting keeps it near one op per pause.
            tokio::time::sleep(CONNECT_RETRY).await;
            return Err(OpError {
                kind: OpType::Fail,
                message,
            });
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Drops the connection; the next op reconnects.
    pub fn reset(&mut self) {
        self.conn = None;
    }

    /// Turns a driver error at `stage` into an outcome, dropping a connection that can no
    /// longer be trusted.
    pub fn error(&mut self, e: mysql_async::Error, stage: Stage) -> OpError {
        let kind = classify(&e, stage);
        if !matches!(e, mysql_async::Error::Server(_)) || kind == OpType::Info {
            self.reset();
        }
        OpError {
            kind,
            message: describe(&e),
        }
    }

    /// Runs a statement whose result is not needed.
    pub async fn exec(&mut self, sql: &str, stage: Stage) -> Result<(), OpError> {
        let r = self.get().await?.query_drop(sql).await;
        r.map_err(|e| self.error(e, stage))
    }

    /// COMMIT at `stage` (Commit, or ReadOnly for a transaction that only read); a COMMIT
    /// that certainly failed is rolled back, so the connection can be used again.
    pub async fn commit(&mut self, stage: Stage) -> Result<(), OpError> {
        let r = self.exec("COMMIT", stage).await;
        if let Err(e) = &r {
            if e.kind == OpType::Fail {
                self.rollback().await;
            }
        }
        r
    }

    /// Best-effort ROLLBACK after a failed statement; a failure drops the connection.
    pub async fn rollback(&mut self) {
        if let Some(c) = self.conn.as_mut() {
            if c.query_drop("ROLLBACK").await.is_err() {
                self.reset();
            }
        }
    }
}
