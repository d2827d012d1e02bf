//! Replaying a statement list on fresh databases, the "still fails?" checks the reducer
//! calls, and writing the reduced reproducer.
//!
//! Replays run in their own database (`sqlsmith_replay`) on separate connections, so the
//! run's own tables are untouched and the run can go on after a reduction. A replay in which
//! the system under test gives a fault-like outcome does not count as reproducing.

use super::exec::{fault_like, SqlDb, SESSION_SETUP};
use super::snapshot::snapshot;
use super::switches::{self, SwitchProbe};
use faultline_sqlsmith::ast::TableRef;
use faultline_sqlsmith::metamorphic::{norec_check, tlp_check, NorecCase, TlpCase};
use faultline_sqlsmith::plan::{plan_check, PlanCase};
use faultline_sqlsmith::reduce::{reduce_within, Reduced, Stop};
use faultline_sqlsmith::reduce_oracle::{
    norec_candidates, plan_candidates, reduce_case, tlp_candidates,
};
use faultline_sqlsmith::signature::{self, Signature};
use faultline_sqlsmith::slt::{render, Record};
use faultline_sqlsmith::visit::{stmt_mut, VisitMut};
use faultline_sqlsmith::{compare, Outcome, Select, Stmt};
use std::collections::BTreeSet;
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
        oracle_on(&mut self.sut, f).await
    }

    /// Whether replaying `stmts` still shows `failure`.
    pub async fn fails(&mut self, stmts: &[Stmt], failure: &Failure) -> bool {
        self.check(stmts, failure).await.is_ok()
    }

    /// Replays `stmts` and says whether `failure` shows: Ok when it does, else why not.
    pub async fn check(&mut self, stmts: &[Stmt], failure: &Failure) -> Result<(), String> {
        self.check_outcomes(stmts, failure).await.0
    }

    /// [`check`](Self::check), and the outcomes of the statements on the system under test.
    async fn check_outcomes(
        &mut self,
        stmts: &[Stmt],
        failure: &Failure,
    ) -> (Result<(), String>, Vec<Outcome>) {
        let Some((a, b)) = self.replay(stmts).await else {
            return (
                Err("the replay database could not be recreated".into()),
                vec![],
            );
        };
        let verdict = self.verdict(stmts, failure, &a, &b).await;
        (verdict, a)
    }

    async fn verdict(
        &mut self,
        stmts: &[Stmt],
        failure: &Failure,
        a: &[Outcome],
        b: &[Outcome],
    ) -> Result<(), String> {
        let faulty = a.iter().chain(b).position(fault_like);
        if let Some(k) = faulty {
            let (k, o) = (k % stmts.len().max(1), a.iter().chain(b).nth(k));
            return Err(format!(
                "statement {k} of the replay got a fault-like answer ({}), so it says nothing",
                o.map(|o| o.brief()).unwrap_or_default()
            ));
        }
        match failure {
            Failure::Diff => {
                let diverged = stmts
                    .iter()
                    .zip(a.iter().zip(b))
                    .any(|(s, (x, y))| compare(x, y, ordered(s)).is_some());
                if diverged {
                    Ok(())
                } else {
                    Err("no statement answers differently on the two servers".into())
                }
            }
            f => match self.oracle(f).await {
                Some((_, Err(_))) => Ok(()),
                Some((outs, Ok(()))) if outs.iter().any(|r| r.expected.is_error()) => {
                    Err("an oracle query answers with an error".into())
                }
                _ => Err("the oracle's identity holds on the replayed state".into()),
            },
        }
    }

    /// ddmin and simplification over the statements while `failure` still shows, to a
    /// fixpoint or until `max_tests` replays or `deadline`.
    fn reduce_stmts(
        &mut self,
        stmts: Vec<Stmt>,
        failure: &Failure,
        max_tests: usize,
        deadline: Instant,
    ) -> Reduced {
        let handle = tokio::runtime::Handle::current();
        let mut fails = |s: &[Stmt]| -> bool {
            tokio::task::block_in_place(|| handle.block_on(self.fails(s, failure)))
        };
        reduce_within(stmts, max_tests, Some(deadline), &mut fails)
    }

    /// A cheap first cut, kept only when it still fails (one replay): the statements that
    /// cannot matter to `failure` dropped (reads, and writes to tables the failing query
    /// and the kept statements never read). It makes every later replay shorter: the run's
    /// prefix is thousands of statements on half a dozen tables.
    async fn slice(&mut self, stmts: Vec<Stmt>, failure: &Failure) -> (Vec<Stmt>, usize) {
        let Some(sliced) = slice(&stmts, failure) else {
            return (stmts, 0);
        };
        if sliced.len() < stmts.len() && self.fails(&sliced, failure).await {
            tracing::info!("sliced {} statement(s) to {}", stmts.len(), sliced.len());
            (sliced, 1)
        } else {
            (stmts, 1)
        }
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

    /// Reduces `stmts` (at most `max_tests` replays, `timeout` overall): first checks that
    /// the whole list replays the failure at all (if not, says why and keeps it), slices,
    /// then statements, the oracle's query, literals and types in turn until a round
    /// changes nothing; writes the sqllogictest file to `path` (the setup statements, then
    /// the oracle's queries) and computes the signature of what is left.
    #[allow(clippy::too_many_arguments)]
    pub async fn reduce_and_write(
        &mut self,
        oracle: &str,
        stmts: Vec<Stmt>,
        failure: &Failure,
        max_tests: usize,
        timeout: Duration,
        header: Vec<String>,
        path: &Path,
    ) -> anyhow::Result<Reduction> {
        let deadline = Instant::now() + timeout;
        let original = stmts.len();
        let mut failure = failure.clone();
        let mut header = header;
        let started = Instant::now();
        let (mut whole, mut outcomes) = self.check_outcomes(&stmts, &failure).await;
        let replay_s = started.elapsed().as_secs_f64();
        let mut tests = 1;
        let mut stmts = stmts;
        let mut converted = None;
        if let (Err(why), Failure::Diff) = (&whole, &failure) {
            // Not a replay of the divergence: maybe a wrong result only one plan gives.
            if let Some(f) = self.plan_dependent(&stmts, &outcomes).await {
                let note = format!(
                    "the divergence did not replay ({why}), but on the replayed state the statement's rows change with the plan on the system under test ({}): a wrong result that depends on the plan, which the two servers chose differently in the run; reduced as that plan-oracle finding",
                    oracle_query(&f).unwrap_or_default()
                );
                header.push(note.clone());
                converted = Some(note);
                stmts.pop();
                failure = f;
                (whole, outcomes) = self.check_outcomes(&stmts, &failure).await;
                tests += 1;
            }
        }
        let mut note = None;
        let mut cur = stmts;
        if whole.is_ok() {
            // The state the whole prefix built, in a few statements, when it still fails.
            if let Some(wanted) = wanted_tables(&cur, &failure) {
                if let Some(snap) = snapshot(&mut self.sut, &cur, &outcomes, &wanted).await {
                    tests += 1;
                    if snap.len() < cur.len() && self.fails(&snap, &failure).await {
                        tracing::info!(
                            "replaced {} statement(s) by a snapshot of {}",
                            cur.len(),
                            snap.len()
                        );
                        cur = snap;
                    }
                }
            }
        }
        match whole {
            Err(why) => {
                note = Some(format!(
                    "not reduced: replaying its {original} statement(s) on a fresh database does not show the failure ({why}); it depends on something the statements alone do not rebuild (the run's connection or timing, or a fault)"
                ));
            }
            Ok(()) => {
                let (sliced, n) = self.slice(cur, &failure).await;
                cur = sliced;
                tests += n;
                let stop = loop {
                    let left = max_tests.saturating_sub(tests);
                    let r = self.reduce_stmts(cur.clone(), &failure, left, deadline);
                    tests += r.tests;
                    let mut changed = r.stmts != cur;
                    cur = r.stmts;
                    if r.stop != Stop::Fixpoint {
                        break r.stop;
                    }
                    let left = max_tests.saturating_sub(tests);
                    if let Some((smaller, n)) =
                        self.reduce_query(&cur, &failure, left, deadline).await
                    {
                        tests += n;
                        changed |= oracle_query(&smaller) != oracle_query(&failure);
                        failure = smaller;
                    }
                    if Instant::now() >= deadline {
                        break Stop::Time;
                    }
                    if tests >= max_tests {
                        break Stop::Tests;
                    }
                    if !changed {
                        break Stop::Fixpoint;
                    }
                };
                if cur.len() > 20 {
                    note = Some(match stop {
                        Stop::Time => format!(
                            "kept {} of {original} statements: the time budget ({} s, --reduce-timeout) ran out after {tests} replays; one replay of the whole prefix took {replay_s:.1} s",
                            cur.len(),
                            timeout.as_secs()
                        ),
                        Stop::Tests => format!(
                            "kept {} of {original} statements: the replay budget ({max_tests}, --reduce-tests) was used up",
                            cur.len()
                        ),
                        Stop::Fixpoint => format!(
                            "kept {} of {original} statements: each is needed (leaving out any one, or any simplification tried, makes the failure vanish on replay): the state it needs is built by a long sequence",
                            cur.len()
                        ),
                    });
                }
            }
        }
        let query = oracle_query(&failure);
        if let Some(q) = &query {
            header.push(format!("reduced oracle query: {q}"));
        }
        if let Some(n) = &note {
            header.push(format!("reduction: {n}"));
        }
        tracing::info!(
            "reduced {original} to {} statement(s) in {tests} replays",
            cur.len()
        );
        let (a, b) = self.replay(&cur).await.unwrap_or_default();
        let mut records = Vec::new();
        let mut diverging = None;
        for (i, s) in cur.iter().enumerate() {
            let sut = a.get(i).cloned().unwrap_or(Outcome::Unknown {
                reason: "not replayed".into(),
            });
            let mut rec = match b.get(i) {
                Some(r) => {
                    let mut rec = Record::new(s.clone(), r.clone());
                    if let Some(d) = compare(&sut, r, ordered(s)) {
                        diverging.get_or_insert((i, sut.brief(), r.brief()));
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
        let setup = records.clone();
        let mut verdict = None;
        let mut oracle_records = Vec::new();
        if let Some((outs, v)) = self.oracle(&failure).await {
            header.push(format!("oracle verdict on replay: {v:?}"));
            verdict = Some(v.err().unwrap_or_else(|| "the identity held".into()));
            for mut rec in outs {
                rec.comments.push(
                    "oracle query (expectation = what the system under test answered)".into(),
                );
                oracle_records.push(rec.clone());
                records.push(rec);
            }
        }
        // Which optimizer feature the failure needs, on the reduced state as it stands.
        let switches = match &failure {
            Failure::Diff => None,
            f => {
                switches::probe(&mut self.sut, |db: &mut SqlDb| {
                    let f = f.clone();
                    Box::pin(async move { oracle_fails(db, &f).await })
                })
                .await
            }
        };
        if let Some(p) = &switches {
            header.push(p.describe());
        }
        header.push(format!(
            "{} statement(s) after reduction ({tests} replays)",
            cur.len()
        ));
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        std::fs::write(path, render(&header, &[SESSION_SETUP], &records))?;
        let signature = match &failure {
            // TLP, NoREC and the plan oracle sign alike: one bug, one signature.
            Failure::Tlp(c) => signature::of_rows(&c.original, Some(&c.predicate), &cur),
            Failure::Norec(c) => signature::of_rows(&c.optimized, None, &cur),
            Failure::Plan(c) => signature::of_rows(&c.query, None, &cur),
            Failure::Diff => match &diverging {
                Some((i, _, _)) => signature::of_statement(oracle, &cur[*i], &cur),
                None => signature::of_statement(oracle, cur.last().unwrap_or(&Stmt::Commit), &cur),
            },
        };
        let version = match self.sut.run("SELECT VERSION()").await.rows() {
            Some([row, ..]) => row.first().cloned().flatten().unwrap_or_default(),
            _ => String::new(),
        };
        Ok(Reduction {
            statements: cur.len(),
            query,
            note,
            signature,
            setup,
            oracle_records,
            verdict,
            diverging: diverging.map(|(i, s, r)| (cur[i].to_string(), s, r)),
            version,
            switches,
            converted,
        })
    }
}

/// The extra queries of an oracle failure on `sut` and the oracle's verdict; None for a
/// differential failure.
pub(super) async fn oracle_on(
    sut: &mut SqlDb,
    f: &Failure,
) -> Option<(Vec<Record>, Result<(), String>)> {
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
        let o = sut.run(&text).await;
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

/// Whether oracle failure `f` shows on `sut`: Some(true) when it does, Some(false) when its
/// identity holds with every query answered, None when a query erred (it cannot tell).
pub(super) async fn oracle_fails(sut: &mut SqlDb, f: &Failure) -> Option<bool> {
    match oracle_on(sut, f).await? {
        (_, Err(_)) => Some(true),
        (outs, Ok(())) if outs.iter().all(|r| r.expected.rows().is_some()) => Some(false),
        _ => None,
    }
}

/// What a reduction left: the reproducer's parts, for the finding and its report.
#[derive(Clone, Debug)]
pub struct Reduction {
    pub statements: usize,
    /// The oracle's reduced query in words.
    pub query: Option<String>,
    /// Why it stopped short (see [`Finding::reduction_note`](super::options::Finding)).
    pub note: Option<String>,
    pub signature: Signature,
    /// The reduced setup statements with their answers.
    pub setup: Vec<Record>,
    /// The oracle's queries with the answers of the system under test.
    pub oracle_records: Vec<Record>,
    /// The oracle's complaint on the final replay.
    pub verdict: Option<String>,
    /// A differential finding: the statement and the two answers.
    pub diverging: Option<(String, String, String)>,
    /// `SELECT VERSION()` of the system under test.
    pub version: String,
    /// Which `optimizer_switch` flags clear an oracle failure (None: not probed).
    pub switches: Option<SwitchProbe>,
    /// A divergence that did not replay and was reduced as the plan-oracle failure behind
    /// it ([`super::plan_dependent`]): why.
    pub converted: Option<String>,
}

/// The tables `s` reads or writes, subqueries included.
fn tables_of(s: &Stmt) -> BTreeSet<String> {
    struct Tables(BTreeSet<String>);
    impl VisitMut for Tables {
        fn table(&mut self, t: &mut TableRef) {
            self.0.insert(t.table.clone());
        }
    }
    let mut v = Tables(BTreeSet::new());
    stmt_mut(&mut s.clone(), &mut v);
    v.0.extend(s.written_table().map(str::to_string));
    v.0
}

/// The tables an oracle failure's query reads and, transitively, the tables the writes to
/// them read; None for a differential failure.
fn wanted_tables(stmts: &[Stmt], failure: &Failure) -> Option<BTreeSet<String>> {
    let queries: Vec<Select> = match failure {
        Failure::Diff => return None,
        Failure::Tlp(c) => vec![c.original.clone()],
        Failure::Norec(c) => vec![c.optimized.clone()],
        Failure::Plan(c) => vec![c.query.clone()],
    };
    let mut wanted: BTreeSet<String> = queries
        .into_iter()
        .flat_map(|q| tables_of(&Stmt::Select(q)))
        .collect();
    loop {
        let before = wanted.len();
        for s in stmts {
            if s.written_table().is_some_and(|t| wanted.contains(t)) {
                wanted.extend(tables_of(s));
            }
        }
        if wanted.len() == before {
            break;
        }
    }
    Some(wanted)
}

/// The statements that can matter to an oracle failure: no reads, and only writes to the
/// tables its queries use (and the tables those writes read, transitively); transaction
/// control kept. None for a differential failure (any statement may be the divergence).
fn slice(stmts: &[Stmt], failure: &Failure) -> Option<Vec<Stmt>> {
    let wanted = wanted_tables(stmts, failure)?;
    Some(
        stmts
            .iter()
            .filter(|s| match s {
                Stmt::Select(_) => false,
                Stmt::Begin | Stmt::Commit | Stmt::Rollback => true,
                s => s.written_table().is_some_and(|t| wanted.contains(t)),
            })
            .cloned()
            .collect(),
    )
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
