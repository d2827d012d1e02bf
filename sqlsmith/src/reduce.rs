//! The reducer: shrinks a failing statement list while a "still fails?" closure says yes.
//!
//! Phases, repeated until a round changes nothing (a fixpoint) or the budget is gone:
//! delta debugging (ddmin) over whole statements; simplification inside the statements
//! that are left (drop WHERE / HAVING / ORDER BY / LIMIT / DISTINCT / joins / select items /
//! INSERT rows / indexes, inside views too, replace any expression node by one of its children or by NULL);
//! then literals and types ([`crate::reduce_lit`]: a literal by the simplest of its kind, a
//! column type by a simpler one). The closure does the expensive part (replaying on
//! servers), so every call counts against a budget of calls and of time; the reducer never
//! calls it on the unchanged input, and a call refused for lack of time is not counted.
//! [`Reduced::stop`] says why it stopped, so a finding that stays long can say why.

use crate::ast::{Derived, Expr, Literal, Select, Stmt};
use crate::reduce_lit::stmt_literal_candidates;
use serde::Serialize;
use std::time::Instant;

/// Why a reduction stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// No candidate of any phase fails any more: as small as this reducer gets it.
    Fixpoint,
    /// The replays allowed (`--reduce-tests`) were used up.
    Tests,
    /// The time allowed (`--reduce-timeout`) ran out.
    Time,
}

/// The result of a reduction.
#[derive(Clone, Debug)]
pub struct Reduced {
    pub stmts: Vec<Stmt>,
    /// How many times the closure ran.
    pub tests: usize,
    pub stop: Stop,
}

/// The calls of the closure a reduction may still make.
pub struct Budget<'a> {
    fails: &'a mut dyn FnMut(&[Stmt]) -> bool,
    left: usize,
    pub used: usize,
    deadline: Option<Instant>,
    out_of_time: bool,
}

impl<'a> Budget<'a> {
    pub fn new(
        fails: &'a mut dyn FnMut(&[Stmt]) -> bool,
        max_tests: usize,
        deadline: Option<Instant>,
    ) -> Self {
        Budget {
            fails,
            left: max_tests,
            used: 0,
            deadline,
            out_of_time: false,
        }
    }

    fn exhausted(&mut self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.out_of_time = true;
        }
        self.left == 0 || self.out_of_time
    }

    fn test(&mut self, stmts: &[Stmt]) -> bool {
        if self.exhausted() {
            return false;
        }
        self.left -= 1;
        self.used += 1;
        (self.fails)(stmts)
    }

    /// Why the budget ended the reduction, or Fixpoint when it did not.
    pub fn stop(&mut self) -> Stop {
        self.exhausted();
        if self.out_of_time {
            Stop::Time
        } else if self.left == 0 {
            Stop::Tests
        } else {
            Stop::Fixpoint
        }
    }
}

/// Reduces `stmts` (which fail) with at most `max_tests` calls of `fails`, no time limit.
pub fn reduce(
    stmts: Vec<Stmt>,
    max_tests: usize,
    fails: &mut dyn FnMut(&[Stmt]) -> bool,
) -> Reduced {
    reduce_within(stmts, max_tests, None, fails)
}

/// Reduces `stmts` to a fixpoint of all phases, within `max_tests` calls and `deadline`.
pub fn reduce_within(
    stmts: Vec<Stmt>,
    max_tests: usize,
    deadline: Option<Instant>,
    fails: &mut dyn FnMut(&[Stmt]) -> bool,
) -> Reduced {
    let mut b = Budget::new(fails, max_tests, deadline);
    let mut cur = stmts;
    loop {
        let before = cur.clone();
        cur = ddmin(cur, &mut b);
        cur = simplify(cur, &mut b, stmt_candidates);
        cur = simplify(cur, &mut b, stmt_literal_candidates);
        if cur == before || b.exhausted() {
            break;
        }
    }
    Reduced {
        stmts: cur,
        tests: b.used,
        stop: b.stop(),
    }
}

/// Zeller's ddmin over the statement list (complements first, then halves).
fn ddmin(mut cur: Vec<Stmt>, b: &mut Budget) -> Vec<Stmt> {
    let mut n = 2usize;
    while cur.len() >= 2 && !b.exhausted() {
        let chunk = cur.len().div_ceil(n);
        let mut reduced = None;
        for i in 0..n {
            let (lo, hi) = (i * chunk, ((i + 1) * chunk).min(cur.len()));
            if lo >= hi {
                continue;
            }
            let complement: Vec<Stmt> = cur[..lo].iter().chain(&cur[hi..]).cloned().collect();
            if !complement.is_empty() && b.test(&complement) {
                reduced = Some(complement);
                break;
            }
        }
        if let Some(smaller) = reduced {
            cur = smaller;
            n = (n - 1).max(2);
        } else {
            if n >= cur.len() {
                break;
            }
            n = (n * 2).min(cur.len());
        }
    }
    cur
}

/// Statement-local simplification with `candidates` until nothing more helps (or the
/// budget is gone).
fn simplify(mut cur: Vec<Stmt>, b: &mut Budget, candidates: fn(&Stmt) -> Vec<Stmt>) -> Vec<Stmt> {
    let mut changed = true;
    while changed && !b.exhausted() {
        changed = false;
        for i in 0..cur.len() {
            'again: loop {
                for cand in candidates(&cur[i]) {
                    let mut next = cur.clone();
                    next[i] = cand;
                    if b.test(&next) {
                        cur = next;
                        changed = true;
                        continue 'again;
                    }
                    if b.exhausted() {
                        return cur;
                    }
                }
                break;
            }
        }
    }
    cur
}

/// Smaller variants of a statement, most aggressive first.
pub fn stmt_candidates(s: &Stmt) -> Vec<Stmt> {
    let mut out = Vec::new();
    match s {
        Stmt::Select(q) => out.extend(select_candidates(q).into_iter().map(Stmt::Select)),
        Stmt::Insert {
            table,
            columns,
            rows,
        } => {
            for i in 0..rows.len() {
                if rows.len() > 1 {
                    let mut r = rows.clone();
                    r.remove(i);
                    out.push(Stmt::Insert {
                        table: table.clone(),
                        columns: columns.clone(),
                        rows: r,
                    });
                }
            }
            for j in 0..columns.len() {
                if columns.len() > 1 {
                    let mut c = columns.clone();
                    c.remove(j);
                    let r = rows
                        .iter()
                        .map(|r| {
                            r.iter()
                                .enumerate()
                                .filter(|(k, _)| *k != j)
                                .map(|(_, e)| e.clone())
                                .collect()
                        })
                        .collect();
                    out.push(Stmt::Insert {
                        table: table.clone(),
                        columns: c,
                        rows: r,
                    });
                }
            }
        }
        Stmt::Update {
            table,
            sets,
            filter,
        } => {
            if filter.is_some() {
                out.push(Stmt::Update {
                    table: table.clone(),
                    sets: sets.clone(),
                    filter: None,
                });
            }
            for i in 0..sets.len() {
                if sets.len() > 1 {
                    let mut s2 = sets.clone();
                    s2.remove(i);
                    out.push(Stmt::Update {
                        table: table.clone(),
                        sets: s2,
                        filter: filter.clone(),
                    });
                }
            }
            for f in filter.iter().flat_map(expr_candidates) {
                out.push(Stmt::Update {
                    table: table.clone(),
                    sets: sets.clone(),
                    filter: Some(f),
                });
            }
        }
        Stmt::Delete { table, filter } => {
            if filter.is_some() {
                out.push(Stmt::Delete {
                    table: table.clone(),
                    filter: None,
                });
            }
            for f in filter.iter().flat_map(expr_candidates) {
                out.push(Stmt::Delete {
                    table: table.clone(),
                    filter: Some(f),
                });
            }
        }
        Stmt::CreateTable(ct) => {
            for i in 0..ct.indexes.len() {
                let mut c = ct.clone();
                c.indexes.remove(i);
                out.push(Stmt::CreateTable(c));
            }
            if !ct.primary_key.is_empty() {
                let mut c = ct.clone();
                c.primary_key.clear();
                out.push(Stmt::CreateTable(c));
            }
            // A column nothing in the table needs (no key, index or generated column
            // reads it); the replay shows whether another statement does.
            let generated_reads = crate::ast::read_by_generated(&ct.columns);
            for (i, col) in ct.columns.iter().enumerate() {
                let needed = ct.primary_key.contains(&col.name)
                    || ct
                        .indexes
                        .iter()
                        .any(|x| x.columns.iter().any(|(c, _)| *c == col.name))
                    || generated_reads.contains(&col.name);
                if ct.columns.len() > 1 && !needed {
                    let mut c = ct.clone();
                    c.columns.remove(i);
                    out.push(Stmt::CreateTable(c));
                }
            }
        }
        Stmt::CreateView { name, query } => {
            // The view's columns stay (later statements read them by name): its set
            // operation dropped, and each smaller variant of its SELECT that keeps the
            // select list's length (an item replaced by a child or NULL, WHERE or a join
            // dropped, a window function replaced by its argument).
            let view = |d: Derived| Stmt::CreateView {
                name: name.clone(),
                query: Box::new(d),
            };
            if !query.set_ops.is_empty() {
                let mut d = (**query).clone();
                d.set_ops.clear();
                out.push(view(d));
            }
            for body in select_candidates(&query.body) {
                if body.items.len() == query.body.items.len() {
                    out.push(view(Derived {
                        body,
                        ..(**query).clone()
                    }));
                }
            }
        }
        _ => {}
    }
    out
}

/// The `i`-th table reference of `q`'s FROM clause (0: the first).
fn table_at(q: &mut Select, i: usize) -> Option<&mut crate::ast::TableRef> {
    q.from.as_mut()?.table_mut(i)
}

/// Smaller variants of a query (clauses, joins, items dropped; expressions simplified).
pub(crate) fn select_candidates(q: &Select) -> Vec<Select> {
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut Select)| {
        let mut c = q.clone();
        f(&mut c);
        if &c != q {
            out.push(c);
        }
    };
    push(&|c| c.filter = None);
    push(&|c| c.having = None);
    push(&|c| {
        c.order_by.clear();
        c.limit = None;
    });
    push(&|c| c.limit = None);
    push(&|c| c.distinct = false);
    push(&|c| c.for_update = false);
    push(&|c| {
        if let Some(f) = c.from.as_mut() {
            f.joins.clear();
        }
    });
    // One joined table alone (the first one, or a derived table, may be what is not
    // needed).
    let joins = q.from.as_ref().map_or(0, |f| f.joins.len());
    for i in 0..joins {
        push(&move |c| {
            if let Some(f) = c.from.as_mut() {
                f.first = f.joins.remove(i).table;
                f.joins.clear();
            }
        });
    }
    // A derived table or CTE: without its set operation, or replaced by the first table
    // it reads (under its own alias).
    let refs = q.from.as_ref().map_or(0, |f| 1 + f.joins.len());
    for i in 0..refs {
        push(&move |c| {
            if let Some(d) = table_at(c, i).and_then(|t| t.derived.as_mut()) {
                d.set_ops.clear();
            }
        });
        push(&move |c| {
            if let Some(t) = table_at(c, i) {
                let inner = t.derived.as_ref().and_then(|d| d.body.from.as_ref());
                if let Some(first) = inner.map(|f| f.first.clone()) {
                    let alias = std::mem::take(&mut t.alias);
                    *t = first;
                    t.alias = alias;
                }
            }
        });
    }
    // Index hints off (a hint naming an index keeps that index in the setup).
    push(&|c| {
        for t in c.from.iter_mut().flat_map(|f| f.tables_mut()) {
            t.hint = None;
        }
    });
    // Inside a derived table or CTE: each smaller variant of its SELECT (a window function
    // or aggregate replaced by its argument, its joins or WHERE dropped, ...), so that a
    // bug seen through a derived table reduces towards the shape it has over a plain one.
    for i in 0..refs {
        let Some(d) = q
            .from
            .as_ref()
            .and_then(|f| f.tables().nth(i)?.derived.as_ref())
        else {
            continue;
        };
        for smaller in select_candidates(&d.body) {
            let mut c = q.clone();
            if let Some(d) = table_at(&mut c, i).and_then(|t| t.derived.as_mut()) {
                d.body = smaller;
            }
            out.push(c);
        }
    }
    for i in 0..q.items.len() {
        if q.items.len() > 1 {
            let mut c = q.clone();
            c.items.remove(i);
            c.order_by.retain(|(p, _)| *p <= c.items.len());
            c.order_by
                .iter_mut()
                .for_each(|(p, _)| *p = (*p).min(c.items.len()));
            c.order_by.dedup();
            out.push(c);
        }
    }
    if let Some(f) = &q.filter {
        for e in expr_candidates(f) {
            out.push(Select {
                filter: Some(e),
                ..q.clone()
            });
        }
    }
    for (i, item) in q.items.iter().enumerate() {
        for e in expr_candidates(item) {
            let mut c = q.clone();
            c.items[i] = e;
            out.push(c);
        }
    }
    out
}

/// Mutable access to the direct children, in the order of [`Expr::children`].
pub(crate) fn children_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match e {
        Expr::Lit(_) | Expr::Col { .. } | Expr::Exists { .. } | Expr::Subquery(_) => vec![],
        Expr::Unary { e, .. } | Expr::IsNull { e, .. } | Expr::IsTrue(e) | Expr::Like { e, .. } => {
            vec![&mut **e]
        }
        Expr::InSubquery { e, .. } | Expr::DateAdd { e, .. } => vec![&mut **e],
        Expr::Cast { e, .. } | Expr::Collate { e, .. } => vec![&mut **e],
        Expr::Binary { l, r, .. } => vec![&mut **l, &mut **r],
        Expr::Between { e, lo, hi, .. } => vec![&mut **e, &mut **lo, &mut **hi],
        Expr::InList { e, list, .. } => std::iter::once(&mut **e).chain(list.iter_mut()).collect(),
        Expr::Func { args, .. } => args.iter_mut().collect(),
        Expr::Agg { arg, .. } => arg.iter_mut().map(|a| &mut **a).collect(),
        Expr::Window {
            arg,
            partition_by,
            order_by,
            ..
        } => arg
            .iter_mut()
            .map(|a| &mut **a)
            .chain(partition_by.iter_mut())
            .chain(order_by.iter_mut())
            .collect(),
        Expr::Case { whens, otherwise } => whens
            .iter_mut()
            .flat_map(|(w, t)| [w, t])
            .chain(otherwise.iter_mut().map(|o| &mut **o))
            .collect(),
    }
}

/// Each variant replaces one node of `e` by one of its children or by NULL.
pub fn expr_candidates(e: &Expr) -> Vec<Expr> {
    let mut out: Vec<Expr> = Vec::new();
    if !matches!(e, Expr::Agg { .. }) {
        out.extend(e.children().into_iter().cloned());
    }
    if !matches!(e, Expr::Lit(_) | Expr::Col { .. } | Expr::Agg { .. }) {
        out.push(Expr::Lit(Literal::Null));
    }
    let n = e.children().len();
    for i in 0..n {
        let child = e.children()[i].clone();
        for c in expr_candidates(&child) {
            let mut copy = e.clone();
            *children_mut(&mut copy)[i] = c;
            out.push(copy);
        }
    }
    // Inside a subquery: each smaller variant of its SELECT (its WHERE dropped or
    // simplified, its joins dropped, ...), so that two sightings of one bug through
    // subqueries that differ in what does not matter reduce to one shape.
    let sub = match e {
        Expr::InSubquery { sub, .. } | Expr::Exists { sub, .. } | Expr::Subquery(sub) => Some(sub),
        _ => None,
    };
    for smaller in sub.iter().flat_map(|s| select_candidates(s)) {
        let mut copy = e.clone();
        if let Expr::InSubquery { sub, .. } | Expr::Exists { sub, .. } | Expr::Subquery(sub) =
            &mut copy
        {
            **sub = smaller;
        }
        out.push(copy);
    }
    out
}
