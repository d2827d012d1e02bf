//! The register workload: reads, writes and compare-and-sets on independent registers, one
//! row each, checked for linearizability per key (the cas-register model).
//!
//! Schema: `CREATE TABLE registers (id INT PRIMARY KEY, val INT)`; a key with no row holds
//! nil (nothing written yet), the model's initial value.
//! - read: `SELECT val FROM registers WHERE id = k` (autocommit; read-only, so any error or
//!   timeout is `fail`);
//! - write: `INSERT INTO registers (id, val) VALUES (k, v) ON DUPLICATE KEY UPDATE val = v`
//!   (autocommit; errors classified by [`crate::sql::errors`] at the COMMIT stage);
//! - cas: `UPDATE registers SET val = new WHERE id = k AND val = old` (autocommit): one
//!   affected row is `ok`, none is `fail` (the compare did not hold, nothing changed).
//!   MariaDB counts *changed* rows, so a cas with `old == new` would report 0 even when it
//!   matched: the generator never makes one.
//!
//! Every op goes to the node its worker is bound to. `--sync-wait` runs
//! `SET SESSION wsrep_sync_wait = 1` on each connection, Galera's causal reads: a read
//! waits until the node has applied everything committed cluster-wide before it started.
//! Without it a Galera node may serve stale reads, which the checker reports.
//!
//! Keys: `--keys` registers are live at a time; after `--ops-per-key` ops a key is retired
//! and a fresh one takes its slot, so each key's history stays small enough for the
//! linearizability search. Values are small integers (`0..=--max-value`) so cas succeeds
//! often enough to matter. The final generator reads every key ever used, twice.
//!
//! History values (the linearizable checker's convention): `f` = read | write | cas,
//! `{"key": k, "value": v}`; a read's `v` is `null` on invoke and the value read on `ok`
//! (`null` = nil); a cas's `v` is `[old, new]`.

use crate::sql::{KeyPool, SqlConn, Stage};
use async_trait::async_trait;
use clap::Args;
use faultline_checkers::linearizable::{LinearizableChecker, ModelKind};
use faultline_core::generator::{from_fn, once, seq, Gen};
use faultline_core::{Checker, Client, Completion, Endpoint, Invocation, OpType};
use faultline_harness::{RunSpec, Sut, Workload, WorkloadDef};
use mysql_async::prelude::Queryable;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct RegisterOptions {
    /// Registers live at a time.
    #[arg(long, default_value_t = 8)]
    pub keys: usize,
    /// Ops on one key before it is retired and a fresh key takes its place.
    #[arg(long, default_value_t = 200)]
    pub ops_per_key: usize,
    /// Writes and cas use values 0..=max-value (at least 1).
    #[arg(long, default_value_t = 4)]
    pub max_value: i64,
    /// `SET SESSION wsrep_sync_wait = 1` on every connection (Galera causal reads).
    #[arg(long)]
    pub sync_wait: bool,
    /// Seconds the linearizability check may take before it says unknown.
    #[arg(long, default_value_t = 300)]
    pub check_timeout: u64,
}

impl Default for RegisterOptions {
    fn default() -> Self {
        RegisterOptions {
            keys: 8,
            ops_per_key: 200,
            max_value: 4,
            sync_wait: false,
            check_timeout: 300,
        }
    }
}

/// `register`: the workload as the registry knows it.
pub struct Register;

impl WorkloadDef for Register {
    type Options = RegisterOptions;
    fn name(&self) -> &'static str {
        "register"
    }
    fn about(&self) -> &'static str {
        "read / write / cas on independent keys; linearizability per key"
    }
    fn build(
        &self,
        opts: &RegisterOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(RegisterRun::new(opts.clone(), &sut.endpoints)))
    }
    fn checkers(&self, opts: &RegisterOptions) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(Register::checker(opts))])
    }
}

/// One register run against a system's endpoints.
pub struct RegisterRun {
    opts: RegisterOptions,
    endpoints: Vec<Endpoint>,
    keys: Arc<Mutex<KeyPool>>,
}

impl RegisterRun {
    pub fn new(opts: RegisterOptions, endpoints: &[Endpoint]) -> Self {
        let keys = Arc::new(Mutex::new(KeyPool::new(opts.keys)));
        RegisterRun {
            opts,
            endpoints: endpoints.to_vec(),
            keys,
        }
    }
}

impl Register {
    /// The checker for a register run with these options:
    /// linearizability per key against the cas-register model, initial value nil.
    pub fn checker(opts: &RegisterOptions) -> LinearizableChecker {
        let mut c = LinearizableChecker::new(ModelKind::CasRegister);
        c.check_timeout = Some(Duration::from_secs(opts.check_timeout.max(1)));
        c
    }
}

impl RegisterRun {
    fn init_statements(&self) -> Vec<String> {
        crate::sql::conn::session(None, self.opts.sync_wait)
    }
}

/// One op of the main phase: read, write or cas with equal odds.
fn next_op(keys: &Mutex<KeyPool>, rng: &mut impl Rng, cap: usize, max_value: i64) -> Invocation {
    let key = keys.lock().expect("register keys").touch(rng, cap);
    let max = max_value.max(1);
    match rng.random_range(0..3) {
        0 => Invocation::new("read", json!({"key": key, "value": null})),
        1 => Invocation::new(
            "write",
            json!({"key": key, "value": rng.random_range(0..=max)}),
        ),
        _ => {
            let old = rng.random_range(0..=max);
            // new != old: MariaDB reports 0 changed rows for a matching no-op update.
            let mut new = rng.random_range(0..max);
            if new >= old {
                new += 1;
            }
            Invocation::new("cas", json!({"key": key, "value": [old, new]}))
        }
    }
}

#[async_trait]
impl Workload for RegisterRun {
    async fn setup(&self) -> anyhow::Result<()> {
        let mut conn = crate::sql::conn::setup_connection(&self.endpoints[0]).await?;
        conn.query_drop("CREATE TABLE IF NOT EXISTS registers (id INT PRIMARY KEY, val INT)")
            .await?;
        conn.query_drop("DELETE FROM registers").await?;
        Ok(())
    }

    fn client(&self, node: &str) -> Box<dyn Client> {
        let endpoint = crate::sql::conn::endpoint_for(&self.endpoints, node);
        Box::new(RegisterClient {
            conn: SqlConn::new(endpoint, self.init_statements()),
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        let keys = self.keys.clone();
        let cap = self.opts.ops_per_key;
        let max_value = self.opts.max_value;
        from_fn(move |ctx| next_op(&keys, ctx.rng, cap, max_value))
    }

    fn final_generator(&self) -> Option<Gen<Invocation>> {
        let used = self.keys.lock().expect("register keys").used();
        let reads = (0..2)
            .flat_map(|_| 0..used)
            .map(|k| once(Invocation::new("read", json!({"key": k, "value": null}))))
            .collect();
        Some(seq(reads))
    }
}

struct RegisterClient {
    conn: SqlConn,
}

impl RegisterClient {
    async fn read(&mut self, key: i64) -> Completion {
        let sql = format!("SELECT val FROM registers WHERE id = {key}");
        let r: Result<Option<Option<i64>>, _> = match self.conn.get().await {
            Ok(c) => c.query_first(sql).await,
            Err(e) => return e.completion(),
        };
        match r {
            Ok(v) => Completion::ok(Some(json!({"key": key, "value": v.flatten()}))),
            Err(e) => self.conn.error(e, Stage::ReadOnly).completion(),
        }
    }

    /// Runs an autocommit write; `Ok(affected rows)` or the classified failure.
    async fn write(&mut self, sql: &str) -> Result<u64, Completion> {
        let c = self.conn.get().await.map_err(|e| e.completion())?;
        match c.query_drop(sql).await {
            Ok(()) => Ok(c.affected_rows()),
            Err(e) => Err(self.conn.error(e, Stage::Commit).completion()),
        }
    }
}

#[async_trait]
impl Client for RegisterClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        self.op(op).await
    }

    fn reset(&mut self) {
        self.conn.reset();
    }

    fn is_read_only(&self, op: &Invocation) -> bool {
        op.f == "read"
    }
}

impl RegisterClient {
    async fn op(&mut self, op: &Invocation) -> Completion {
        let Some(key) = op.value.get("key").and_then(Value::as_i64) else {
            return Completion::fail(format!("register op without a key: {}", op.value));
        };
        let v = &op.value["value"];
        match op.f.as_str() {
            "read" => self.read(key).await,
            "write" => {
                let Some(x) = v.as_i64() else {
                    return Completion::fail("write without an integer value");
                };
                let sql = format!(
                    "INSERT INTO registers (id, val) VALUES ({key}, {x}) \
                     ON DUPLICATE KEY UPDATE val = {x}"
                );
                match self.write(&sql).await {
                    Ok(_) => Completion::ok(None),
                    Err(c) => c,
                }
            }
            "cas" => {
                let (Some(old), Some(new)) = (v[0].as_i64(), v[1].as_i64()) else {
                    return Completion::fail("cas without [old, new]");
                };
                let sql =
                    format!("UPDATE registers SET val = {new} WHERE id = {key} AND val = {old}");
                match self.write(&sql).await {
                    Ok(1) => Completion::ok(None),
                    Ok(0) => Completion {
                        kind: OpType::Fail,
                        value: None,
                        error: Some(format!("cas: key {key} did not hold {old}")),
                    },
                    // More than one row cannot happen on a primary key; say so, do not guess.
                    Ok(n) => Completion::info(format!("cas changed {n} rows")),
                    Err(c) => c,
                }
            }
            other => Completion::fail(format!("unknown register op {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cas_never_swaps_a_value_for_itself() {
        let keys = Mutex::new(KeyPool::new(3));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut cas = 0;
        for _ in 0..2000 {
            let op = next_op(&keys, &mut rng, 50, 2);
            if op.f == "cas" {
                cas += 1;
                let v = &op.value["value"];
                assert_ne!(v[0], v[1]);
                assert!((0..=2).contains(&v[0].as_i64().unwrap()));
                assert!((0..=2).contains(&v[1].as_i64().unwrap()));
            }
        }
        assert!(cas > 500);
    }
}
