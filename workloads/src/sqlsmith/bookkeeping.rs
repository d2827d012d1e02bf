//! What the run loop must remember between statements: the tables the open transaction
//! wrote, the rule for statements whose outcome is unknown, retiring tables, and the
//! snapshot comparison of every live table.
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

use super::exec::{fault_like, SqlDb};
use super::options::{Finding, LoopReport, Stats};
use faultline_sqlsmith::{compare, Smith, Stmt};
use serde_json::json;
use std::collections::BTreeSet;

/// The tables written by the open transaction (known outcomes only).
#[derive(Default)]
pub(super) struct TxnTables(BTreeSet<String>);

fn retire(smith: &mut Smith, st: &mut Stats, table: String) {
    smith.retire(&table);
    st.retired.push(table);
}

impl TxnTables {
    /// Applies the unknown-outcome rule to `stmt` (`in_txn`: a transaction was open before
    /// it ran): retires tables and rolls back on both sides as documented above.
    pub(super) async fn unknown_outcome(
        &mut self,
        stmt: &Stmt,
        in_txn: bool,
        sut: &mut SqlDb,
        reference: Option<&mut SqlDb>,
        smith: &mut Smith,
        st: &mut Stats,
    ) {
        st.unknown += 1;
        let mut retired = Vec::new();
        if matches!(stmt, Stmt::Commit) {
            retired.extend(self.0.iter().cloned());
        } else if in_txn && !stmt.is_ddl() {
            // Not committed: roll the transaction back everywhere.
        } else if let Some(t) = stmt.written_table() {
            retired.push(t.to_string());
        }
        if in_txn || stmt.is_ddl() {
            retired.extend(
                self.0
                    .iter()
                    .filter(|_| stmt.is_ddl() || matches!(stmt, Stmt::Commit))
                    .cloned(),
            );
            sut.run("ROLLBACK").await;
            if let Some(r) = reference {
                r.run("ROLLBACK").await;
            }
            smith.txn_ended();
            self.0.clear();
        }
        for t in retired {
            retire(smith, st, t);
        }
    }

    /// After a statement with a known outcome (already recorded in `smith`).
    pub(super) fn known_outcome(&mut self, stmt: &Stmt, smith: &Smith) {
        match stmt {
            Stmt::Begin | Stmt::Commit | Stmt::Rollback => self.0.clear(),
            s if s.is_ddl() => self.0.clear(),
            s if smith.in_txn() => self.0.extend(s.written_table().map(str::to_string)),
            _ => {}
        }
    }

    /// After a divergence on `stmt`: the tables whose states now differ are retired.
    pub(super) fn diverged(&mut self, stmt: &Stmt, smith: &mut Smith, st: &mut Stats) {
        if let Some(t) = stmt.written_table() {
            retire(smith, st, t.to_string());
        }
        if matches!(stmt, Stmt::Commit) {
            for t in std::mem::take(&mut self.0) {
                retire(smith, st, t);
            }
        }
    }
}

/// Compares every live table on both sides after statement `i`; a difference is a finding
/// and retires the table.
pub(super) async fn snapshot(
    i: usize,
    sut: &mut SqlDb,
    r: &mut SqlDb,
    smith: &mut Smith,
    report: &mut LoopReport,
    checks: &mut Vec<serde_json::Value>,
) {
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
            checks.push(json!({"f": "snapshot", "i": i, "table": t, "divergence": d.what}));
            retire(smith, &mut report.stats, t.clone());
            report.findings.push(Finding {
                oracle: "snapshot".into(),
                index: i,
                sql: q,
                what: d.what,
                sut: a.brief(),
                reference: b.brief(),
                reproducer: None,
                reduced_statements: None,
                reduced_query: None,
                ..Default::default()
            });
        }
    }
}
