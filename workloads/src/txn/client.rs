//! The client of the transactional workloads: runs a transaction's micro-ops in SQL on
//! one connection and classifies the outcome (see [`super`] for the rules).

use super::TxnKind;
use crate::sql::{ReadLock, SqlConn, Stage};
use async_trait::async_trait;
use faultline_core::{Client, Completion, Invocation};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

/// One micro-op of an invocation: `(f, key, value)`.
pub(super) fn parse_mops(v: &Value) -> Option<Vec<(String, i64, Value)>> {
    v.as_array()?
        .iter()
        .map(|m| {
            let a = m.as_array()?;
            Some((
                a.first()?.as_str()?.to_string(),
                a.get(1)?.as_i64()?,
                a.get(2)?.clone(),
            ))
        })
        .collect()
}

pub(super) struct TxnClient {
    pub(super) conn: SqlConn,
    pub(super) kind: TxnKind,
    pub(super) tables: usize,
    pub(super) read_lock: ReadLock,
}

impl TxnClient {
    /// Reads `key` inside the open transaction: the value for the history.
    async fn read(&mut self, key: i64, stage: Stage) -> Result<Value, Completion> {
        let table = self.kind.table(key, self.tables);
        let sql = format!(
            "SELECT val FROM {table} WHERE id = {key}{}",
            self.read_lock.clause()
        );
        let c = self.conn.get().await.map_err(|e| e.completion())?;
        let r = match self.kind {
            TxnKind::Append => c
                .query_first::<Option<String>, _>(sql)
                .await
                .map(|row| crate::append::parse_list(row.flatten().as_deref())),
            TxnKind::RwRegister => c
                .query_first::<Option<i64>, _>(sql)
                .await
                .map(|row| Ok(json!(row.flatten()))),
        };
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(bad)) => Err(Completion::fail(bad)),
            Err(e) => Err(self.conn.error(e, stage).completion()),
        }
    }

    async fn txn(&mut self, mops: Vec<(String, i64, Value)>) -> Completion {
        let read_only = mops.iter().all(|(f, _, _)| f == "r");
        let stage = if read_only {
            Stage::ReadOnly
        } else {
            Stage::BeforeCommit
        };
        if let Err(e) = self.conn.exec("START TRANSACTION", stage).await {
            return e.completion();
        }
        let mut done = Vec::with_capacity(mops.len());
        for (f, key, value) in mops {
            let step = if f == "r" {
                self.read(key, stage).await.map(|v| json!(["r", key, v]))
            } else {
                let Some(x) = value.as_i64() else {
                    self.conn.rollback().await;
                    return Completion::fail(format!("micro-op {f} {key} without an integer"));
                };
                let sql = self
                    .kind
                    .write_sql(&self.kind.table(key, self.tables), key, x);
                match self.conn.exec(&sql, stage).await {
                    Ok(()) => Ok(json!([f, key, x])),
                    Err(e) => Err(e.completion()),
                }
            };
            match step {
                Ok(m) => done.push(m),
                Err(c) => {
                    // Before COMMIT nothing can have committed: roll back, the txn failed.
                    self.conn.rollback().await;
                    return c;
                }
            }
        }
        let commit_stage = if read_only {
            Stage::ReadOnly
        } else {
            Stage::Commit
        };
        match self.conn.commit(commit_stage).await {
            Ok(()) => Completion::ok(Some(Value::Array(done))),
            Err(e) => e.completion(),
        }
    }
}

#[async_trait]
impl Client for TxnClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        if op.f != "txn" {
            return Completion::fail(format!("unknown {} op {}", self.kind.name(), op.f));
        }
        match parse_mops(&op.value) {
            Some(mops) => self.txn(mops).await,
            None => Completion::fail(format!("malformed transaction {}", op.value)),
        }
    }

    fn reset(&mut self) {
        self.conn.reset();
    }

    fn is_read_only(&self, op: &Invocation) -> bool {
        parse_mops(&op.value).is_some_and(|m| m.iter().all(|(f, _, _)| f == "r"))
    }
}
