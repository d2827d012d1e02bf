//! The statement stream: one generated statement after the other, executed on the system
//! under test and (differential oracle) on the reference, compared statement by statement,
//! with a snapshot of every live table every N statements, and the metamorphic oracles (TLP,
//! NoREC) on the system under test between statements. [`LoopState::step`] is one
//! statement; the runner's sqlsmith client calls it for each op, [`run_loop`] in a loop.
//!
//! Where the rest lives: the options, statistics and findings in [`options`](super::options),
//! the unknown-outcome rule and the snapshot comparison in
//! [`bookkeeping`](super::bookkeeping), the metamorphic checks and reduction in
//! [`findings`](super::findings).

use super::bookkeeping::{snapshot, TxnTables};
use super::exec::{fault_like, SqlDb, SYNTAX_CODES};
use super::findings::{metamorphic, oracle_finding, reduce_finding};
use super::options::record;
pub use super::options::{Finding, LoopOptions, LoopReport, Oracles, SharedRecorder, Stats};
use super::replay::{Failure, Replayer};
use super::report;
use faultline_core::OpType;
use faultline_sqlsmith::{compare, ChaCha8Rng, Outcome, Smith, Stmt};
use rand::SeedableRng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The pause after a statement that got no answer at once (its node is down).
const BACKOFF: Duration = Duration::from_millis(200);

/// How one statement ended, as its completion records it.
pub struct Step {
    pub kind: OpType,
    /// `{"i", "sql", "sut", "ref", "divergence"}`, plus `checks`: the snapshot and oracle
    /// failures found right after it.
    pub value: Value,
    pub error: Option<String>,
}

/// Everything the statement stream remembers between statements: the generator, the
/// books of the open transaction, the statements done (for the reducer), statistics and
/// findings. Both drivers ([`run_loop`] and the runner's client) step it the same way, so a
/// seed gives the same statements through either.
pub struct LoopState {
    pub opts: LoopOptions,
    smith: Smith,
    txn_tables: TxnTables,
    done: Vec<Stmt>,
    pub report: LoopReport,
    /// Aggregate TLP draws from its own stream: the statements stay those of the seed.
    agg_rng: ChaCha8Rng,
    /// So does the plan oracle's choice of a plan change.
    plan_rng: ChaCha8Rng,
    started: Instant,
    /// When the last statement (with its checks) completed: the rates count the stream,
    /// not the reduction after it.
    last_step: Option<Instant>,
    next: usize,
    /// The statement handed out and not yet run.
    pub pending: Option<(usize, Stmt)>,
    /// The findings that can be reduced (index into the report's findings, what failed).
    failures: Vec<(usize, Failure)>,
}

impl LoopState {
    pub fn new(opts: LoopOptions) -> Self {
        LoopState {
            smith: Smith::new(opts.seed, opts.smith.clone()),
            agg_rng: ChaCha8Rng::seed_from_u64(opts.seed ^ 0x746c_7061_6767),
            plan_rng: ChaCha8Rng::seed_from_u64(opts.seed ^ 0x706c_616e),
            opts,
            txn_tables: TxnTables::default(),
            done: Vec::new(),
            report: LoopReport::default(),
            started: Instant::now(),
            last_step: None,
            next: 0,
            pending: None,
            failures: Vec::new(),
        }
    }

    /// The next statement of the stream, or None once `--statements` were generated.
    pub fn next_stmt(&mut self) -> Option<(usize, Stmt)> {
        if self.next >= self.opts.statements {
            return None;
        }
        let i = self.next;
        if i == 0 {
            // The rate counts from the first statement, not from the servers' start.
            self.started = Instant::now();
        }
        self.next += 1;
        Some((i, self.smith.next_stmt()))
    }

    /// Runs statement `i` on `sut` and (differential oracle) on `reference`, compares,
    /// keeps the books, then runs the periodic snapshot and metamorphic checks.
    pub async fn step(
        &mut self,
        i: usize,
        stmt: &Stmt,
        sut: &mut SqlDb,
        mut reference: Option<&mut SqlDb>,
    ) -> Step {
        let opts = self.opts.clone();
        let sql = stmt.to_string();
        let asked = Instant::now();
        let s_out = sut.run(&sql).await;
        if matches!(s_out, Outcome::Unknown { .. }) && asked.elapsed() < BACKOFF {
            // The node is down (connection refused): wait a little rather than burn the
            // statement stream until it is back.
            tokio::time::sleep(BACKOFF).await;
        }
        let st = &mut self.report.stats;
        st.statements += 1;
        st.cover(
            &sql,
            !s_out.is_error() && !matches!(s_out, Outcome::Unknown { .. }),
        );
        *st.by_kind.entry(stmt.kind().to_string()).or_default() += 1;
        if let Some(c) = s_out.error_code() {
            *st.sut_errors.entry(c).or_default() += 1;
            if SYNTAX_CODES.contains(&c) {
                st.syntax_errors += 1;
                tracing::warn!("syntax error {c} on: {sql}");
            }
        }
        let in_txn = self.smith.in_txn();
        let mut r_out = None;
        if !fault_like(&s_out) {
            if let Some(r) = reference.as_mut() {
                r_out = Some(r.run(&sql).await);
            }
        }
        let unknown = fault_like(&s_out) || r_out.as_ref().is_some_and(fault_like);
        let mut finding = None;
        if unknown {
            self.txn_tables
                .unknown_outcome(
                    stmt,
                    in_txn,
                    sut,
                    reference.as_deref_mut(),
                    &mut self.smith,
                    &mut self.report.stats,
                )
                .await;
        } else if let Some(r_out) = &r_out {
            self.report.stats.compared += 1;
            let ordered = matches!(stmt, Stmt::Select(q) if q.order_is_total());
            if let Some(d) = compare(&s_out, r_out, ordered) {
                finding = Some(Finding {
                    oracle: "diff".into(),
                    index: i,
                    sql: sql.clone(),
                    what: d.what,
                    sut: s_out.brief(),
                    reference: r_out.brief(),
                    reproducer: None,
                    reduced_statements: None,
                    reduced_query: None,
                    ..Default::default()
                });
            }
        }
        if !unknown {
            self.smith.record(stmt, !s_out.is_error());
            self.txn_tables.known_outcome(stmt, &self.smith);
        }
        self.done.push(stmt.clone());
        let kind = match (&s_out, unknown) {
            (_, true) => OpType::Info,
            (Outcome::Error { .. }, _) => OpType::Fail,
            _ => OpType::Ok,
        };
        let mut value = json!({
            "i": i, "sql": sql, "sut": s_out.brief(),
            "ref": r_out.as_ref().map(|o| o.brief()),
            "divergence": finding.as_ref().map(|f| f.what.clone()),
        });
        let error = s_out.error_code().map(|c| c.to_string());
        if let Some(f) = finding {
            self.txn_tables
                .diverged(stmt, &mut self.smith, &mut self.report.stats);
            tracing::warn!("divergence at statement {i}: {} on {sql}", f.what);
            self.failures
                .push((self.report.findings.len(), Failure::Diff));
            self.report.findings.push(f);
        }

        let mut checks = Vec::new();
        // Snapshot comparison of every live table.
        if opts.snapshot_every > 0 && (i + 1) % opts.snapshot_every == 0 && !self.smith.in_txn() {
            if let Some(r) = reference {
                snapshot(i, sut, r, &mut self.smith, &mut self.report, &mut checks).await;
            }
        }
        // Metamorphic oracles on the system under test.
        if (opts.oracles.tlp || opts.oracles.norec || opts.oracles.plan)
            && opts.oracle_every > 0
            && i % opts.oracle_every == 0
        {
            let failure = metamorphic(
                sut,
                &mut self.smith,
                &mut self.agg_rng,
                &mut self.plan_rng,
                &opts,
                &mut self.report.stats,
            )
            .await;
            if let Some((failure, what)) = failure {
                let f = oracle_finding(i, &failure, what);
                tracing::warn!("{} failure after statement {i}: {}", f.oracle, f.what);
                checks.push(json!({"f": f.oracle, "i": i, "sql": f.sql, "divergence": f.what}));
                self.failures.push((self.report.findings.len(), failure));
                self.report.findings.push(f);
            }
        }
        if !checks.is_empty() {
            value["checks"] = Value::Array(checks);
        }
        self.last_step = Some(Instant::now());
        Step { kind, value, error }
    }

    /// Reduces the first `--reduce` findings on `replayer` into reproducer files (the
    /// statements up to each finding, replayed on fresh databases), then groups them by
    /// signature (the bugs are grouped once every stream is reduced).
    pub async fn reduce(&mut self, replayer: &mut Replayer) {
        let failures: Vec<(usize, Failure)> = self
            .failures
            .iter()
            .take(self.opts.reduce)
            .cloned()
            .collect();
        let mut reductions = BTreeMap::new();
        for (k, failure) in failures {
            let mut f = self.report.findings[k].clone();
            let upto = (f.index + 1).min(self.done.len());
            let stmts = self.done[..upto].to_vec();
            if let Some(r) = reduce_finding(replayer, &mut f, stmts, failure, &self.opts).await {
                reductions.insert(k, r);
            }
            self.report.findings[k] = f;
        }
        self.report.signatures =
            report::group(&self.report.findings, &reductions, &self.opts.repro_dir);
    }

    /// The statistics and findings so far, with the elapsed time and the rate.
    pub fn finish(&mut self) -> LoopReport {
        self.report.stats.set_rates(
            self.last_step
                .unwrap_or_else(Instant::now)
                .duration_since(self.started)
                .as_secs_f64(),
        );
        self.report.clone()
    }
}

/// The run as one sequential loop, without the runner (tests): `sut` always, `reference`
/// when the differential oracle is on; `replay` makes the connections the reducer replays
/// on. `stop` is polled between statements.
pub async fn run_loop(
    sut: &mut SqlDb,
    mut reference: Option<&mut SqlDb>,
    replayer: Option<Replayer>,
    opts: &LoopOptions,
    rec: Option<&SharedRecorder>,
    stop: &dyn Fn() -> bool,
) -> LoopReport {
    let mut state = LoopState::new(opts.clone());
    while !stop() && state.report.findings.len() < opts.max_failures {
        let Some((i, stmt)) = state.next_stmt() else {
            break;
        };
        record(
            rec,
            OpType::Invoke,
            stmt.kind(),
            json!({ "i": i, "sql": stmt.to_string() }),
            None,
        );
        let step = state.step(i, &stmt, sut, reference.as_deref_mut()).await;
        record(rec, step.kind, stmt.kind(), step.value, step.error);
    }
    if let Some(mut rp) = replayer {
        state.reduce(&mut rp).await;
    }
    let mut report = state.finish();
    super::bugs::group(&mut report, &opts.repro_dir);
    report
}
