//! `etcd-register`: reads, writes and compare-and-sets on independent etcd keys, checked
//! for linearizability per key (the cas-register model), as Jepsen's etcd test does.
//!
//! Key `k` is `register/<k>`, its value a decimal integer; no key is nil (the model's
//! initial value). Setup deletes every `register/` key, so a cluster kept up between runs
//! (`faultline cluster start --db etcd`) starts each run empty.
//! - read: a range on the key, linearizable (etcd's default: it goes through raft), or with
//!   `--serializable-reads` served by the member alone from its own state, which etcd
//!   documents as possibly stale;
//! - write: a put;
//! - cas: one Txn, `compare value(key) == old`, success `put key new`: `succeeded` is ok,
//!   not is fail (the compare did not hold, nothing changed).
//!
//! Errors are classified by [`crate::errors`]; a read changes nothing, so the runner makes
//! its errors and timeouts `fail`. Keys rotate as in faultline's SQL register (`--keys`
//! live at a time, `--ops-per-key` each), so every key's history stays small enough for the
//! linearizability search. History values: `{"key": k, "value": v}`, a cas's `[old, new]`.

use crate::client::EtcdClient;
use crate::errors::{EtcdError, Outcome};
use faultline::prelude::*;
use faultline::sql::KeyPool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The options of `etcd-register`.
#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
#[serde(crate = "faultline::serde")]
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
    /// Reads are serializable: served by the member alone, possibly stale (etcd documents
    /// it); the checker should then find stale reads under partitions.
    #[arg(long)]
    #[serde(default)]
    pub serializable_reads: bool,
    /// Seconds the linearizability check may take before it says unknown.
    #[arg(long, default_value_t = 300)]
    pub check_timeout: u64,
}

pub struct Register;

impl WorkloadDef for Register {
    type Options = RegisterOptions;
    fn name(&self) -> &'static str {
        "etcd-register"
    }
    fn about(&self) -> &'static str {
        "etcd: read / write / cas on independent keys; linearizability per key"
    }
    fn defaults(&self) -> Defaults {
        Defaults {
            db: Some("etcd"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &RegisterOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> faultline::anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(RegisterRun {
            opts: opts.clone(),
            sut: sut.clone(),
            keys: Arc::new(Mutex::new(KeyPool::new(opts.keys))),
        }))
    }
    fn checkers(&self, opts: &RegisterOptions) -> faultline::anyhow::Result<Vec<Box<dyn Checker>>> {
        let mut c = LinearizableChecker::new(ModelKind::CasRegister);
        c.check_timeout = Some(Duration::from_secs(opts.check_timeout.max(1)));
        Ok(vec![Box::new(c)])
    }
}

struct RegisterRun {
    opts: RegisterOptions,
    sut: Sut,
    keys: Arc<Mutex<KeyPool>>,
}

/// The etcd key of register `k`.
pub fn key_name(k: i64) -> String {
    format!("register/{k}")
}

/// The client URL of `node`'s endpoint.
pub(crate) fn url_of(sut: &Sut, node: &str) -> String {
    let e = sut.endpoint_for(node);
    format!("http://{}:{}", e.host, e.port)
}

#[async_trait]
impl Workload for RegisterRun {
    async fn setup(&self) -> faultline::anyhow::Result<()> {
        let c = EtcdClient::new(&url_of(&self.sut, "n1"), Duration::from_secs(10))?;
        c.delete_prefix("register/").await?;
        Ok(())
    }

    fn client(&self, node: &str) -> Box<dyn Client> {
        Box::new(RegisterClient {
            url: url_of(&self.sut, node),
            client: None,
            serializable: self.opts.serializable_reads,
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        let keys = self.keys.clone();
        let (cap, max) = (self.opts.ops_per_key, self.opts.max_value.max(1));
        from_fn(move |ctx| {
            let key = keys.lock().expect("register keys").touch(ctx.rng, cap);
            match ctx.rng.random_range(0..3) {
                0 => Invocation::new("read", json!({"key": key, "value": null})),
                1 => Invocation::new(
                    "write",
                    json!({"key": key, "value": ctx.rng.random_range(0..=max)}),
                ),
                _ => {
                    let (old, new) = (ctx.rng.random_range(0..=max), ctx.rng.random_range(0..=max));
                    Invocation::new("cas", json!({"key": key, "value": [old, new]}))
                }
            }
        })
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
    url: String,
    client: Option<EtcdClient>,
    serializable: bool,
}

impl RegisterClient {
    fn client(&mut self) -> Result<&EtcdClient, EtcdError> {
        if self.client.is_none() {
            self.client = Some(EtcdClient::new(&self.url, Duration::from_secs(30))?);
        }
        Ok(self.client.as_ref().expect("set above"))
    }

    async fn op(&mut self, op: &Invocation) -> Result<Completion, EtcdError> {
        let Some(k) = op.value.get("key").and_then(Value::as_i64) else {
            return Ok(Completion::fail(format!(
                "register op without a key: {}",
                op.value
            )));
        };
        let key = key_name(k);
        let serializable = self.serializable;
        let c = self.client()?;
        let v = &op.value["value"];
        Ok(match op.f.as_str() {
            "read" => {
                let got = c.get(&key, serializable).await?;
                let value = match got {
                    None => Value::Null,
                    Some(s) => s
                        .parse::<i64>()
                        .map(Value::from)
                        .map_err(|_| EtcdError::BadAnswer(format!("{key} holds {s:?}")))?,
                };
                Completion::ok(Some(json!({"key": k, "value": value})))
            }
            "write" => {
                c.put(&key, &v.to_string()).await?;
                Completion::ok(None)
            }
            "cas" => {
                if c.cas(&key, &v[0].to_string(), &v[1].to_string()).await? {
                    Completion::ok(None)
                } else {
                    Completion::fail("cas: the value differs")
                }
            }
            other => Completion::fail(format!("unknown op {other}")),
        })
    }
}

/// An error as the history records it: `fail` when etcd proves the op did not happen,
/// `info` when it may have.
pub(crate) fn completion_of(e: EtcdError) -> Completion {
    match e.outcome() {
        Outcome::Fail => Completion::fail(e.to_string()),
        Outcome::Info => Completion::info(e.to_string()),
    }
}

#[async_trait]
impl Client for RegisterClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        match self.op(op).await {
            Ok(c) => c,
            Err(e) => {
                if matches!(e.outcome(), Outcome::Info) {
                    // A broken connection is not reused.
                    self.client = None;
                }
                completion_of(e)
            }
        }
    }
    fn reset(&mut self) {
        self.client = None;
    }
    fn is_read_only(&self, op: &Invocation) -> bool {
        op.f == "read"
    }
}
