//! sqlsmith as a workload of the runner: its options, the reference system (any system a
//! recipe of this build starts or reaches) started and stopped with the workload, one client that runs each statement through
//! [`LoopState::step`], the statement generator, and the after-run hook that reduces the
//! findings and writes the reproducers.
//!
//! One statement stream per worker (`--workers N`, SQLancer's threads; it sets
//! `--concurrency N`): worker k has its own connection to each server, in its own database
//! (`sqlsmith`, then `sqlsmith_w1`, ...), with its own schema and its own seed (the run's
//! seed for worker 0, derived from it and k for the others), and runs its share of
//! `--statements`. Client k and the generator share stream k's state: the generator hands
//! worker k (the asking thread) its next statement only when its previous one completed,
//! and learns from each completion (Jepsen's `update`) whether it was a finding, so the
//! run stops after `--max-failures` over all workers. After the run each stream's findings
//! are reduced on its own, and the reports merge: statistics summed, signatures counted
//! across workers.

use super::exec::SqlDb;
use super::replay::Replayer;
use super::runloop::{LoopOptions, LoopState, Oracles};
use async_trait::async_trait;
use clap::Args;
use faultline_core::generator::{Ctx, Gen, Generator, Next};
use faultline_core::{Client, Completion, Endpoint, Invocation, Op};
use faultline_harness::options::parse_server_options;
use faultline_harness::{BadArgs, RunDir, RunSpec, Sut, SystemArgs, Workload};
use faultline_sqlsmith::Config;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct SqlsmithOptions {
    /// The reference: a system of `faultline list systems` started (or reached) beside
    /// the system under test, one node (e.g. local-mariadb, a standalone server the harness
    /// starts, or mysql://user:password@host:port/db, a server you have), or none.
    #[arg(long, default_value = "local-mariadb")]
    pub reference: String,
    /// Oracles, comma separated: diff (against the reference), tlp (ternary logic
    /// partitioning of plain queries, and of COUNT(*) / COUNT(x) / MIN / MAX / SUM over
    /// integer columns, where the identity is exact), norec, plan (the same query under
    /// index hints, one optimizer_switch flag or variable, or STRAIGHT_JOIN gives the same
    /// rows).
    #[arg(long, value_delimiter = ',', default_value = "diff,tlp,norec")]
    pub oracle: Vec<String>,
    /// Generated statements.
    #[arg(long, default_value_t = 2000)]
    pub statements: usize,
    /// Compare every live table every N statements (0: never).
    #[arg(long, default_value_t = 200)]
    pub snapshot_every: usize,
    /// Run TLP / NoREC every N statements.
    #[arg(long, default_value_t = 5)]
    pub oracle_every: usize,
    /// Stop after this many findings.
    #[arg(long, default_value_t = 5)]
    pub max_failures: usize,
    /// Reduce this many findings into reproducers (and sign them: findings are grouped by
    /// the signature of their reduced form, and signatures into bugs: one `repro/bug-<id>.md` each). Default:
    /// every finding (`--max-failures`); an unreduced finding has no signature and no report.
    #[arg(long)]
    pub reduce: Option<usize>,
    /// Replays (and, for the query, oracle checks) per reduction at most.
    #[arg(long, default_value_t = 3000)]
    pub reduce_tests: usize,
    /// Seconds per reduction at most.
    #[arg(long, default_value_t = 120)]
    pub reduce_timeout: u64,
    /// Seconds before a statement without an answer is abandoned (outcome unknown).
    #[arg(long, default_value_t = 10)]
    pub stmt_timeout: u64,
    /// Include nondeterministic functions (RAND, NOW, UUID): only sensible without diff.
    #[arg(long)]
    pub unstable: bool,
    /// `name=value` for the reference's [mysqld] (repeatable).
    #[arg(long = "reference-option")]
    pub reference_options: Vec<String>,
    /// Statement streams side by side on one server, each on its own connection in its
    /// own database with its own schema and seed; `--statements` is split between them.
    /// Sets --concurrency.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    #[serde(default = "one")]
    pub workers: u16,
}

fn one() -> u16 {
    1
}

/// Worker k's database: `sqlsmith` for the first (as a one-worker run always had).
pub fn database(k: usize) -> String {
    if k == 0 {
        "sqlsmith".into()
    } else {
        format!("sqlsmith_w{k}")
    }
}

/// Worker k's seed: the run's own for the first, a distinct stream for each other.
pub fn worker_seed(seed: u64, k: usize) -> u64 {
    seed.wrapping_add((k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

impl SqlsmithOptions {
    /// The oracles asked for, diff only with a reference; an error when none is left.
    pub fn oracles(&self) -> Result<Oracles, BadArgs> {
        let mut oracles = Oracles::default();
        for o in &self.oracle {
            match o.trim() {
                "diff" => oracles.diff = true,
                "tlp" => oracles.tlp = true,
                "norec" => oracles.norec = true,
                "plan" => oracles.plan = true,
                other => {
                    return Err(BadArgs(format!(
                        "--oracle {other:?}: choose from diff, tlp, norec, plan"
                    )))
                }
            }
        }
        if self.reference == "none" {
            oracles.diff = false;
        }
        if !(oracles.diff || oracles.tlp || oracles.norec || oracles.plan) {
            return Err(BadArgs(
                "no oracle left to run (diff needs a --reference)".into(),
            ));
        }
        Ok(oracles)
    }

    pub(super) fn validate(&self, spec: &RunSpec) -> Result<(), BadArgs> {
        self.oracles()?;
        parse_server_options("--reference-option", &self.reference_options)?;
        if self.reference != "none" {
            crate::builtin().find_recipe(&self.reference).map_err(|e| {
                BadArgs(format!("--reference: {}", e.0.trim_start_matches("--db ")))
            })?;
        }
        if spec.concurrency != self.workers as usize {
            return Err(BadArgs(format!(
                "--concurrency {}: sqlsmith runs one client per statement stream; use --workers {} alone",
                spec.concurrency, spec.concurrency
            )));
        }
        Ok(())
    }

    /// Worker k's statement loop: its seed and its share of `--statements`.
    pub fn worker_options(&self, seed: u64, k: usize) -> Result<LoopOptions, BadArgs> {
        let n = self.workers.max(1) as usize;
        let mut o = self.loop_options(worker_seed(seed, k))?;
        o.statements = self.statements / n + usize::from(k < self.statements % n);
        Ok(o)
    }

    /// The statement loop's options for a run with `seed`.
    pub fn loop_options(&self, seed: u64) -> Result<LoopOptions, BadArgs> {
        let oracles = self.oracles()?;
        Ok(LoopOptions {
            seed,
            statements: self.statements,
            smith: Config {
                stable: !self.unstable || oracles.diff,
                ..Config::default()
            },
            oracles,
            snapshot_every: self.snapshot_every,
            oracle_every: self.oracle_every,
            max_failures: self.max_failures.max(1),
            reduce: self.reduce.unwrap_or(self.max_failures),
            reduce_tests: self.reduce_tests,
            reduce_timeout: Duration::from_secs(self.reduce_timeout),
            repro_dir: "repro".into(),
            tlp_rule: Default::default(),
            plan_change: None,
        })
    }
}

/// One sqlsmith run: the statement streams against the system's first client node.
pub struct SqlsmithRun {
    opts: SqlsmithOptions,
    /// One per worker.
    states: Vec<Arc<Mutex<LoopState>>>,
    /// Which worker the next client is (clients are asked for in worker order).
    next_client: AtomicUsize,
    sut: Endpoint,
    /// The reference system, once `setup` started it.
    reference: std::sync::Mutex<Option<Sut>>,
}

impl SqlsmithRun {
    pub fn new(opts: &SqlsmithOptions, sut: &Sut, spec: &RunSpec) -> anyhow::Result<Self> {
        let node = sut.db.client_nodes().into_iter().next().unwrap_or_default();
        let states = (0..opts.workers.max(1) as usize)
            .map(|k| {
                Ok(Arc::new(Mutex::new(LoopState::new(
                    opts.worker_options(spec.seed, k)?,
                ))))
            })
            .collect::<Result<Vec<_>, BadArgs>>()?;
        Ok(SqlsmithRun {
            states,
            next_client: AtomicUsize::new(0),
            opts: opts.clone(),
            sut: sut.endpoint_for(&node),
            reference: std::sync::Mutex::new(None),
        })
    }

    fn reference_endpoint(&self) -> Option<Endpoint> {
        self.reference
            .lock()
            .unwrap()
            .as_ref()
            .map(|r| r.endpoints[0].clone())
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.opts.stmt_timeout.max(1))
    }
}

#[async_trait]
impl Workload for SqlsmithRun {
    async fn setup(&self) -> anyhow::Result<()> {
        let diff = self.states[0].lock().await.opts.oracles.diff;
        if diff {
            let reference = start_reference(&self.opts).await?;
            *self.reference.lock().unwrap() = Some(reference);
        }
        Ok(())
    }

    fn client(&self, _node: &str) -> Box<dyn Client> {
        let timeout = self.timeout();
        let k = self.next_client.fetch_add(1, Ordering::SeqCst) % self.states.len();
        let db = database(k);
        Box::new(SqlsmithClient {
            worker: k,
            state: self.states[k].clone(),
            sut: SqlDb::new("sut", self.sut.clone(), &db, timeout),
            reference: self
                .reference_endpoint()
                .map(|e| SqlDb::new("reference", e, &db, timeout)),
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        Box::new(StatementGen {
            states: self.states.clone(),
            exhausted: Default::default(),
            findings: 0,
            max_failures: self.opts.max_failures.max(1),
        })
    }

    async fn after_run(&self, dir: &RunDir) -> anyhow::Result<Value> {
        let timeout = self.timeout();
        let mut reports = Vec::new();
        for (k, state) in self.states.iter().enumerate() {
            let mut state = state.lock().await;
            state.opts.repro_dir = dir.file("repro");
            let mut replayer = Replayer {
                sut: SqlDb::new("sut-replay", self.sut.clone(), "sqlsmith_replay", timeout),
                reference: self
                    .reference_endpoint()
                    .map(|e| SqlDb::new("reference-replay", e, "sqlsmith_replay", timeout)),
            };
            state.reduce(&mut replayer).await;
            let mut report = state.finish();
            for f in &mut report.findings {
                f.worker = k;
            }
            reports.push(report);
        }
        let mut report = super::report::merge(reports);
        super::bugs::group(&mut report, &dir.file("repro"));
        let s = &report.stats;
        println!(
            "{} statements, {:.0}/s ({} worker(s)), {:.0} oracle checks/s, syntax errors {:.3}%, {} unknown, {} TLP, {} aggregate TLP, {} NoREC and {} plan checks",
            s.statements,
            s.statements_per_s,
            self.states.len(),
            s.oracle_checks_per_s,
            100.0 * s.syntax_error_rate(),
            s.unknown,
            s.tlp_checks,
            s.tlp_agg_checks,
            s.norec_checks,
            s.plan_checks
        );
        let never: Vec<&str> = s
            .coverage
            .iter()
            .filter(|(_, c)| c.ok == 0)
            .map(|(k, _)| k.as_str())
            .collect();
        println!(
            "coverage: {} of {} constructs executed without error at least once (counts in results.json, run.stats.coverage); never: {}",
            s.coverage.len() - never.len(),
            s.coverage.len(),
            if never.is_empty() { "none".to_string() } else { never.join(", ") }
        );
        for f in &report.findings {
            let repro = f
                .reproducer
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            println!(
                "  {} at statement {} of worker {}: {} {repro}",
                f.oracle, f.index, f.worker, f.what
            );
            if let Some(n) = &f.reduction_note {
                println!("    {n}");
            }
        }
        if !report.bugs.is_empty() {
            println!(
                "{} distinct bug(s) ({} signature(s)) among {} finding(s):",
                report.bugs.len(),
                report.signatures.len(),
                report.findings.len()
            );
            for b in &report.bugs {
                let md = b
                    .report
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                let clearing = match &b.switches {
                    Some(p) if !p.clearing.is_empty() => {
                        format!(" [cleared by {}]", p.clearing.join(", "))
                    }
                    _ => String::new(),
                };
                println!(
                    "  {} x{} ({} statement(s)){clearing}: {md}",
                    b.id,
                    b.count,
                    b.statements.map_or("?".into(), |n| n.to_string()),
                );
                for sig in &b.signatures {
                    if let Some(g) = report.signatures.iter().find(|g| &g.signature == sig) {
                        println!(
                            "    {} x{} ({} statement(s)): {}",
                            g.signature,
                            g.count,
                            g.statements.map_or("?".into(), |n| n.to_string()),
                            g.shape
                        );
                    }
                }
            }
        }
        let reference = self
            .reference
            .lock()
            .unwrap()
            .as_ref()
            .map(|r| r.db.facts());
        Ok(json!({
            "stats": report.stats,
            "findings": report.findings,
            "signatures": report.signatures,
            "bugs": report.bugs,
            "syntax_error_rate": report.stats.syntax_error_rate(),
            "reference": reference,
        }))
    }

    async fn teardown(&self) {
        let reference = self.reference.lock().unwrap().take();
        if let Some(r) = reference {
            if let Err(e) = r.db.teardown().await {
                tracing::warn!("tearing the reference down: {e}");
            }
        }
    }
}

/// Starts the `--reference` system through this build's recipes (one node; its
/// `--reference-option`s are that recipe's `--server-option`s).
async fn start_reference(opts: &SqlsmithOptions) -> anyhow::Result<Sut> {
    let registry = crate::builtin();
    let mut argv = vec!["reference".to_string()];
    for o in &opts.reference_options {
        argv.extend(["--server-option".to_string(), o.clone()]);
    }
    let matches = registry
        .augment_recipes(clap::Command::new("reference"))
        .try_get_matches_from(argv)
        .map_err(|e| anyhow::anyhow!("--reference-option: {}", e.kind()))?;
    let system = SystemArgs {
        db: opts.reference.clone(),
        nodes: 1,
    };
    let plan = registry.plan(&system, &matches)?;
    plan.preflight()?;
    plan.start(&Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("starting the reference: {e:#}"))
}

/// Hands out each stream's statements one at a time, to its own worker; stops after
/// `max_failures` findings over all workers.
struct StatementGen {
    states: Vec<Arc<Mutex<LoopState>>>,
    /// The workers whose stream has no statement left.
    exhausted: std::collections::BTreeSet<usize>,
    findings: usize,
    max_failures: usize,
}

/// Whether a completed statement found something (a divergence, a failed snapshot or
/// oracle check right after it).
pub(super) fn found_something(value: &Value) -> usize {
    let here = usize::from(value.get("divergence").is_some_and(|d| !d.is_null()));
    let checks = value
        .get("checks")
        .and_then(Value::as_array)
        .map_or(0, |c| {
            c.iter().filter(|c| !c["divergence"].is_null()).count()
        });
    here + checks
}

impl Generator<Invocation> for StatementGen {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<Invocation> {
        if self.findings >= self.max_failures {
            return Next::Done;
        }
        // Worker k asks for stream k's statements only.
        let k = ctx.thread;
        let Some(state) = self.states.get(k) else {
            return Next::Done;
        };
        // The client holds the state while a statement runs: ask again when it completes.
        let Ok(mut state) = state.try_lock() else {
            return Next::Wait(None);
        };
        if state.pending.is_some() {
            return Next::Wait(None);
        }
        match state.next_stmt() {
            Some((i, stmt)) => {
                let mut value = json!({ "i": i, "sql": stmt.to_string() });
                if self.states.len() > 1 {
                    value["w"] = json!(k);
                }
                let op = Invocation::new(stmt.kind(), value);
                state.pending = Some((i, stmt));
                Next::Op(op)
            }
            None => {
                // Done is the whole generator's end (for every worker): a worker whose stream
                // ended waits while another's still runs.
                drop(state);
                self.exhausted.insert(k);
                if self.exhausted.len() == self.states.len() {
                    Next::Done
                } else {
                    Next::Wait(None)
                }
            }
        }
    }

    fn update(&mut self, completed: &Op) {
        self.findings += found_something(&completed.value);
    }
}

struct SqlsmithClient {
    /// Its stream (and database) number.
    worker: usize,
    state: Arc<Mutex<LoopState>>,
    sut: SqlDb,
    reference: Option<SqlDb>,
}

#[async_trait]
impl Client for SqlsmithClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let mut state = self.state.lock().await;
        if op
            .value
            .get("w")
            .map_or(0, |w| w.as_u64().unwrap_or(u64::MAX))
            != self.worker as u64
        {
            return Completion::fail(format!("worker {} was handed {}", self.worker, op.value));
        }
        let Some((i, stmt)) = state.pending.take() else {
            return Completion::fail(format!("no statement is pending for {}", op.value));
        };
        let step = state
            .step(i, &stmt, &mut self.sut, self.reference.as_mut())
            .await;
        Completion {
            kind: step.kind,
            value: Some(step.value),
            error: step.error,
        }
    }

    fn reset(&mut self) {
        self.sut.reset();
        if let Some(r) = self.reference.as_mut() {
            r.reset();
        }
    }
}
