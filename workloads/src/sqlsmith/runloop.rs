//! The sequential run loop: one generated statement stream, executed on the system under
//! test and (differential oracle) on the reference, compared statement by statement, with a
//! snapshot of every live table every N statements, and the metamorphic oracles (TLP,
//! NoREC) on the system under test between statements.
//!
//! The rule for unknown outcomes (under faults): when the system under test answers a
//! statement with no answer or a fault error ([`FAULT_CODES`](super::exec::FAULT_CODES)),
//! - a write or DDL outside a transaction, or a COMMIT: every table it (or the transaction)
//!   wrote is *retired*: dropped from comparison and never generated against again;
//! - any statement inside a transaction before COMMIT: the transaction is rolled back on
//!   both sides (it cannot have committed), nothing is retired;
//! - a read: not compared.
//!
//! A divergence on a write also retires the table (its states now differ), so one bug is
//! reported once rather than on every later statement.

use super::exec::{fault_like, SqlDb, SYNTAX_CODES};
use super::replay::{Failure, Replayer};
use faultline_core::{OpType, Process};
use faultline_harness::interpreter::Recorder;
use faultline_sqlsmith::metamorphic::{norec, norec_check, tlp, tlp_check};
use faultline_sqlsmith::{compare, Config, Outcome, Smith, Stmt};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which oracles run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Oracles {
    pub diff: bool,
    pub tlp: bool,
    pub norec: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct LoopOptions {
    pub seed: u64,
    pub statements: usize,
    pub smith: Config,
    pub oracles: Oracles,
    /// Compare every live table every this many statements (0: never).
    pub snapshot_every: usize,
    /// Run TLP / NoREC every this many statements.
    pub oracle_every: usize,
    /// Stop after this many divergences / oracle failures.
    pub max_failures: usize,
    /// Reduce at most this many failures; each reduction gets `reduce_tests` replays and
    /// `reduce_timeout`.
    pub reduce: usize,
    pub reduce_tests: usize,
    pub reduce_timeout: Duration,
    /// Where reproducers go (`<dir>/repro-<n>.slt`).
    pub repro_dir: PathBuf,
}

/// One divergence or oracle failure.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub oracle: String,
    pub index: usize,
    pub sql: String,
    pub what: String,
    pub sut: String,
    pub reference: String,
    pub reproducer: Option<PathBuf>,
    pub reduced_statements: Option<usize>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub statements: usize,
    pub by_kind: BTreeMap<String, u64>,
    pub sut_errors: BTreeMap<u16, u64>,
    pub syntax_errors: u64,
    pub unknown: u64,
    pub compared: u64,
    pub snapshots: u64,
    pub tlp_checks: u64,
    pub norec_checks: u64,
    pub oracle_skipped: u64,
    pub retired: Vec<String>,
    pub elapsed_s: f64,
    pub statements_per_s: f64,
}

impl Stats {
    pub fn syntax_error_rate(&self) -> f64 {
        self.syntax_errors as f64 / self.statements.max(1) as f64
    }
}

#[derive(Debug, Default, Serialize)]
pub struct LoopReport {
    pub stats: Stats,
    pub findings: Vec<Finding>,
}

pub type SharedRecorder = Arc<Mutex<Recorder>>;

fn record(
    rec: Option<&SharedRecorder>,
    kind: OpType,
    f: &str,
    value: serde_json::Value,
    error: Option<String>,
) {
    if let Some(r) = rec {
        if let Ok(mut r) = r.lock() {
            r.record(Process::Client(0), kind, f, value, None, error);
        }
    }
}

/// The run: `sut` always, `reference` when the differential oracle is on; `replay` makes the
/// connections the reducer replays on. `stop` is polled between statements.
pub async fn run_loop(
    sut: &mut SqlDb,
    mut reference: Option<&mut SqlDb>,
    mut replayer: Option<Replayer>,
    opts: &LoopOptions,
    rec: Option<&SharedRecorder>,
    stop: &dyn Fn() -> bool,
) -> LoopReport {
    let started = Instant::now();
    let mut smith = Smith::new(opts.seed, opts.smith.clone());
    let mut report = LoopReport::default();
    let mut done: Vec<Stmt> = Vec::new();
    let mut txn_tables: BTreeSet<String> = BTreeSet::new();
    let mut reduced = 0usize;
    for i in 0..opts.statements {
        if stop() || report.findings.len() >= opts.max_failures {
            break;
        }
        let stmt = smith.next_stmt();
        let sql = stmt.to_string();
        record(
            rec,
            OpType::Invoke,
            stmt.kind(),
            json!({ "i": i, "sql": sql }),
            None,
        );
        let s_out = sut.run(&sql).await;
        let st = &mut report.stats;
        st.statements += 1;
        *st.by_kind.entry(stmt.kind().to_string()).or_default() += 1;
        if let Some(c) = s_out.error_code() {
            *st.sut_errors.entry(c).or_default() += 1;
            if SYNTAX_CODES.contains(&c) {
                st.syntax_errors += 1;
                tracing::warn!("syntax error {c} on: {sql}");
            }
        }
        let in_txn = smith.in_txn();
        let mut r_out = None;
        if !fault_like(&s_out) {
            if let Some(r) = reference.as_mut() {
                r_out = Some(r.run(&sql).await);
            }
        }
        let unknown = fault_like(&s_out) || r_out.as_ref().is_some_and(fault_like);
        let mut finding = None;
        if unknown {
            report.stats.unknown += 1;
            let mut retire = Vec::new();
            if matches!(stmt, Stmt::Commit) {
                retire.extend(txn_tables.iter().cloned());
            } else if in_txn && !stmt.is_ddl() {
                // Not committed: roll the transaction back everywhere.
            } else if let Some(t) = stmt.written_table() {
                retire.push(t.to_string());
            }
            if in_txn || stmt.is_ddl() {
                retire.extend(
                    txn_tables
                        .iter()
                        .filter(|_| stmt.is_ddl() || matches!(stmt, Stmt::Commit))
                        .cloned(),
                );
                sut.run("ROLLBACK").await;
                if let Some(r) = reference.as_mut() {
                    r.run("ROLLBACK").await;
                }
                smith.txn_ended();
                txn_tables.clear();
            }
            for t in retire {
                smith.retire(&t);
                report.stats.retired.push(t);
            }
        } else if let Some(r_out) = &r_out {
            report.stats.compared += 1;
            let ordered = matches!(&stmt, Stmt::Select(q) if q.order_is_total());
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
                });
            }
        }
        if !unknown {
            smith.record(&stmt, !s_out.is_error());
            match &stmt {
                Stmt::Begin | Stmt::Commit | Stmt::Rollback => txn_tables.clear(),
                s if s.is_ddl() => txn_tables.clear(),
                s if smith.in_txn() => txn_tables.extend(s.written_table().map(str::to_string)),
                _ => {}
            }
        }
        done.push(stmt.clone());
        let kind = match (&s_out, unknown) {
            (_, true) => OpType::Info,
            (Outcome::Error { .. }, _) => OpType::Fail,
            _ => OpType::Ok,
        };
        let value = json!({
            "i": i, "sql": sql, "sut": s_out.brief(),
            "ref": r_out.as_ref().map(|o| o.brief()),
            "divergence": finding.as_ref().map(|f| f.what.clone()),
        });
        record(
            rec,
            kind,
            stmt.kind(),
            value,
            s_out.error_code().map(|c| c.to_string()),
        );

        if let Some(mut f) = finding {
            if let Some(t) = stmt.written_table() {
                smith.retire(t);
                report.stats.retired.push(t.to_string());
            }
            if matches!(stmt, Stmt::Commit) {
                for t in std::mem::take(&mut txn_tables) {
                    smith.retire(&t);
                    report.stats.retired.push(t);
                }
            }
            tracing::warn!("divergence at statement {i}: {} on {sql}", f.what);
            if reduced < opts.reduce {
                if let Some(rp) = replayer.as_mut() {
                    reduced += 1;
                    reduce_finding(rp, &mut f, done.clone(), Failure::Diff, opts).await;
                }
            }
            report.findings.push(f);
        }

        // Snapshot comparison of every live table.
        if opts.snapshot_every > 0 && (i + 1) % opts.snapshot_every == 0 && !smith.in_txn() {
            if let Some(r) = reference.as_mut() {
                let tables: Vec<String> = smith.schema().live().map(|t| t.name.clone()).collect();
                for t in tables {
                    let q = format!("SELECT * FROM {t}");
                    let (a, b) = (sut.run(&q).await, r.run(&q).await);
                    report.stats.snapshots += 1;
                    if fault_like(&a) || fault_like(&b) {
                        continue;
                    }
                    if let Some(d) = compare(&a, &b, false) {
                        tracing::warn!("snapshot of {t} differs after statement {i}: {}", d.what);
                        record(
                            rec,
                            OpType::Info,
                            "snapshot",
                            json!({"i": i, "table": t, "divergence": d.what}),
                            None,
                        );
                        smith.retire(&t);
                        report.stats.retired.push(t.clone());
                        report.findings.push(Finding {
                            oracle: "snapshot".into(),
                            index: i,
                            sql: q,
                            what: d.what,
                            sut: a.brief(),
                            reference: b.brief(),
                            reproducer: None,
                            reduced_statements: None,
                        });
                    }
                }
            }
        }

        // Metamorphic oracles on the system under test.
        if (opts.oracles.tlp || opts.oracles.norec)
            && opts.oracle_every > 0
            && i % opts.oracle_every == 0
        {
            let failure = metamorphic(sut, &mut smith, opts, &mut report.stats).await;
            if let Some((failure, what)) = failure {
                let mut f = Finding {
                    oracle: match failure {
                        Failure::Tlp(_) => "tlp".into(),
                        _ => "norec".into(),
                    },
                    index: i,
                    sql: match &failure {
                        Failure::Tlp(c) => c.original.to_string(),
                        Failure::Norec(c) => c.optimized.to_string(),
                        Failure::Diff => String::new(),
                    },
                    what,
                    sut: String::new(),
                    reference: String::new(),
                    reproducer: None,
                    reduced_statements: None,
                };
                tracing::warn!("{} failure after statement {i}: {}", f.oracle, f.what);
                record(
                    rec,
                    OpType::Info,
                    &f.oracle,
                    json!({"i": i, "sql": f.sql, "divergence": f.what}),
                    None,
                );
                if reduced < opts.reduce {
                    if let Some(rp) = replayer.as_mut() {
                        reduced += 1;
                        reduce_finding(rp, &mut f, done.clone(), failure, opts).await;
                    }
                }
                report.findings.push(f);
            }
        }
    }
    let st = &mut report.stats;
    st.elapsed_s = started.elapsed().as_secs_f64();
    st.statements_per_s = st.statements as f64 / st.elapsed_s.max(1e-9);
    report
}

async fn reduce_finding(
    rp: &mut Replayer,
    f: &mut Finding,
    stmts: Vec<Stmt>,
    failure: Failure,
    opts: &LoopOptions,
) {
    let n = std::fs::read_dir(&opts.repro_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    let path = opts.repro_dir.join(format!("repro-{}-{}.slt", f.oracle, n));
    let header = vec![
        "faultline sqlsmith reproducer".to_string(),
        format!("seed: {}", opts.seed),
        format!(
            "oracle: {}; statement {} of the run: {}",
            f.oracle, f.index, f.sql
        ),
        format!("finding: {}", f.what),
        format!("system under test: {}", f.sut),
        format!("reference:         {}", f.reference),
    ];
    match rp
        .reduce_and_write(
            stmts,
            &failure,
            opts.reduce_tests,
            opts.reduce_timeout,
            header,
            &path,
        )
        .await
    {
        Ok(n) => {
            f.reproducer = Some(path);
            f.reduced_statements = Some(n);
        }
        Err(e) => tracing::warn!("writing the reproducer: {e:#}"),
    }
}

/// One TLP and / or NoREC check on the current database; Some on a failure.
async fn metamorphic(
    sut: &mut SqlDb,
    smith: &mut Smith,
    opts: &LoopOptions,
    st: &mut Stats,
) -> Option<(Failure, String)> {
    let (query, scope) = smith.oracle_query()?;
    let p = smith.predicate(&scope);
    if opts.oracles.tlp {
        if let Some(case) = tlp(&query, &p) {
            let mut outs = Vec::new();
            for q in std::iter::once(&case.original).chain(case.partitions.iter()) {
                outs.push(sut.run(&q.to_string()).await);
            }
            let rows: Option<Vec<_>> = outs.iter().map(|o| o.rows()).collect();
            match rows {
                Some(r) => {
                    st.tlp_checks += 1;
                    if let Err(e) = tlp_check(&case, r[0], [r[1], r[2], r[3]]) {
                        return Some((Failure::Tlp(Box::new(case)), e));
                    }
                }
                None => st.oracle_skipped += 1,
            }
        }
    }
    if opts.oracles.norec {
        let from = query.from.as_ref()?;
        let case = norec(from, &p);
        let a = sut.run(&case.optimized.to_string()).await;
        let b = sut.run(&case.unoptimized.to_string()).await;
        match (a.rows(), b.rows()) {
            (Some(x), Some(y)) => {
                st.norec_checks += 1;
                if let Err(e) = norec_check(x, y) {
                    return Some((Failure::Norec(Box::new(case)), e));
                }
            }
            _ => st.oracle_skipped += 1,
        }
    }
    None
}
