//! A system and workloads that need no server, for testing the runner itself (Jepsen's
//! `atom-db` and `noop-test`): the interpreter, the run lifecycle (signals, the final heal,
//! the store, analyze) and the fault plumbing, in milliseconds.
//!
//! [`AtomDb`] is one in-process map of registers behind `n` nodes with the Kill, Pause and
//! Partition capabilities: a killed node refuses ops (`fail`), a paused node holds them
//! until it is resumed (so they time out: `info`), a node cut off from the majority refuses
//! them (`fail`). Every op that is served is applied atomically, so histories are
//! linearizable, unless [`AtomDb::stale_reads`] is on: then a cut-off node serves reads
//! from the copy it had when it was cut off, and the linearizability checker must say so.
//! [`AtomRecipe`] registers it as `--db atom`; [`AtomRegister`] is a read/write/cas workload
//! checked for linearizability, [`Noop`] a workload whose client does nothing (runner
//! overhead benchmarks).

use crate::options::BadArgs;
use crate::options::RunSpec;
use crate::recipe::{Plan, Recipe, Sut, SystemArgs};
use crate::registry::{Defaults, WorkloadDef};
use crate::Workload;
use async_trait::async_trait;
use faultline_checkers::linearizable::{LinearizableChecker, ModelKind};
use faultline_core::db::{Capability, DbError, DbResult, Grudge, Kill, Partition, Pause};
use faultline_core::generator::{from_fn, Gen};
use faultline_core::{Checker, Client, Completion, Db, Endpoint, Invocation, NodeId};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    registers: BTreeMap<u64, i64>,
    killed: BTreeSet<NodeId>,
    paused: BTreeSet<NodeId>,
    grudge: Grudge,
    /// What each cut-off node last saw (only kept with `stale_reads`).
    stale: BTreeMap<NodeId, BTreeMap<u64, i64>>,
}

/// Counts of what was done to an [`AtomDb`], for tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub kills: u64,
    pub pauses: u64,
    pub partitions: u64,
    pub heals: u64,
    pub teardowns: u64,
}

/// An in-process register map behind `n` nodes (see the module doc).
pub struct AtomDb {
    nodes: Vec<NodeId>,
    state: Mutex<State>,
    counts: Mutex<Counts>,
    stale_reads: bool,
    start_delay: Duration,
}

impl AtomDb {
    pub fn new(nodes: usize) -> Self {
        AtomDb {
            nodes: (1..=nodes).map(|k| format!("n{k}")).collect(),
            state: Mutex::new(State::default()),
            counts: Mutex::new(Counts::default()),
            stale_reads: false,
            start_delay: Duration::ZERO,
        }
    }

    /// Starting the system takes `d` (a cluster that starts slowly: a signal can come first).
    pub fn start_delay(mut self, d: Duration) -> Self {
        self.start_delay = d;
        self
    }

    /// A cut-off node serves reads from its old copy: a planted linearizability bug.
    pub fn stale_reads(mut self) -> Self {
        self.stale_reads = true;
        self
    }

    pub fn counts(&self) -> Counts {
        *self.counts.lock().unwrap()
    }

    /// Nodes killed, paused or cut off right now (all empty after a heal).
    pub fn faulty(&self) -> Vec<NodeId> {
        let s = self.state.lock().unwrap();
        s.killed
            .iter()
            .chain(&s.paused)
            .chain(s.grudge.keys())
            .cloned()
            .collect()
    }

    fn in_minority(&self, s: &State, node: &str) -> bool {
        let cut = s.grudge.get(node).map_or(0, |g| g.len());
        (self.nodes.len() - cut) * 2 <= self.nodes.len()
    }

    /// Runs one op at `node`, as the node would serve it.
    pub async fn apply(&self, node: &str, op: &Invocation) -> Completion {
        loop {
            {
                let mut s = self.state.lock().unwrap();
                if s.killed.contains(node) {
                    return Completion::fail("connection refused: the node is down");
                }
                if !s.paused.contains(node) {
                    let key = op.value["key"].as_u64().unwrap_or(0);
                    let minority = self.in_minority(&s, node);
                    if minority && self.stale_reads && op.f == "read" {
                        let v = s.stale.get(node).and_then(|m| m.get(&key)).copied();
                        return Completion::ok(Some(json!({"key": key, "value": v})));
                    }
                    if minority {
                        return Completion::fail("no quorum: the node is cut off");
                    }
                    return Self::serve(&mut s, key, op);
                }
            }
            // Paused: the op waits, as on a stopped process, until resumed or timed out.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn serve(s: &mut State, key: u64, op: &Invocation) -> Completion {
        match op.f.as_str() {
            "read" => Completion::ok(Some(
                json!({"key": key, "value": s.registers.get(&key).copied()}),
            )),
            "write" => {
                let v = op.value["value"].as_i64().unwrap_or(0);
                s.registers.insert(key, v);
                Completion::ok(None)
            }
            "cas" => {
                let (old, new) = (op.value["value"][0].as_i64(), op.value["value"][1].as_i64());
                if s.registers.get(&key).copied() == old {
                    s.registers.insert(key, new.unwrap_or(0));
                    Completion::ok(None)
                } else {
                    Completion::fail("cas: the value differs")
                }
            }
            other => Completion::fail(format!("unknown op {other}")),
        }
    }

    fn check_node(&self, node: &str) -> DbResult<()> {
        if self.nodes.iter().any(|n| n == node) {
            Ok(())
        } else {
            Err(DbError::new(format!("unknown node {node}")))
        }
    }
}

#[async_trait]
impl Db for AtomDb {
    fn name(&self) -> &str {
        "atom"
    }
    fn nodes(&self) -> Vec<NodeId> {
        self.nodes.clone()
    }
    async fn heal_all(&self) -> DbResult<()> {
        let mut s = self.state.lock().unwrap();
        s.killed.clear();
        s.paused.clear();
        s.grudge.clear();
        s.stale.clear();
        self.counts.lock().unwrap().heals += 1;
        Ok(())
    }
    async fn wait_ready(&self, timeout: Duration) -> DbResult<()> {
        let start = Instant::now();
        while !self.faulty().is_empty() {
            if start.elapsed() > timeout {
                return Err(DbError::new(format!(
                    "not ready: {}",
                    self.faulty().join(", ")
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }
    async fn teardown(&self) -> DbResult<()> {
        self.counts.lock().unwrap().teardowns += 1;
        Ok(())
    }
    fn facts(&self) -> Value {
        json!({ "db": "atom", "nodes": self.nodes, "stale_reads": self.stale_reads })
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
impl Kill for AtomDb {
    async fn kill(&self, node: &str) -> DbResult<()> {
        self.check_node(node)?;
        self.state.lock().unwrap().killed.insert(node.to_string());
        self.counts.lock().unwrap().kills += 1;
        Ok(())
    }
    async fn start(&self, node: &str) -> DbResult<()> {
        self.check_node(node)?;
        self.state.lock().unwrap().killed.remove(node);
        Ok(())
    }
}

#[async_trait]
impl Pause for AtomDb {
    async fn pause(&self, node: &str) -> DbResult<()> {
        self.check_node(node)?;
        self.state.lock().unwrap().paused.insert(node.to_string());
        self.counts.lock().unwrap().pauses += 1;
        Ok(())
    }
    async fn resume(&self, node: &str) -> DbResult<()> {
        self.state.lock().unwrap().paused.remove(node);
        Ok(())
    }
}

#[async_trait]
impl Partition for AtomDb {
    async fn partition(&self, grudge: &Grudge) -> DbResult<()> {
        let mut s = self.state.lock().unwrap();
        s.grudge = grudge.clone();
        let copy = s.registers.clone();
        s.stale = grudge.keys().map(|n| (n.clone(), copy.clone())).collect();
        self.counts.lock().unwrap().partitions += 1;
        Ok(())
    }
    async fn heal_network(&self) -> DbResult<()> {
        let mut s = self.state.lock().unwrap();
        s.grudge.clear();
        s.stale.clear();
        Ok(())
    }
}

/// `--db atom`: an [`AtomDb`] with `--nodes` nodes; `--atom-stale-reads` plants the bug.
/// [`AtomRecipe::shared`] hands the same database to every run, so a test can look at it.
#[derive(Default)]
pub struct AtomRecipe {
    shared: Option<Arc<AtomDb>>,
}

impl AtomRecipe {
    /// Every run of this recipe uses `db` (and `--nodes` is ignored).
    pub fn shared(db: Arc<AtomDb>) -> Self {
        AtomRecipe { shared: Some(db) }
    }
}

impl Recipe for AtomRecipe {
    fn name(&self) -> &'static str {
        "atom"
    }
    fn about(&self) -> &'static str {
        "an in-process register map behind N nodes (kill, pause, partition); for tests"
    }
    fn augment(&self, cmd: clap::Command) -> clap::Command {
        cmd.arg(
            clap::Arg::new("atom_stale_reads")
                .long("atom-stale-reads")
                .action(clap::ArgAction::SetTrue)
                .help("atom: a node cut off from the majority serves stale reads (a planted bug)"),
        )
    }
    fn plan(
        &self,
        args: &SystemArgs,
        matches: &clap::ArgMatches,
    ) -> Result<Box<dyn Plan>, BadArgs> {
        if args.nodes == 0 {
            return Err(BadArgs("--nodes 0: give at least 1".into()));
        }
        let stale = matches.get_flag("atom_stale_reads");
        let db = match &self.shared {
            Some(db) => db.clone(),
            None => Arc::new(if stale {
                AtomDb::new(args.nodes).stale_reads()
            } else {
                AtomDb::new(args.nodes)
            }),
        };
        Ok(Box::new(AtomPlan(db)))
    }
}

struct AtomPlan(Arc<AtomDb>);

#[async_trait]
impl Plan for AtomPlan {
    fn nodes(&self) -> usize {
        self.0.nodes.len()
    }
    fn options(&self) -> Value {
        json!({ "stale_reads": self.0.stale_reads })
    }
    async fn start(&self, needs: &BTreeSet<Capability>) -> anyhow::Result<Sut> {
        tokio::time::sleep(self.0.start_delay).await;
        let missing: Vec<&str> = needs
            .difference(&self.0.capabilities())
            .map(|c| c.name())
            .collect();
        if !missing.is_empty() {
            tracing::info!("atom has no {}", missing.join(", "));
        }
        let endpoints = self
            .0
            .nodes
            .iter()
            .map(|n| Endpoint {
                node: n.clone(),
                scheme: "atom".into(),
                host: "in-process".into(),
                port: 0,
                user: String::new(),
                password: String::new(),
                database: String::new(),
            })
            .collect();
        Ok(Sut {
            db: self.0.clone(),
            endpoints,
            local: Some(self.0.clone()),
        })
    }
}

/// The options of [`AtomRegister`].
#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
pub struct AtomRegisterOptions {
    /// Registers the ops spread over.
    #[arg(long, default_value_t = 3)]
    pub keys: u64,
}

/// `atom-register`: read / write / cas on a few registers of an [`AtomDb`], checked for
/// linearizability per key.
pub struct AtomRegister;

impl WorkloadDef for AtomRegister {
    type Options = AtomRegisterOptions;
    fn name(&self) -> &'static str {
        "atom-register"
    }
    fn about(&self) -> &'static str {
        "read / write / cas on registers of the in-process atom system (runner tests)"
    }
    fn defaults(&self) -> Defaults {
        Defaults {
            db: Some("atom"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &Self::Options,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        let db = sut
            .local
            .clone()
            .and_then(|l| l.downcast::<AtomDb>().ok())
            .ok_or_else(|| anyhow::anyhow!("atom-register runs only against --db atom"))?;
        Ok(Box::new(AtomWorkload {
            db,
            keys: opts.keys.max(1),
        }))
    }
    fn checkers(&self, _opts: &Self::Options) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(LinearizableChecker::new(
            ModelKind::CasRegister,
        ))])
    }
}

struct AtomWorkload {
    db: Arc<AtomDb>,
    keys: u64,
}

#[async_trait]
impl Workload for AtomWorkload {
    async fn setup(&self) -> anyhow::Result<()> {
        Ok(())
    }
    fn client(&self, node: &str) -> Box<dyn Client> {
        Box::new(AtomClient {
            db: self.db.clone(),
            node: node.to_string(),
        })
    }
    fn generator(&self) -> Gen<Invocation> {
        let keys = self.keys;
        from_fn(move |ctx| {
            let key = ctx.rng.random_range(0..keys);
            match ctx.rng.random_range(0..3) {
                0 => Invocation::new("read", json!({"key": key, "value": null})),
                1 => Invocation::new(
                    "write",
                    json!({"key": key, "value": ctx.rng.random_range(0..5)}),
                ),
                _ => Invocation::new(
                    "cas",
                    json!({"key": key, "value": [ctx.rng.random_range(0..5), ctx.rng.random_range(0..5)]}),
                ),
            }
        })
    }
}

struct AtomClient {
    db: Arc<AtomDb>,
    node: String,
}

#[async_trait]
impl Client for AtomClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        self.db.apply(&self.node, op).await
    }
    fn reset(&mut self) {}
    fn is_read_only(&self, op: &Invocation) -> bool {
        op.f == "read"
    }
}

/// `noop`: a client that answers ok at once; the history is all the run does. For
/// measuring the runner.
pub struct Noop;

/// The options of [`Noop`] (none).
#[derive(clap::Args, Clone, Debug, Default, Serialize, Deserialize)]
pub struct NoopOptions {}

impl WorkloadDef for Noop {
    type Options = NoopOptions;
    fn name(&self) -> &'static str {
        "noop"
    }
    fn about(&self) -> &'static str {
        "a client that does nothing (runner overhead)"
    }
    fn defaults(&self) -> Defaults {
        Defaults {
            db: Some("atom"),
            op_interval_ms: Some("0"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        _opts: &Self::Options,
        _sut: &Sut,
        _spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(NoopWorkload))
    }
    fn checkers(&self, _opts: &Self::Options) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![])
    }
}

struct NoopWorkload;

#[async_trait]
impl Workload for NoopWorkload {
    async fn setup(&self) -> anyhow::Result<()> {
        Ok(())
    }
    fn client(&self, _node: &str) -> Box<dyn Client> {
        Box::new(NoopClient)
    }
    fn generator(&self) -> Gen<Invocation> {
        from_fn(|_| Invocation::new("noop", Value::Null))
    }
}

/// Answers every op with ok, at once.
pub struct NoopClient;

#[async_trait]
impl Client for NoopClient {
    async fn invoke(&mut self, _op: &Invocation) -> Completion {
        Completion::ok(None)
    }
    fn reset(&mut self) {}
}

/// A registry with the atom system and the test workloads.
pub fn registry() -> crate::Registry {
    crate::Registry::new()
        .recipe(AtomRecipe::default())
        .workload(AtomRegister)
        .workload(Noop)
}
