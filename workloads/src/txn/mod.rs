//! What the transactional workloads (list-append and rw-register) share: options, the
//! rotating key pool, the transaction generator, and the client that runs a transaction's
//! micro-ops in SQL and classifies its outcome.
//!
//! A transaction is `START TRANSACTION`, one statement per micro-op, `COMMIT`, on the node
//! the worker is bound to. Classification follows [`crate::sql::errors`]: an error before
//! COMMIT rolls back and is `fail` (nothing can have committed), an error on COMMIT is
//! looked up in the table (deadlock / certification failure `fail`, anything else `info`).
//! A transaction of reads only is read-only: any error, and a timeout, is `fail`.
//!
//! Keys (after Elle's `key-count` / `max-writes-per-key`): `--key-count` keys are live; a
//! key that has had `--max-writes-per-key` writes is retired and a fresh key takes its slot,
//! so each key's version order stays short. Written values are unique per key: the n-th
//! write to a key writes n. Keys spread over `--tables` tables by `key % tables`.
//! The final generator reads every key ever used, once, after the cluster has healed.
//! `--sync-wait` runs `SET SESSION wsrep_sync_wait = 1` on each connection (Galera's causal
//! reads), to compare the realtime anomalies (stale reads across nodes) with and without.
//!
//! Consistency model (`--model`): by default the one the chosen isolation level names
//! (read-committed, repeatable-read, serializable; without `--isolation`, MariaDB's default
//! REPEATABLE READ, so repeatable-read). Anomalies are reported by name whatever the model;
//! the verdict is invalid only for anomalies the model forbids. Note that InnoDB's REPEATABLE
//! READ is snapshot reads plus locking writes, weaker than Adya's PL-2.99 (the checker's
//! repeatable-read): lost updates and write skew there are real findings, not harness bugs.

mod client;

use crate::sql::{Isolation, KeyPool, ReadLock, SqlConn};
use async_trait::async_trait;
use clap::Args;
use client::TxnClient;
use faultline_checkers::elle::{self, ElleChecker};
use faultline_cluster::Endpoint;
use faultline_core::generator::{from_fn, once, seq, Gen};
use faultline_core::{Client, Invocation};
use faultline_harness::Workload;
use mysql_async::prelude::Queryable;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct TxnOptions {
    /// Tables the keys are spread over (key % tables).
    #[arg(long, default_value_t = 2)]
    pub tables: usize,
    /// Micro-ops per transaction: 1 to this many.
    #[arg(long, default_value_t = 4)]
    pub max_txn_length: usize,
    /// Keys live at a time.
    #[arg(long, default_value_t = 10)]
    pub key_count: usize,
    /// Writes to one key before it is retired for a fresh one.
    #[arg(long, default_value_t = 32)]
    pub max_writes_per_key: usize,
    /// Transaction isolation level (default: the server's, REPEATABLE READ on MariaDB).
    #[arg(long, value_enum)]
    pub isolation: Option<Isolation>,
    /// Lock the rows a transaction reads (`SELECT ... FOR UPDATE`) or not.
    #[arg(long, value_enum, default_value = "none")]
    pub read_lock: ReadLock,
    /// `SET SESSION wsrep_sync_wait = 1` on every connection (Galera causal reads: a
    /// transaction's reads see everything committed cluster-wide before they started).
    #[arg(long)]
    #[serde(default)]
    pub sync_wait: bool,
    /// Consistency model the history must satisfy (Elle's names; default: the one the
    /// isolation level names, repeatable-read without --isolation).
    #[arg(long, value_parser = parse_model)]
    pub model: Option<String>,
}

impl Default for TxnOptions {
    fn default() -> Self {
        TxnOptions {
            tables: 2,
            max_txn_length: 4,
            key_count: 10,
            max_writes_per_key: 32,
            isolation: None,
            read_lock: ReadLock::None,
            sync_wait: false,
            model: None,
        }
    }
}

fn parse_model(s: &str) -> Result<String, String> {
    elle::models::canonical(s).map(String::from).ok_or_else(|| {
        let known: Vec<&str> = elle::models::all_models().into_iter().collect();
        format!(
            "unknown consistency model {s:?}; known: {}",
            known.join(", ")
        )
    })
}

impl TxnOptions {
    /// The consistency model checked: `--model`, else the isolation level's own.
    pub fn model_name(&self) -> String {
        if let Some(m) = &self.model {
            return m.clone();
        }
        match self.isolation {
            Some(Isolation::ReadUncommitted) => "read-uncommitted",
            Some(Isolation::ReadCommitted) => "read-committed",
            Some(Isolation::Serializable) => "serializable",
            Some(Isolation::RepeatableRead) | None => "repeatable-read",
        }
        .to_string()
    }

    /// The Elle checker for `workload` with these options.
    pub fn checker(&self, workload: elle::Workload) -> Result<ElleChecker, elle::ElleError> {
        ElleChecker::new(workload, &self.model_name())
    }
}

/// Which transactional workload: decides the table layout, the write statement and how a
/// read's row becomes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnKind {
    Append,
    RwRegister,
}

impl TxnKind {
    pub fn name(self) -> &'static str {
        match self {
            TxnKind::Append => "append",
            TxnKind::RwRegister => "rw-register",
        }
    }
    pub fn elle(self) -> elle::Workload {
        match self {
            TxnKind::Append => elle::Workload::Append,
            TxnKind::RwRegister => elle::Workload::RwRegister,
        }
    }
    /// The micro-op name of a write: `append` or `w`.
    fn write_f(self) -> &'static str {
        match self {
            TxnKind::Append => "append",
            TxnKind::RwRegister => "w",
        }
    }
    fn table(self, key: i64, tables: usize) -> String {
        let prefix = match self {
            TxnKind::Append => "append",
            TxnKind::RwRegister => "rw",
        };
        format!("{prefix}{}", key.rem_euclid(tables.max(1) as i64))
    }
    fn create_table(self, table: &str) -> String {
        let ty = match self {
            TxnKind::Append => "TEXT",
            TxnKind::RwRegister => "BIGINT",
        };
        format!("CREATE TABLE IF NOT EXISTS {table} (id BIGINT PRIMARY KEY, val {ty})")
    }
    fn write_sql(self, table: &str, key: i64, value: i64) -> String {
        match self {
            TxnKind::Append => crate::append::append_sql(table, key, value),
            TxnKind::RwRegister => crate::rw_register::write_sql(table, key, value),
        }
    }
}

/// One transaction of 1..=max_len micro-ops on keys of `pool`, half reads, half writes of
/// fresh values (each key's values count up from 1; a key retires after `max_writes`).
pub fn txn(
    pool: &mut KeyPool,
    rng: &mut impl Rng,
    max_len: usize,
    max_writes: usize,
    write_f: &str,
) -> Value {
    let len = rng.random_range(1..=max_len.max(1));
    let mops: Vec<Value> = (0..len)
        .map(|_| {
            let slot = pool.choose(rng);
            let key = pool.key(slot);
            if rng.random_bool(0.5) {
                return json!(["r", key, null]);
            }
            let value = pool.bump(slot, max_writes);
            json!([write_f, key, value])
        })
        .collect();
    Value::Array(mops)
}

/// The append or rw-register workload.
pub struct TxnWorkload {
    kind: TxnKind,
    opts: TxnOptions,
    endpoints: Vec<Endpoint>,
    pool: Arc<Mutex<KeyPool>>,
}

impl TxnWorkload {
    pub fn new(kind: TxnKind, opts: TxnOptions, endpoints: &[Endpoint]) -> Self {
        let pool = Arc::new(Mutex::new(KeyPool::new(opts.key_count)));
        TxnWorkload {
            kind,
            opts,
            endpoints: endpoints.to_vec(),
            pool,
        }
    }
}

#[async_trait]
impl Workload for TxnWorkload {
    async fn setup(&self) -> anyhow::Result<()> {
        let mut conn = crate::sql::conn::setup_connection(&self.endpoints[0]).await?;
        for t in 0..self.opts.tables.max(1) as i64 {
            let table = self.kind.table(t, self.opts.tables);
            conn.query_drop(self.kind.create_table(&table)).await?;
            conn.query_drop(format!("DELETE FROM {table}")).await?;
        }
        Ok(())
    }

    fn client(&self, node: &str) -> Box<dyn Client> {
        let endpoint = crate::sql::conn::endpoint_for(&self.endpoints, node);
        let init = crate::sql::conn::session(self.opts.isolation, self.opts.sync_wait);
        Box::new(TxnClient {
            conn: SqlConn::new(endpoint, init),
            kind: self.kind,
            tables: self.opts.tables,
            read_lock: self.opts.read_lock,
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        let pool = self.pool.clone();
        let (len, writes, f) = (
            self.opts.max_txn_length,
            self.opts.max_writes_per_key,
            self.kind.write_f(),
        );
        from_fn(move |ctx| {
            let txn = txn(&mut pool.lock().expect("key pool"), ctx.rng, len, writes, f);
            Invocation::new("txn", txn)
        })
    }

    fn final_generator(&self) -> Option<Gen<Invocation>> {
        let used = self.pool.lock().expect("key pool").used();
        let keys: Vec<i64> = (0..used).collect();
        let reads = keys
            .chunks(8)
            .map(|ks| {
                let mops: Vec<Value> = ks.iter().map(|k| json!(["r", k, null])).collect();
                once(Invocation::new("txn", Value::Array(mops)))
            })
            .collect();
        Some(seq(reads))
    }
}

#[cfg(test)]
mod tests {
    use super::client::parse_mops;
    use super::*;
    use rand::SeedableRng;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn values_are_unique_per_key_and_keys_rotate() {
        let mut pool = KeyPool::new(3);
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mut written: HashMap<i64, HashSet<i64>> = HashMap::new();
        let mut lens = HashSet::new();
        for _ in 0..500 {
            let txn = txn(&mut pool, &mut rng, 4, 5, "append");
            let mops = parse_mops(&txn).unwrap();
            lens.insert(mops.len());
            for (f, k, v) in mops {
                if f == "append" {
                    let v = v.as_i64().unwrap();
                    assert!((1..=5).contains(&v));
                    assert!(written.entry(k).or_default().insert(v), "{k} {v} twice");
                } else {
                    assert_eq!((f.as_str(), v), ("r", Value::Null));
                }
            }
        }
        assert_eq!(lens, (1..=4).collect());
        assert!(pool.used() > 50, "keys did not rotate: {}", pool.used());
        assert!(written.keys().all(|&k| k < pool.used()));
    }

    #[test]
    fn keys_spread_over_tables() {
        assert_eq!(TxnKind::Append.table(7, 3), "append1");
        assert_eq!(TxnKind::RwRegister.table(7, 1), "rw0");
        assert!(TxnKind::RwRegister
            .create_table("rw0")
            .contains("val BIGINT"));
    }
}
