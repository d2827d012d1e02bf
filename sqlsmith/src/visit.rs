//! A mutable walk over every node of a query or statement, subqueries included: the
//! signature's normalisation and the reducer's literal pass use it.

use crate::ast::{Expr, From, Literal, Select, Stmt, TableRef};

/// What a walk does at each kind of node; every method defaults to nothing.
pub trait VisitMut {
    fn table(&mut self, _t: &mut TableRef) {}
    fn column(&mut self, _qual: &mut Option<String>, _name: &mut String) {}
    fn literal(&mut self, _l: &mut Literal) {}
    /// Every expression node, before its children.
    fn expr(&mut self, _e: &mut Expr) {}
}

/// Walks `q`: its FROM clause first (so aliases are met before their uses), then items,
/// ON conditions, WHERE, GROUP BY, HAVING.
pub fn select_mut(q: &mut Select, v: &mut dyn VisitMut) {
    for t in q.from.iter_mut().flat_map(From::tables_mut) {
        table_mut(t, v);
    }
    for e in &mut q.items {
        expr_mut(e, v);
    }
    if let Some(f) = q.from.as_mut() {
        for j in &mut f.joins {
            if let Some(on) = j.on.as_mut() {
                expr_mut(on, v);
            }
        }
    }
    for e in q.filter.iter_mut().chain(q.group_by.iter_mut()) {
        expr_mut(e, v);
    }
    if let Some(h) = q.having.as_mut() {
        expr_mut(h, v);
    }
}

/// A table reference, then the SELECTs of its derived table or CTE.
fn table_mut(t: &mut TableRef, v: &mut dyn VisitMut) {
    v.table(t);
    if let Some(d) = t.derived.as_mut() {
        for s in d.selects_mut() {
            select_mut(s, v);
        }
    }
}

/// Walks `e` and everything under it, subqueries included.
pub fn expr_mut(e: &mut Expr, v: &mut dyn VisitMut) {
    v.expr(e);
    match e {
        Expr::Lit(l) => v.literal(l),
        Expr::Col { qual, name } => v.column(qual, name),
        Expr::Unary { e, .. } | Expr::IsNull { e, .. } | Expr::IsTrue(e) | Expr::Like { e, .. } => {
            expr_mut(e, v)
        }
        Expr::DateAdd { e, .. } | Expr::Cast { e, .. } | Expr::Collate { e, .. } => expr_mut(e, v),
        Expr::InSubquery { e, sub, .. } => {
            expr_mut(e, v);
            select_mut(sub, v);
        }
        Expr::Exists { sub, .. } | Expr::Subquery(sub) => select_mut(sub, v),
        Expr::Binary { l, r, .. } => {
            expr_mut(l, v);
            expr_mut(r, v);
        }
        Expr::Between { e, lo, hi, .. } => {
            for x in [e, lo, hi] {
                expr_mut(x, v);
            }
        }
        Expr::InList { e, list, .. } => {
            expr_mut(e, v);
            for x in list {
                expr_mut(x, v);
            }
        }
        Expr::Func { args, .. } => {
            for x in args {
                expr_mut(x, v);
            }
        }
        Expr::Agg { arg, .. } => {
            if let Some(a) = arg {
                expr_mut(a, v);
            }
        }
        Expr::Window {
            arg,
            partition_by,
            order_by,
            ..
        } => {
            if let Some(a) = arg {
                expr_mut(a, v);
            }
            for x in partition_by.iter_mut().chain(order_by.iter_mut()) {
                expr_mut(x, v);
            }
        }
        Expr::Case { whens, otherwise } => {
            for (w, t) in whens {
                expr_mut(w, v);
                expr_mut(t, v);
            }
            if let Some(o) = otherwise {
                expr_mut(o, v);
            }
        }
    }
}

/// Walks the expressions of a statement (literals of INSERT rows, SET values, filters,
/// column DEFAULTs).
pub fn stmt_mut(s: &mut Stmt, v: &mut dyn VisitMut) {
    match s {
        Stmt::Select(q) => select_mut(q, v),
        Stmt::CreateView { query, .. } => {
            for s in query.selects_mut() {
                select_mut(s, v);
            }
        }
        Stmt::Insert { rows, .. } => {
            for e in rows.iter_mut().flatten() {
                expr_mut(e, v);
            }
        }
        Stmt::Update { sets, filter, .. } => {
            for (_, e) in sets {
                expr_mut(e, v);
            }
            if let Some(f) = filter {
                expr_mut(f, v);
            }
        }
        Stmt::Delete {
            filter: Some(f), ..
        } => expr_mut(f, v),
        Stmt::AddColumn { column, .. } => {
            if let Some(l) = column.default.as_mut() {
                v.literal(l);
            }
            if let Some(g) = column.generated.as_mut() {
                expr_mut(&mut g.expr, v);
            }
        }
        Stmt::CreateTable(ct) => {
            for g in ct.columns.iter_mut().filter_map(|c| c.generated.as_mut()) {
                expr_mut(&mut g.expr, v);
            }
        }
        _ => {}
    }
}

/// How many literals `s` holds (the literal pass tries each position).
pub fn count_literals(s: &Stmt) -> usize {
    struct Count(usize);
    impl VisitMut for Count {
        fn literal(&mut self, _l: &mut Literal) {
            self.0 += 1;
        }
    }
    let mut c = Count(0);
    stmt_mut(&mut s.clone(), &mut c);
    c.0
}

/// `s` with its `k`-th literal (in walk order) replaced by `f(literal)`; None when `f`
/// declines (returns None) or there is no such literal.
pub fn replace_literal(
    s: &Stmt,
    k: usize,
    f: &dyn Fn(&Literal) -> Option<Literal>,
) -> Option<Stmt> {
    struct At<'a> {
        k: usize,
        seen: usize,
        f: &'a dyn Fn(&Literal) -> Option<Literal>,
        done: bool,
    }
    impl VisitMut for At<'_> {
        fn literal(&mut self, l: &mut Literal) {
            if self.seen == self.k {
                if let Some(n) = (self.f)(l) {
                    *l = n;
                    self.done = true;
                }
            }
            self.seen += 1;
        }
    }
    let mut out = s.clone();
    let mut at = At {
        k,
        seen: 0,
        f,
        done: false,
    };
    stmt_mut(&mut out, &mut at);
    at.done.then_some(out)
}
