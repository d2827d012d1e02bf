//! Replaying a statement list on fresh databases, the "still fails?" checks the reducer
//! calls, and writing the reduced reproducer.
//!
//! Replays run in their own database (`sqlsmith_replay`) on separate connections, so the
//! run's own tables are untouched and the run can go on after a reduction. A replay in which
//! the system under test gives a fault-like outcome does not count as reproducing.

use super::exec::{fault_like, SqlDb};
use faultline_sqlsmith::metamorphic::{norec_check, tlp_check, NorecCase, TlpCase};
use faultline_sqlsmith::plan::{plan_check, PlanCase};
use faultline_sqlsmith::reduce::{reduce, Reduced};
use faultline_sqlsmith::reduce_oracle::{
    norec_candidates, plan_candidates, reduce_case, tlp_candidates,
};
use faultline_sqlsmith::slt::{render, Record};
use faultline_sqlsmith::{compare, Outcome, Select, Stmt};
use std::path::Path;
use std::time::{Duration, Instant};

/// What must still go wrong.
#[derive(Clone, Debug)]
pub enum Failure {
    /// Some statement answers differently on the two servers.
    Diff,
    /// The TLP partitions do not add up (on the system under test).
    Tlp(Box<TlpCase>),
    /// The NoREC counts differ (on the system under test).
    Norec(Box<NorecCase>),
    /// The same query under another plan gives other rows (on the system under test).
    Plan(Box<PlanCase>),
}

/// The replay databases: the system under test and, for `Failure::Diff`, the reference.
pub struct Replayer {
    pub sut: SqlDb,
    pub reference: Option<SqlDb>,
}

fn ordered(s: &Stmt) -> bool {
    matches!(s, Stmt::Select(q) if q.order_is_total())
}

impl Replayer {
    /// Runs `stmts` on fresh databases; returns the outcomes (reference ones empty without
    /// a reference), or None when a database could not be reset.
    pub async fn replay(&mut self, stmts: &[Stmt]) -> Option<(Vec<Outcome>, Vec<Outcome>)> {
        self.sut.recreate_database().await.ok()?;
        if let Some(r) = self.reference.as_mut() {
            r.recreate_database().await.ok()?;
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for s in stmts {
            let sql = s.to_string();
            a.push(self.sut.run(&sql).await);
            if let Some(r) = self.reference.as_mut() {
                b.push(r.run(&sql).await);
            }
        }
        Some((a, b))
    }

    /// Extra queries of an oracle failure and its verdict, on the system under test.
    async fn oracle(&mut self, f: &Failure) -> Option<(Vec<Record>, Result<(), String>)> {
        // Each oracle query as the statement it is and the SQL sent (another only when a
        // plan change wraps the query).
        let queries: Vec<(Select, Option<String>)> = match f {
            Failure::Diff => return None,
            Failure::Tlp(c) => std::iter::once(&c.original)
                .chain(c.partitions.iter())
                .map(|q| (q.clone(), None))
                .collect(),
            Failure::Norec(c) => vec![(c.optimized.clone(), None), (c.unoptimized.clone(), None)],
            Failure::Plan(c) => vec![
                (c.query.clone(), None),
                (c.query.clone(), Some(c.altered_sql())),
            ],
        };
        let mut outs = Vec::new();
        for (q, sql) in queries {
            let text = sql.clone().unwrap_or_else(|| q.to_string());
            let o = self.sut.run(&text).await;
            let mut rec = Record::new(Stmt::Select(q), o);
            rec.sql = sql;
            outs.push(rec);
        }
        let rows: Option<Vec<&[faultline_sqlsmith::compare::Row]>> =
            outs.iter().map(|r| r.expected.rows()).collect();
        let verdict = match (f, rows) {
            (_, None) => Ok(()), // an error is not this failure
            (Failure::Tlp(c), Some(r)) => tlp_check(c, r[0], [r[1], r[2], r[3]]),
            (Failure::Norec(_), Some(r)) => norec_check(r[0], r[1]),
            (Failure::Plan(_), Some(r)) => plan_check(r[0], r[1]),
            (Failure::Diff, _) => Ok(()),
        };
        Some((outs, verdict))
    }

    /// Whether replaying `stmts` still shows `failure`.
    pub async fn fails(&mut self, stmts: &[Stmt], failure: &Failure) -> bool {
        let Some((a, b)) = self.replay(stmts).await else {
            return false;
        };
        if a.iter().any(fault_like) || b.iter().any(fault_like) {
            return false;
        }
        match failure {
            Failure::Diff => stmts
                .iter()
                .zip(a.iter().zip(&b))
                .any(|(s, (x, y))| compare(x, y, ordered(s)).is_some()),
            f => matches!(self.oracle(f).await, Some((_, Err(_)))),
        }
    }

    /// ddmin and simplification over the statements while `failure` still shows.
    fn reduce_stmts(
        &mut self,
        stmts: Vec<Stmt>,
        failure: &Failure,
        max_tests: usize,
        deadline: Instant,
    ) -> Reduced {
        let handle = tokio::runtime::Handle::current();
        let mut fails = |s: &[Stmt]| -> bool {
            Instant::now() < deadline
                && tokio::task::block_in_place(|| handle.block_on(self.fails(s, failure)))
        };
        reduce(stmts, max_tests, &mut fails)
    }

    /// Shrinks the query (and predicate) of a TLP / NoREC failure on the state `stmts`
    /// leave, re-running the oracle's queries at each step; None for a diff failure or
    /// when the state cannot be replayed. Returns the smaller failure and the checks made.
    pub async fn reduce_query(
        &mut self,
        stmts: &[Stmt],
        failure: &Failure,
        max_tests: usize,
        deadline: Instant,
    ) -> Option<(Failure, usize)> {
        if matches!(failure, Failure::Diff) {
            return None;
        }
        self.replay(stmts).await?;
        let handle = tokio::runtime::Handle::current();
        let mut fails = |f: Failure| -> bool {
            Instant::now() < deadline
                && tokio::task::block_in_place(|| {
                    handle.block_on(async { matches!(self.oracle(&f).await, Some((_, Err(_)))) })
                })
        };
        Some(match failure {
            Failure::Tlp(c) => {
                let mut f = |c: &TlpCase| fails(Failure::Tlp(Box::new(c.clone())));
                let (c, n) = reduce_case((**c).clone(), tlp_candidates, max_tests, &mut f);
                (Failure::Tlp(Box::new(c)), n)
            }
            Failure::Norec(c) => {
                let mut f = |c: &NorecCase| fails(Failure::Norec(Box::new(c.clone())));
                let (c, n) = reduce_case((**c).clone(), norec_candidates, max_tests, &mut f);
                (Failure::Norec(Box::new(c)), n)
            }
            Failure::Plan(c) => {
                let mut f = |c: &PlanCase| fails(Failure::Plan(Box::new(c.clone())));
                let (c, n) = reduce_case((**c).clone(), plan_candidates, max_tests, &mut f);
                (Failure::Plan(Box::new(c)), n)
            }
            Failure::Diff => return None,
        })
    }

    /// Reduces `stmts` (at most `max_tests` replays, `timeout` overall) and, for a TLP /
    /// NoREC failure, the oracle's query too (then the statements once more: a smaller
    /// query may need fewer of them), and writes the sqllogictest file to `path`: the setup
    /// statements, then the oracle's queries. Returns the reduced statement count and the
    /// reduced oracle query.
    pub async fn reduce_and_write(
        &mut self,
        stmts: Vec<Stmt>,
        failure: &Failure,
        max_tests: usize,
        timeout: Duration,
        header: Vec<String>,
        path: &Path,
    ) -> anyhow::Result<(usize, Option<String>)> {
        let deadline = Instant::now() + timeout;
        let mut reduced = self.reduce_stmts(stmts, failure, max_tests, deadline);
        let mut failure = failure.clone();
        let mut header = header;
        if let Some((smaller, n)) = self
            .reduce_query(&reduced.stmts, &failure, max_tests, deadline)
            .await
        {
            tracing::info!("oracle query reduced in {n} checks");
            failure = smaller;
            let again = self.reduce_stmts(reduced.stmts, &failure, max_tests / 4, deadline);
            reduced = Reduced {
                stmts: again.stmts,
                tests: reduced.tests + n + again.tests,
            };
        }
        let query = oracle_query(&failure);
        if let Some(q) = &query {
            header.push(format!("reduced oracle query: {q}"));
        }
        tracing::info!(
            "reduced to {} statement(s) in {} replays",
            reduced.stmts.len(),
            reduced.tests
        );
        let (a, b) = self.replay(&reduced.stmts).await.unwrap_or_default();
        let mut records = Vec::new();
        for (i, s) in reduced.stmts.iter().enumerate() {
            let sut = a.get(i).cloned().unwrap_or(Outcome::Unknown {
                reason: "not replayed".into(),
            });
            let mut rec = match b.get(i) {
                Some(r) => {
                    let mut rec = Record::new(s.clone(), r.clone());
                    if let Some(d) = compare(&sut, r, ordered(s)) {
                        rec.comments.push(format!("DIVERGENCE: {}", d.what));
                        rec.comments
                            .push(format!("system under test: {}", sut.brief()));
                        rec.comments
                            .push(format!("reference:         {}", r.brief()));
                        rec.comments
                            .push("(the expectation below is the reference's answer)".into());
                    }
                    rec
                }
                None => Record::new(s.clone(), sut),
            };
            rec.comments.retain(|c| !c.is_empty());
            records.push(rec);
        }
        if let Some((outs, verdict)) = self.oracle(&failure).await {
            header.push(format!("oracle verdict on replay: {verdict:?}"));
            for mut rec in outs {
                rec.comments.push(
                    "oracle query (expectation = what the system under test answered)".into(),
                );
                records.push(rec);
            }
        }
        header.push(format!(
            "{} statement(s) after reduction ({} replays)",
            reduced.stmts.len(),
            reduced.tests
        ));
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        std::fs::write(path, render(&header, &records))?;
        Ok((reduced.stmts.len(), query))
    }
}

/// The query of a TLP / NoREC failure in words (with p for TLP).
fn oracle_query(f: &Failure) -> Option<String> {
    match f {
        Failure::Tlp(c) => Some(format!(
            "{} -- partitioned by p = {}",
            c.original, c.predicate
        )),
        Failure::Norec(c) => Some(c.optimized.to_string()),
        Failure::Plan(c) => Some(c.describe()),
        Failure::Diff => None,
    }
}
