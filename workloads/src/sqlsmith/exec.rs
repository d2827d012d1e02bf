//! Running one statement on one database over the text protocol and turning the answer
//! into an [`Outcome`].
//!
//! One connection per database, opened lazily into the run's own database, with binary
//! collation for literals (`SET NAMES utf8mb4 COLLATE utf8mb4_bin`, the same on both
//! sides). A timeout, a lost connection or a driver error is [`Outcome::Unknown`] and drops
//! the connection: the server may or may not have executed the statement, and a
//! transaction open on it is rolled back with the connection.

use faultline_cluster::Endpoint;
use faultline_sqlsmith::compare::Row;
use faultline_sqlsmith::Outcome;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Value};
use std::time::Duration;

pub use crate::sql::errors::{FAULT_CODES, SYNTAX_CODES};

/// What every connection runs first (the run's and the replays'): a reproducer needs it too,
/// since a client's default character set changes what non-ASCII literals mean.
pub const SESSION_SETUP: &str = "SET NAMES utf8mb4 COLLATE utf8mb4_bin";

/// Whether an outcome on the system under test says nothing about the statement itself.
pub fn fault_like(o: &Outcome) -> bool {
    match o {
        Outcome::Unknown { .. } => true,
        Outcome::Error { code, .. } => FAULT_CODES.contains(code),
        _ => false,
    }
}

/// A lazily opened connection to one server, in database `database`.
pub struct SqlDb {
    pub label: String,
    endpoint: Endpoint,
    database: String,
    conn: Option<Conn>,
    timeout: Duration,
}

fn value_text(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

impl SqlDb {
    /// `database` is created on first connect if missing.
    pub fn new(label: &str, endpoint: Endpoint, database: &str, timeout: Duration) -> SqlDb {
        SqlDb {
            label: label.into(),
            endpoint,
            database: database.into(),
            conn: None,
            timeout,
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    async fn connect(&mut self) -> Result<&mut Conn, String> {
        if self.conn.is_none() {
            let opts =
                Opts::from_url(&self.endpoint.url_with_secret()).map_err(|e| e.to_string())?;
            let init = vec![SESSION_SETUP.to_string()];
            let opts = OptsBuilder::from_opts(opts)
                .init(init)
                .stmt_cache_size(0)
                .tcp_nodelay(true);
            let setup = [
                format!("CREATE DATABASE IF NOT EXISTS {}", self.database),
                format!("USE {}", self.database),
            ];
            let conn = tokio::time::timeout(self.timeout, async {
                let mut c = Conn::new(opts).await?;
                for sql in &setup {
                    c.query_drop(sql).await?;
                }
                Ok::<Conn, mysql_async::Error>(c)
            })
            .await
            .map_err(|_| "connect: timed out".to_string())?
            .map_err(|e| format!("connect: {e}"))?;
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("connected"))
    }

    /// Drops the connection (an open transaction is rolled back by the server).
    pub fn reset(&mut self) {
        self.conn = None;
    }

    async fn query(conn: &mut Conn, sql: &str) -> mysql_async::Result<Outcome> {
        let mut r = conn.query_iter(sql).await?;
        let has_columns = !r.columns_ref().is_empty();
        let rows: Vec<mysql_async::Row> = r.collect().await?;
        let affected = r.affected_rows();
        r.drop_result().await?;
        Ok(if has_columns {
            let rows: Vec<Row> = rows
                .into_iter()
                .map(|row| row.unwrap().into_iter().map(value_text).collect())
                .collect();
            Outcome::Rows { rows }
        } else {
            Outcome::Affected { rows: affected }
        })
    }

    /// Runs one statement. Never fails: every problem is in the outcome.
    pub async fn run(&mut self, sql: &str) -> Outcome {
        let timeout = self.timeout;
        let conn = match self.connect().await {
            Ok(c) => c,
            Err(reason) => return Outcome::Unknown { reason },
        };
        match tokio::time::timeout(timeout, Self::query(conn, sql)).await {
            Ok(Ok(o)) => o,
            Ok(Err(mysql_async::Error::Server(e))) => Outcome::Error {
                code: e.code,
                message: e.message,
            },
            Ok(Err(e)) => {
                self.reset();
                Outcome::Unknown {
                    reason: e.to_string(),
                }
            }
            Err(_) => {
                self.reset();
                Outcome::Unknown {
                    reason: format!("no answer within {timeout:?}"),
                }
            }
        }
    }

    /// Drops and recreates the run's database and reconnects into it (for replays).
    pub async fn recreate_database(&mut self) -> Result<(), String> {
        let db = self.database.clone();
        for sql in [
            format!("DROP DATABASE IF EXISTS {db}"),
            format!("CREATE DATABASE {db}"),
            format!("USE {db}"),
        ] {
            match self.run(&sql).await {
                Outcome::Error { code, message } => return Err(format!("{sql}: {code} {message}")),
                Outcome::Unknown { reason } => return Err(format!("{sql}: {reason}")),
                _ => {}
            }
        }
        Ok(())
    }
}
