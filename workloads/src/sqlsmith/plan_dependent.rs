//! A divergence that does not replay, explained: a wrong result that depends on the plan.
//!
//! Two servers with the same data can plan one statement differently (their statistics
//! differ, e.g. after a restart), so a wrong result that only one plan gives shows in the
//! run as a divergence from the reference, and not when the statements are replayed on two
//! fresh servers that happen to plan alike. Seen in the fault test: `UPDATE t21 .. WHERE
//! 38.02 NOT BETWEEN c1 AND c7` changed 40 rows on one server and 12 on the other; on one
//! fresh server the same WHERE finds 40 rows by a full scan and 12 through the DOUBLE index
//! on `c1` (MariaDB's DOUBLE-key BETWEEN bug). So, before calling such a finding
//! unreproducible, the statement's rows (its WHERE, for an UPDATE or DELETE) are read
//! under each plan change of the plan oracle on the replayed state before it, on the system
//! under test; the first change that alters them is a plan-oracle failure that replays.

use super::exec::fault_like;
use super::replay::{oracle_fails, Failure, Replayer};
use faultline_sqlsmith::ast::{Expr, Literal, TableRef};
use faultline_sqlsmith::plan::{plan_changes, PlanCase};
use faultline_sqlsmith::{Outcome, Schema, Select, Stmt};

/// The rows a statement reads: a SELECT itself, the rows an UPDATE or DELETE changes as
/// `SELECT 1 FROM t AS t WHERE ..` (its WHERE reads the table by its name).
pub fn rows_read(stmt: &Stmt) -> Option<Select> {
    match stmt {
        Stmt::Select(q) => Some(q.clone()),
        Stmt::Update { table, filter, .. } | Stmt::Delete { table, filter } => {
            let mut q = Select::over(faultline_sqlsmith::ast::From {
                first: TableRef::named(table, table),
                joins: vec![],
            });
            q.items = vec![Expr::Lit(Literal::Int(1))];
            q.filter = filter.clone();
            Some(q)
        }
        _ => None,
    }
}

impl Replayer {
    /// The plan-oracle failure behind a divergence at the last of `stmts` that did not
    /// replay, if its rows change with the plan on the system under test (see the module
    /// doc); `outcomes` are the replay's answers, which tell which statements built the
    /// schema. None when no plan change alters them.
    pub(super) async fn plan_dependent(
        &mut self,
        stmts: &[Stmt],
        outcomes: &[Outcome],
    ) -> Option<Failure> {
        let (last, prefix) = stmts.split_last()?;
        let query = rows_read(last)?;
        let mut schema = Schema::default();
        for (s, o) in prefix.iter().zip(outcomes) {
            if !o.is_error() && !fault_like(o) {
                schema.apply(s);
            }
        }
        let changes = plan_changes(&query, &schema)?;
        self.replay(prefix).await?;
        for change in changes {
            let f = Failure::Plan(Box::new(PlanCase {
                query: query.clone(),
                change,
            }));
            if oracle_fails(&mut self.sut, &f).await == Some(true) {
                return Some(f);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_sqlsmith::ast::BinOp;

    #[test]
    fn an_update_reads_the_rows_its_where_selects() {
        let filter = Expr::Binary {
            op: BinOp::Lt,
            l: Box::new(Expr::col("t21", "c1")),
            r: Box::new(Expr::Lit(Literal::Int(3))),
        };
        let update = Stmt::Update {
            table: "t21".into(),
            sets: vec![("c10".into(), Expr::Lit(Literal::Int(-2)))],
            filter: Some(filter),
        };
        assert_eq!(
            rows_read(&update).unwrap().to_string(),
            "SELECT 1 FROM t21 AS t21 WHERE (t21.c1 < 3)"
        );
        let delete = Stmt::Delete {
            table: "t2".into(),
            filter: None,
        };
        assert_eq!(
            rows_read(&delete).unwrap().to_string(),
            "SELECT 1 FROM t2 AS t2"
        );
        assert!(rows_read(&Stmt::Commit).is_none());
    }
}
