//! Findings of the metamorphic oracles and their reduction: one TLP, NoREC and / or
//! plan-oracle check on the system under test ([`metamorphic`]), and reducing any finding into a reproducer
//! file ([`reduce_finding`]).

use super::exec::SqlDb;
use super::options::{Finding, LoopOptions, Stats};
use super::replay::{Failure, Reduction, Replayer};
use faultline_sqlsmith::ast::{AggFunc, BinOp};
use faultline_sqlsmith::gen::Scope;
use faultline_sqlsmith::metamorphic::{
    aggregate_partitions, norec, norec_check, tlp, tlp_aggregate, tlp_check, Combine, Partitioning,
    TlpCase,
};
use faultline_sqlsmith::plan::{plan_changes, plan_check, PlanCase, PlanChange};
use faultline_sqlsmith::Schema;
use faultline_sqlsmith::{ChaCha8Rng, Expr, Select, Smith, Stmt};
use rand::seq::IndexedRandom;
use rand::Rng;

/// Reduces finding `f` (the statements `stmts` ran before it), writes its reproducer to
/// `<repro_dir>/repro-<oracle>-<n>.slt` and fills in its reduction and signature; returns
/// what the reduction left, for the per-signature report.
pub(super) async fn reduce_finding(
    rp: &mut Replayer,
    f: &mut Finding,
    stmts: Vec<Stmt>,
    failure: Failure,
    opts: &LoopOptions,
) -> Option<Reduction> {
    let n = std::fs::read_dir(&opts.repro_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    let path = opts.repro_dir.join(format!("repro-{}-{}.slt", f.oracle, n));
    let mut header = vec![
        "faultline sqlsmith reproducer".to_string(),
        format!("seed: {}", opts.seed),
        format!(
            "oracle: {}; statement {} of the run: {}",
            f.oracle, f.index, f.sql
        ),
        format!("finding: {}", f.what),
    ];
    // The two answers, for a divergence (an oracle's finding has them in `what`).
    if !f.sut.is_empty() || !f.reference.is_empty() {
        header.push(format!("system under test: {}", f.sut));
        header.push(format!("reference:         {}", f.reference));
    }
    match rp
        .reduce_and_write(
            &f.oracle,
            stmts,
            &failure,
            opts.reduce_tests,
            opts.reduce_timeout,
            header,
            &path,
        )
        .await
    {
        Ok(r) => {
            if let Some(why) = &r.converted {
                // Reduced as the plan-oracle finding it turned out to be.
                f.what = format!("{}; {why}", f.what);
                f.oracle = "plan".into();
            }
            f.reproducer = Some(path);
            f.reduced_statements = Some(r.statements);
            f.reduced_query = r.query.clone();
            f.signature = Some(r.signature.id.clone());
            f.shape = Some(r.signature.shape.clone());
            f.reduction_note = r.note.clone();
            Some(r)
        }
        Err(e) => {
            tracing::warn!("writing the reproducer: {e:#}");
            None
        }
    }
}

/// A TLP case in words: the query and its partitioning predicate.
pub(super) fn tlp_text(c: &TlpCase) -> String {
    format!("{} -- partitioned by p = {}", c.original, c.predicate)
}

/// The finding of a metamorphic oracle failure after statement `i`.
pub(super) fn oracle_finding(i: usize, failure: &Failure, what: String) -> Finding {
    let (oracle, sql) = match failure {
        Failure::Tlp(c) if matches!(c.combine, Combine::Aggregate(_)) => ("tlp-agg", tlp_text(c)),
        Failure::Tlp(c) => ("tlp", tlp_text(c)),
        Failure::Norec(c) => ("norec", c.optimized.to_string()),
        Failure::Plan(c) => ("plan", c.describe()),
        Failure::Diff => ("diff", String::new()),
    };
    Finding {
        oracle: oracle.into(),
        index: i,
        sql,
        what,
        sut: String::new(),
        reference: String::new(),
        reproducer: None,
        reduced_statements: None,
        reduced_query: None,
        ..Default::default()
    }
}

/// Runs a TLP case's four queries; None when one of them errs (not checked).
async fn run_tlp(sut: &mut SqlDb, case: &TlpCase) -> Option<Result<(), String>> {
    let mut outs = Vec::new();
    for q in std::iter::once(&case.original).chain(case.partitions.iter()) {
        outs.push(sut.run(&q.to_string()).await);
    }
    let r: Vec<_> = outs.iter().map(|o| o.rows()).collect::<Option<_>>()?;
    Some(tlp_check(case, r[0], [r[1], r[2], r[3]]))
}

/// An aggregate TLP case over `query`'s FROM and WHERE, with an aggregate and column for
/// which the identity is exact ([`aggregate_partitions`]); None when the scope has no such
/// column. Draws from its own `rng`, so the statement stream does not change.
fn aggregate_case(
    rng: &mut ChaCha8Rng,
    query: &Select,
    scope: &Scope,
    p: &Expr,
    rule: Partitioning,
) -> Option<TlpCase> {
    let from = query.from.as_ref()?;
    let funcs = [
        AggFunc::Count,
        AggFunc::Count,
        AggFunc::Sum,
        AggFunc::Min,
        AggFunc::Max,
    ];
    let func = *funcs.choose(rng)?;
    let arg = if func == AggFunc::Count && rng.random_bool(0.3) {
        None
    } else {
        let cols: Vec<_> = scope
            .iter()
            .filter(|c| aggregate_partitions(func, Some(c.ty)))
            .collect();
        Some(cols.choose(rng)?.expr())
    };
    let case = tlp_aggregate(from, &query.filter, func, arg, p);
    Some(case.with_rule(rule))
}

/// One plan-oracle check of `query` filtered by `p` too, under a plan change drawn from
/// `rng`; Some on a failure.
async fn plan_oracle(
    sut: &mut SqlDb,
    schema: &Schema,
    query: &Select,
    p: &Expr,
    rng: &mut ChaCha8Rng,
    planted: Option<&PlanChange>,
    st: &mut Stats,
) -> Option<(Failure, String)> {
    let mut query = query.clone();
    query.filter = Some(match query.filter.take() {
        Some(f) => Expr::Binary {
            op: BinOp::And,
            l: Box::new(f),
            r: Box::new(p.clone()),
        },
        None => p.clone(),
    });
    let drawn = plan_changes(&query, schema)?.choose(rng)?.clone();
    let change = planted.cloned().unwrap_or(drawn);
    let case = PlanCase { query, change };
    let a = sut.run(&case.query.to_string()).await;
    let b = sut.run(&case.altered_sql()).await;
    match (a.rows(), b.rows()) {
        (Some(x), Some(y)) => {
            st.plan_checks += 1;
            *st.plan_changes.entry(case.change.kind()).or_default() += 1;
            if let Err(e) = plan_check(x, y) {
                return Some((Failure::Plan(Box::new(case)), e));
            }
        }
        _ => st.oracle_skipped += 1,
    }
    None
}

/// One TLP (plain and aggregate), NoREC and / or plan-oracle check on the current
/// database; Some on a failure.
pub(super) async fn metamorphic(
    sut: &mut SqlDb,
    smith: &mut Smith,
    agg_rng: &mut ChaCha8Rng,
    plan_rng: &mut ChaCha8Rng,
    opts: &LoopOptions,
    st: &mut Stats,
) -> Option<(Failure, String)> {
    let (query, scope) = smith.oracle_query()?;
    let p = smith.predicate(&scope);
    if opts.oracles.tlp {
        if let Some(case) = tlp(&query, &p) {
            let case = case.with_rule(opts.tlp_rule);
            match run_tlp(sut, &case).await {
                Some(Err(e)) => return Some((Failure::Tlp(Box::new(case)), e)),
                Some(Ok(())) => st.tlp_checks += 1,
                None => st.oracle_skipped += 1,
            }
        }
        if let Some(case) = aggregate_case(agg_rng, &query, &scope, &p, opts.tlp_rule) {
            match run_tlp(sut, &case).await {
                Some(Err(e)) => return Some((Failure::Tlp(Box::new(case)), e)),
                Some(Ok(())) => st.tlp_agg_checks += 1,
                None => st.oracle_skipped += 1,
            }
        }
    }
    if opts.oracles.plan {
        if let Some(f) = plan_oracle(
            sut,
            smith.schema(),
            &query,
            &p,
            plan_rng,
            opts.plan_change.as_ref(),
            st,
        )
        .await
        {
            return Some(f);
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
