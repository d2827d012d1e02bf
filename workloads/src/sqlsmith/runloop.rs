//! The sequential run loop: one generated statement stream, executed on the system under
//! test and (differential oracle) on the reference, compared statement by statement, with a
//! snapshot of every live table every N statements, and the metamorphic oracles (TLP,
//! NoREC) on the system under test between statements.
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
use faultline_core::OpType;
use faultline_sqlsmith::{compare, ChaCha8Rng, Outcome, Smith, Stmt};
use rand::SeedableRng;
use serde_json::json;
use std::time::{Duration, Instant};

/// The pause after a statement that got no answer at once (its node is down).
const BACKOFF: Duration = Duration::from_millis(200);

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
    let mut txn_tables = TxnTables::default();
    let mut reduced = 0usize;
    // Aggregate TLP draws from its own stream: the statements stay those of the seed.
    let mut agg_rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x746c_7061_6767);
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
        let asked = Instant::now();
        let s_out = sut.run(&sql).await;
        if matches!(s_out, Outcome::Unknown { .. }) && asked.elapsed() < BACKOFF {
            // The node is down (connection refused): wait a little rather than burn the
            // statement stream until it is back.
            tokio::time::sleep(BACKOFF).await;
        }
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
            txn_tables
                .unknown_outcome(
                    &stmt,
                    in_txn,
                    sut,
                    reference.as_deref_mut(),
                    &mut smith,
                    &mut report.stats,
                )
                .await;
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
                    reduced_query: None,
                });
            }
        }
        if !unknown {
            smith.record(&stmt, !s_out.is_error());
            txn_tables.known_outcome(&stmt, &smith);
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
            txn_tables.diverged(&stmt, &mut smith, &mut report.stats);
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
            if let Some(r) = reference.as_deref_mut() {
                snapshot(i, sut, r, &mut smith, &mut report, rec).await;
            }
        }

        // Metamorphic oracles on the system under test.
        if (opts.oracles.tlp || opts.oracles.norec)
            && opts.oracle_every > 0
            && i % opts.oracle_every == 0
        {
            let failure = metamorphic(sut, &mut smith, &mut agg_rng, opts, &mut report.stats).await;
            if let Some((failure, what)) = failure {
                let mut f = oracle_finding(i, &failure, what);
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
