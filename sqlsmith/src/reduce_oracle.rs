//! Shrinking the query of a TLP, NoREC or plan-oracle finding, the setup statements left as they are:
//! drop joins, the query's own WHERE, DISTINCT and select items, simplify expressions and
//! the partitioning predicate p, and keep a step only while the oracle still fails. The
//! closure does the expensive part (running the oracle's queries on the live server).

use crate::ast::{Expr, Literal, Select};
use crate::metamorphic::{norec, Combine, NorecCase, TlpCase};
use crate::plan::PlanCase;
use crate::reduce::{expr_candidates, select_candidates};
use crate::reduce_lit::{expr_literal_candidates, select_literal_candidates};

/// Whether the select list is one literal already: `SELECT 1` would not be smaller (and
/// with the literal phase turning 1 into 0, the two would take turns forever).
fn one_literal(q: &Select) -> bool {
    matches!(q.items.as_slice(), [Expr::Lit(_)])
}

/// Smaller TLP cases: the query simplified (its combination rule kept for an aggregate,
/// set / multiset following DISTINCT otherwise), then p simplified.
pub fn tlp_candidates(c: &TlpCase) -> Vec<TlpCase> {
    let rebuild = |q: Select, p: &Expr| {
        let combine = match c.combine {
            Combine::Aggregate(_) => c.combine,
            _ if q.distinct => Combine::Distinct,
            _ => Combine::Multiset,
        };
        TlpCase::build(q, p, combine, c.rule)
    };
    let mut out: Vec<TlpCase> = select_candidates(&c.original)
        .into_iter()
        .filter(|q| match c.combine {
            // The aggregate item stays as it is.
            Combine::Aggregate(_) => q.items == c.original.items,
            _ => !q.has_aggregate(),
        })
        .map(|q| rebuild(q, &c.predicate))
        .collect();
    let plain = !matches!(c.combine, Combine::Aggregate(_));
    let one = vec![Expr::Lit(Literal::Int(1))];
    if plain && !one_literal(&c.original) {
        // Row counts are what the multiset check compares; `SELECT 1` keeps them.
        let mut q = c.original.clone();
        q.items = one;
        q.distinct = false;
        out.push(rebuild(q, &c.predicate));
    }
    for (j, join) in c
        .original
        .from
        .iter()
        .flat_map(|f| f.joins.iter().enumerate())
    {
        for on in join.on.iter().flat_map(expr_candidates) {
            let mut q = c.original.clone();
            if let Some(f) = q.from.as_mut() {
                f.joins[j].on = Some(on);
            }
            out.push(rebuild(q, &c.predicate));
        }
    }
    for p in expr_candidates(&c.predicate) {
        out.push(rebuild(c.original.clone(), &p));
    }
    if matches!(c.predicate, Expr::Col { .. }) {
        // A column as p: NULL instead needs no data of that column.
        out.push(rebuild(c.original.clone(), &Expr::Lit(Literal::Null)));
    }
    // Then literals: the query's, then p's.
    for q in select_literal_candidates(&c.original) {
        out.push(rebuild(q, &c.predicate));
    }
    for p in expr_literal_candidates(&c.predicate) {
        out.push(rebuild(c.original.clone(), &p));
    }
    out
}

/// Smaller NoREC cases: joins dropped, p simplified.
pub fn norec_candidates(c: &NorecCase) -> Vec<NorecCase> {
    let (Some(from), Some(p)) = (&c.optimized.from, &c.optimized.filter) else {
        return vec![];
    };
    let mut out = Vec::new();
    if !from.joins.is_empty() {
        let mut f = from.clone();
        f.joins.clear();
        out.push(norec(&f, p));
    }
    for q in expr_candidates(p)
        .into_iter()
        .chain(expr_literal_candidates(p))
    {
        out.push(norec(from, &q));
    }
    out
}

/// Smaller plan-oracle cases: the query simplified (its joins' ON conditions too), the
/// change of plan kept.
pub fn plan_candidates(c: &PlanCase) -> Vec<PlanCase> {
    let with = |query: Select| PlanCase {
        query,
        change: c.change.clone(),
    };
    let mut out: Vec<PlanCase> = select_candidates(&c.query).into_iter().map(with).collect();
    let one = vec![Expr::Lit(Literal::Int(1))];
    if !one_literal(&c.query) && !c.query.has_aggregate() {
        let mut q = c.query.clone();
        q.items = one;
        out.push(with(q));
    }
    for (j, join) in c.query.from.iter().flat_map(|f| f.joins.iter().enumerate()) {
        for on in join.on.iter().flat_map(expr_candidates) {
            let mut q = c.query.clone();
            if let Some(f) = q.from.as_mut() {
                f.joins[j].on = Some(on);
            }
            out.push(with(q));
        }
    }
    out.extend(select_literal_candidates(&c.query).into_iter().map(with));
    out
}

/// Greedy reduction of `case` with at most `max_tests` calls of `fails` (never called on
/// the unchanged case, nor on a case it has already been at: candidates that undo each
/// other cannot make it cycle). Returns the smallest failing case found and the calls made.
pub fn reduce_case<C: Clone + std::fmt::Debug>(
    case: C,
    candidates: fn(&C) -> Vec<C>,
    max_tests: usize,
    fails: &mut dyn FnMut(&C) -> bool,
) -> (C, usize) {
    let key = |c: &C| {
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&format!("{c:?}"), &mut h);
        std::hash::Hasher::finish(&h)
    };
    let mut seen = std::collections::HashSet::from([key(&case)]);
    let mut cur = case;
    let mut used = 0;
    'again: while used < max_tests {
        for cand in candidates(&cur) {
            if used >= max_tests {
                break 'again;
            }
            if !seen.insert(key(&cand)) {
                continue;
            }
            used += 1;
            if fails(&cand) {
                cur = cand;
                continue 'again;
            }
        }
        break;
    }
    (cur, used)
}
