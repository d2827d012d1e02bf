//! sqlsmith as a workload of the runner: its options, the reference system (any system a
//! recipe of this build starts or reaches) started and stopped with the workload, one client that runs each statement through
//! [`LoopState::step`], the statement generator, and the after-run hook that reduces the
//! findings and writes the reproducers.
//!
//! One statement stream on one connection per server: the run has one client
//! (`--concurrency 1`, the default; anything else is refused), and the generator and the
//! client share the stream's state. The generator hands out the next statement only when
//! the previous one has completed, and learns from each completion (Jepsen's `update`)
//! whether it was a finding, so it stops after `--max-failures`.

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
    /// the signature of their reduced form, one `repro/<signature>.md` per bug).
    #[arg(long, default_value_t = 5)]
    pub reduce: usize,
    /// Replays per reduction at most.
    #[arg(long, default_value_t = 400)]
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
        if spec.concurrency != 1 {
            return Err(BadArgs(format!(
                "--concurrency {}: sqlsmith runs one statement stream on one connection; use --concurrency 1",
                spec.concurrency
            )));
        }
        Ok(())
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
            reduce: self.reduce,
            reduce_tests: self.reduce_tests,
            reduce_timeout: Duration::from_secs(self.reduce_timeout),
            repro_dir: "repro".into(),
            tlp_rule: Default::default(),
            plan_change: None,
        })
    }
}

/// One sqlsmith run: the statement stream against the system's first client node.
pub struct SqlsmithRun {
    opts: SqlsmithOptions,
    state: Arc<Mutex<LoopState>>,
    sut: Endpoint,
    /// The reference system, once `setup` started it.
    reference: std::sync::Mutex<Option<Sut>>,
}

impl SqlsmithRun {
    pub fn new(opts: &SqlsmithOptions, sut: &Sut, spec: &RunSpec) -> anyhow::Result<Self> {
        let node = sut.db.client_nodes().into_iter().next().unwrap_or_default();
        Ok(SqlsmithRun {
            state: Arc::new(Mutex::new(LoopState::new(opts.loop_options(spec.seed)?))),
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
        let diff = self.state.lock().await.opts.oracles.diff;
        if diff {
            let reference = start_reference(&self.opts).await?;
            *self.reference.lock().unwrap() = Some(reference);
        }
        Ok(())
    }

    fn client(&self, _node: &str) -> Box<dyn Client> {
        let timeout = self.timeout();
        Box::new(SqlsmithClient {
            state: self.state.clone(),
            sut: SqlDb::new("sut", self.sut.clone(), "sqlsmith", timeout),
            reference: self
                .reference_endpoint()
                .map(|e| SqlDb::new("reference", e, "sqlsmith", timeout)),
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        Box::new(StatementGen {
            state: self.state.clone(),
            findings: 0,
            max_failures: self.opts.max_failures.max(1),
        })
    }

    async fn after_run(&self, dir: &RunDir) -> anyhow::Result<Value> {
        let mut state = self.state.lock().await;
        state.opts.repro_dir = dir.file("repro");
        let timeout = self.timeout();
        let mut replayer = Replayer {
            sut: SqlDb::new("sut-replay", self.sut.clone(), "sqlsmith_replay", timeout),
            reference: self
                .reference_endpoint()
                .map(|e| SqlDb::new("reference-replay", e, "sqlsmith_replay", timeout)),
        };
        state.reduce(&mut replayer).await;
        let report = state.finish();
        let s = &report.stats;
        println!(
            "{} statements, {:.0}/s, syntax errors {:.3}%, {} unknown, {} TLP, {} aggregate TLP, {} NoREC and {} plan checks",
            s.statements,
            s.statements_per_s,
            100.0 * s.syntax_error_rate(),
            s.unknown,
            s.tlp_checks,
            s.tlp_agg_checks,
            s.norec_checks,
            s.plan_checks
        );
        for f in &report.findings {
            let repro = f
                .reproducer
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            println!(
                "  {} at statement {}: {} {repro}",
                f.oracle, f.index, f.what
            );
            if let Some(n) = &f.reduction_note {
                println!("    {n}");
            }
        }
        if !report.signatures.is_empty() {
            println!(
                "{} distinct signature(s) among {} finding(s):",
                report.signatures.len(),
                report.findings.len()
            );
            for g in &report.signatures {
                let md = g
                    .report
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                println!(
                    "  {} x{} ({} statement(s)): {} {md}",
                    g.signature,
                    g.count,
                    g.statements.map_or("?".into(), |n| n.to_string()),
                    g.shape
                );
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

/// Hands out the stream's statements one at a time; stops after `max_failures` findings.
struct StatementGen {
    state: Arc<Mutex<LoopState>>,
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
    fn next(&mut self, _ctx: &mut Ctx<'_>) -> Next<Invocation> {
        if self.findings >= self.max_failures {
            return Next::Done;
        }
        // The client holds the state while a statement runs: ask again when it completes.
        let Ok(mut state) = self.state.try_lock() else {
            return Next::Wait(None);
        };
        if state.pending.is_some() {
            return Next::Wait(None);
        }
        match state.next_stmt() {
            Some((i, stmt)) => {
                let op = Invocation::new(stmt.kind(), json!({ "i": i, "sql": stmt.to_string() }));
                state.pending = Some((i, stmt));
                Next::Op(op)
            }
            None => Next::Done,
        }
    }

    fn update(&mut self, completed: &Op) {
        self.findings += found_something(&completed.value);
    }
}

struct SqlsmithClient {
    state: Arc<Mutex<LoopState>>,
    sut: SqlDb,
    reference: Option<SqlDb>,
}

#[async_trait]
impl Client for SqlsmithClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let mut state = self.state.lock().await;
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
