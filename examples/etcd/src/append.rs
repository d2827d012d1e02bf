//! `etcd-append`: Elle's list-append transactions as etcd Txns, checked by the Elle checker
//! at strict serializability (etcd's promise for its KV API).
//!
//! Key `k` is `append/<k>`; its value is a JSON list of integers (no key: the empty list).
//! A transaction `[["append", k, v], ["r", k, null], ...]` runs as two requests:
//! 1. one Txn of ranges over every key it touches: an atomic, linearizable snapshot, with
//!    each key's `mod_revision` (0 when absent);
//! 2. if it appends, one Txn whose compares say every touched key still has the
//!    `mod_revision` seen in 1 and whose success branch puts the new lists. `succeeded`
//!    commits the whole transaction at that point (its reads are still current, its
//!    writes land together); not succeeded means another transaction got in between and
//!    nothing was written: `fail`. A read-only transaction is its snapshot.
//!
//! Errors: a failed snapshot changed nothing (`fail`); an error on the write Txn is
//! classified by [`crate::errors`] (a timeout may have committed: `info`). Keys rotate
//! through faultline's key pool as in the SQL append workload, values are unique per key,
//! and the final generator reads every key ever used.

use crate::client::{decode_field, encode, EtcdClient};
use crate::errors::EtcdError;
use crate::register::{completion_of, url_of};
use faultline::checkers::elle::{ElleChecker, Workload as ElleWorkload};
use faultline::prelude::*;
use faultline::sql::KeyPool;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The options of `etcd-append`.
#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
#[serde(crate = "faultline::serde")]
pub struct AppendOptions {
    /// Micro-ops per transaction: 1 to this many.
    #[arg(long, default_value_t = 4)]
    pub max_txn_length: usize,
    /// Keys live at a time.
    #[arg(long, default_value_t = 10)]
    pub key_count: usize,
    /// Appends to one key before it is retired for a fresh one.
    #[arg(long, default_value_t = 32)]
    pub max_writes_per_key: usize,
    /// Consistency model the history must satisfy (Elle's names).
    #[arg(long, default_value = "strict-serializable")]
    pub model: String,
}

pub struct Append;

impl WorkloadDef for Append {
    type Options = AppendOptions;
    fn name(&self) -> &'static str {
        "etcd-append"
    }
    fn about(&self) -> &'static str {
        "etcd: list-append transactions as Txns; Elle at strict serializability"
    }
    fn defaults(&self) -> Defaults {
        Defaults {
            db: Some("etcd"),
            // Unpaced: the Elle checker is linear in the history.
            op_interval_ms: Some("0"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &AppendOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> faultline::anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(AppendRun {
            opts: opts.clone(),
            sut: sut.clone(),
            pool: Arc::new(Mutex::new(KeyPool::new(opts.key_count))),
        }))
    }
    fn checkers(&self, opts: &AppendOptions) -> faultline::anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(ElleChecker::new(
            ElleWorkload::Append,
            &opts.model,
        )?)])
    }
}

struct AppendRun {
    opts: AppendOptions,
    sut: Sut,
    pool: Arc<Mutex<KeyPool>>,
}

fn key_name(k: i64) -> String {
    format!("append/{k}")
}

#[async_trait]
impl Workload for AppendRun {
    async fn setup(&self) -> faultline::anyhow::Result<()> {
        let c = EtcdClient::new(&url_of(&self.sut, "n1"), Duration::from_secs(10))?;
        c.delete_prefix("append/").await?;
        Ok(())
    }

    fn client(&self, node: &str) -> Box<dyn Client> {
        Box::new(AppendClient {
            url: url_of(&self.sut, node),
            client: None,
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        let pool = self.pool.clone();
        let (len, writes) = (self.opts.max_txn_length, self.opts.max_writes_per_key);
        from_fn(move |ctx| {
            let mut pool = pool.lock().expect("key pool");
            let txn = faultline::workloads::txn::txn(&mut pool, ctx.rng, len, writes, "append");
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

struct AppendClient {
    url: String,
    client: Option<EtcdClient>,
}

/// `(f, key, value)` of each micro-op, or None when the transaction is malformed.
fn mops(v: &Value) -> Option<Vec<(String, i64, Value)>> {
    v.as_array()?
        .iter()
        .map(|m| {
            let m = m.as_array()?;
            Some((
                m.first()?.as_str()?.to_string(),
                m.get(1)?.as_i64()?,
                m.get(2)?.clone(),
            ))
        })
        .collect()
}

impl AppendClient {
    fn client(&mut self) -> Result<EtcdClient, EtcdError> {
        if self.client.is_none() {
            self.client = Some(EtcdClient::new(&self.url, Duration::from_secs(30))?);
        }
        Ok(self.client.clone().expect("set above"))
    }

    /// Every touched key's list and mod revision, read in one Txn.
    async fn snapshot(
        c: &EtcdClient,
        keys: &[i64],
    ) -> Result<BTreeMap<i64, (Vec<i64>, String)>, EtcdError> {
        let ranges: Vec<Value> = keys
            .iter()
            .map(|&k| json!({"request_range": {"key": encode(&key_name(k))}}))
            .collect();
        let v = c.txn(json!({"success": ranges})).await?;
        let responses = v
            .get("responses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if responses.len() != keys.len() {
            return Err(EtcdError::BadAnswer(format!(
                "{} answers to {} ranges",
                responses.len(),
                keys.len()
            )));
        }
        let mut out = BTreeMap::new();
        for (&k, r) in keys.iter().zip(&responses) {
            let kv = r.pointer("/response_range/kvs/0");
            let entry = match kv {
                None => (Vec::new(), "0".to_string()),
                Some(kv) => {
                    let text = decode_field(kv.get("value"))?;
                    let list: Vec<i64> = faultline::serde_json::from_str(&text).map_err(|e| {
                        EtcdError::BadAnswer(format!("{} holds {text:?}: {e}", key_name(k)))
                    })?;
                    let rev = kv
                        .get("mod_revision")
                        .map(|r| {
                            r.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| r.to_string())
                        })
                        .unwrap_or_else(|| "0".into());
                    (list, rev)
                }
            };
            out.insert(k, entry);
        }
        Ok(out)
    }

    async fn txn(&mut self, value: &Value) -> Completion {
        let Some(mops) = mops(value) else {
            return Completion::fail(format!("not a list-append transaction: {value}"));
        };
        let c = match self.client() {
            Ok(c) => c,
            Err(e) => return completion_of(e),
        };
        let mut keys: Vec<i64> = mops.iter().map(|m| m.1).collect();
        keys.sort_unstable();
        keys.dedup();
        // The snapshot only reads: whatever goes wrong, nothing happened.
        let snap = match Self::snapshot(&c, &keys).await {
            Ok(s) => s,
            Err(e) => return Completion::fail(format!("snapshot: {e}")),
        };
        let mut lists: BTreeMap<i64, Vec<i64>> =
            snap.iter().map(|(k, (l, _))| (*k, l.clone())).collect();
        let mut written = std::collections::BTreeSet::new();
        let mut done = Vec::new();
        for (f, k, v) in &mops {
            let list = lists.get_mut(k).expect("every key is in the snapshot");
            if f == "append" {
                let Some(x) = v.as_i64() else {
                    return Completion::fail(format!("append of a non-integer: {v}"));
                };
                list.push(x);
                written.insert(*k);
                done.push(json!(["append", k, x]));
            } else {
                done.push(json!(["r", k, list.clone()]));
            }
        }
        if written.is_empty() {
            return Completion::ok(Some(Value::Array(done)));
        }
        let compare: Vec<Value> = snap
            .iter()
            .map(|(k, (_, rev))| {
                json!({"key": encode(&key_name(*k)), "target": "MOD", "result": "EQUAL", "mod_revision": rev})
            })
            .collect();
        let puts: Vec<Value> = written
            .iter()
            .map(|k| {
                let list = faultline::serde_json::to_string(&lists[k]).expect("a list of integers");
                json!({"request_put": {"key": encode(&key_name(*k)), "value": encode(&list)}})
            })
            .collect();
        match c.txn(json!({"compare": compare, "success": puts})).await {
            Ok(v) if v.get("succeeded").and_then(Value::as_bool) == Some(true) => {
                Completion::ok(Some(Value::Array(done)))
            }
            Ok(_) => Completion::fail("a touched key changed since the snapshot: nothing written"),
            Err(e) => {
                self.client = None;
                completion_of(e)
            }
        }
    }
}

#[async_trait]
impl Client for AppendClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        self.txn(&op.value).await
    }
    fn reset(&mut self) {
        self.client = None;
    }
    fn is_read_only(&self, op: &Invocation) -> bool {
        mops(&op.value).is_some_and(|m| m.iter().all(|(f, _, _)| f == "r"))
    }
}
