//! One finding per bug: the signature of a reduced finding, the shape of its failing query
//! and predicate with everything that varies between two sightings of the same bug dropped.
//!
//! Normalisation: every table is `t`; aliases are renamed `a0, a1, ...` in the order they
//! are defined and columns `c0, c1, ...` in the order they are met (so "the same column
//! twice" and "a correlated column of the outer query" stay visible, while which table or
//! column it was does not); every literal but NULL, TRUE and FALSE becomes `0` (its value and type are
//! dropped), LIKE patterns `'%'`, DATE_ADD intervals 0; MAX is written MIN (the same code
//! path of the optimizer: the known MariaDB 10.11 IN-subquery bug shows with both); the
//! operands of commutative operators are sorted; a TLP predicate loses its outermost
//! negation (`p` and `NOT p` give the same three partitions). Whether the setup needs an
//! index (a secondary or unique index, or a primary key: which kind is dropped) is added,
//! since the reducer drops indexes when they do not matter. The id is a stable 32-bit
//! FNV-1a hash of the shape, usable as a file name.
//!
//! The metamorphic oracles (TLP, its aggregate form, NoREC and the plan oracle) see one bug
//! through different queries: TLP as a partition that loses rows, NoREC as a filter that
//! counts wrong, the plan oracle as two plans that disagree. What they share is the rows
//! the query reads and the condition that selects among them, so their signature
//! ([`of_rows`], `wrong-result-1a2b3c4d`) is that alone: the FROM clause, the combined
//! condition (the query's WHERE and the partitioning predicate, outermost negation dropped),
//! any GROUP BY / HAVING, and the setup's needs. The select list, DISTINCT, ORDER BY,
//! LIMIT, index hints and the plan change are what an oracle wraps around it, and are
//! dropped. A differential finding ([`of_statement`]) keeps its oracle (`diff-1a2b3c4d`).

use crate::ast::{AggFunc, BinOp, Expr, Literal, Select, Stmt, TableRef, UnOp};
use crate::reduce::children_mut;
use crate::visit::{expr_mut, select_mut, stmt_mut, VisitMut};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A finding's signature: a file-name-safe id and the normalised shape it hashes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Signature {
    pub id: String,
    pub shape: String,
    /// A wrong result's condition on its own ([`condition_shape`]): what groups signatures
    /// into one bug when the same condition fails over different FROM clauses.
    pub condition: Option<String>,
}

#[derive(Default)]
struct Normalise {
    aliases: BTreeMap<String, String>,
    columns: BTreeMap<(Option<String>, String), String>,
}

impl VisitMut for Normalise {
    fn table(&mut self, t: &mut TableRef) {
        let n = self.aliases.len();
        let a = self
            .aliases
            .entry(t.alias.clone())
            .or_insert_with(|| format!("a{n}"));
        t.alias = a.clone();
        t.table = "t".into();
        t.hint = None;
    }
    fn column(&mut self, qual: &mut Option<String>, name: &mut String) {
        let key = (qual.clone(), name.clone());
        let n = self.columns.len();
        let c = self
            .columns
            .entry(key)
            .or_insert_with(|| format!("c{n}"))
            .clone();
        *qual = qual.as_ref().map(|q| {
            self.aliases
                .get(q)
                .cloned()
                .unwrap_or_else(|| "outer".into())
        });
        *name = c;
    }
    fn literal(&mut self, l: &mut Literal) {
        // NULL and TRUE / FALSE keep their meaning in a shape; any other value does not.
        if !matches!(l, Literal::Null | Literal::Bool(_)) {
            *l = Literal::Int(0);
        }
    }
    fn expr(&mut self, e: &mut Expr) {
        match e {
            Expr::Agg { func, .. } if *func == AggFunc::Max => *func = AggFunc::Min,
            Expr::Like { pattern, .. } => *pattern = "%".into(),
            Expr::DateAdd { days, .. } => *days = 0,
            _ => {}
        }
    }
}

fn commutative(op: BinOp) -> bool {
    use BinOp::*;
    matches!(op, Add | Mul | Eq | NullSafeEq | Ne | And | Or | Xor)
}

/// Sorts the operands of commutative operators, children first (not inside subqueries).
fn sort_operands(e: &mut Expr) {
    for c in children_mut(e) {
        sort_operands(c);
    }
    if let Expr::Binary { op, l, r } = e {
        if commutative(*op) && l.to_string() > r.to_string() {
            std::mem::swap(l, r);
        }
    }
}

fn sort_select(q: &mut Select) {
    for e in q
        .items
        .iter_mut()
        .chain(q.filter.iter_mut())
        .chain(q.having.iter_mut())
    {
        sort_operands(e);
    }
}

/// Whether the (reduced) setup keeps an index of any kind: a primary key, a unique or a
/// secondary index (the reducer drops those the failure does not need).
pub fn needs_index(setup: &[Stmt]) -> bool {
    setup.iter().any(|s| match s {
        Stmt::CreateTable(ct) => !ct.primary_key.is_empty() || !ct.indexes.is_empty(),
        Stmt::CreateIndex { .. } => true,
        _ => false,
    })
}

/// 32-bit FNV-1a: stable across builds and platforms (std's hasher is not).
pub fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn finish(oracle: &str, body: String, setup: &[Stmt]) -> Signature {
    // Which kind of key (primary, unique, secondary) is not part of the shape: one hunt saw
    // the same LIKE-through-an-index bug reduced once to a secondary index and once to a
    // primary key.
    let shape = if !needs_index(setup) {
        format!("{oracle}: {body}")
    } else {
        format!("{oracle}: {body} [needs index]")
    };
    Signature {
        id: format!("{oracle}-{:08x}", fnv1a(&shape)),
        shape,
        condition: None,
    }
}

/// A condition's shape on its own, normalised as in a signature: its own subqueries'
/// tables and columns renamed from `a0` / `c0`, every column of the query it filters read
/// as `outer` (which FROM clause the rows came from is what it leaves out).
pub fn condition_shape(condition: &Expr) -> String {
    let mut e = condition.clone();
    let mut v = Normalise::default();
    expr_mut(&mut e, &mut v);
    sort_operands(&mut e);
    e.to_string()
}

/// A partitioning predicate without its outermost negation: TLP splits rows by `p`,
/// `NOT p` and `p IS NULL`, so `p` and `NOT p` (`x IN (..)` and `x NOT IN (..)`, `EXISTS`
/// and `NOT EXISTS`, ...) are one partitioning and one bug.
fn without_negation(p: Expr) -> Expr {
    match p {
        Expr::Unary { op: UnOp::Not, e } => without_negation(*e),
        Expr::InSubquery { e, sub, .. } => Expr::InSubquery {
            e,
            sub,
            negated: false,
        },
        Expr::InList { e, list, .. } => Expr::InList {
            e,
            list,
            negated: false,
        },
        Expr::Exists { sub, .. } => Expr::Exists {
            sub,
            negated: false,
        },
        Expr::Like { e, pattern, .. } => Expr::Like {
            e,
            pattern,
            negated: false,
        },
        Expr::Between { e, lo, hi, .. } => Expr::Between {
            e,
            lo,
            hi,
            negated: false,
        },
        p => p,
    }
}

/// Replaces each subquery (scalar, IN, EXISTS) by `SELECT <its aggregate items, or 0> FROM
/// sub`, with `WHERE outer.c` when it reads a column of an enclosing query.
struct SummariseSubqueries;

impl VisitMut for SummariseSubqueries {
    fn expr(&mut self, e: &mut Expr) {
        if let Expr::Subquery(sub) | Expr::InSubquery { sub, .. } | Expr::Exists { sub, .. } = e {
            **sub = summary(sub);
        }
    }
}

/// Whether `e` holds an aggregate (outside subqueries).
fn aggregates(e: &Expr) -> bool {
    matches!(e, Expr::Agg { .. }) || e.children().into_iter().any(aggregates)
}

/// What a subquery computes, for [`SummariseSubqueries`].
fn summary(sub: &Select) -> Select {
    #[derive(Default)]
    struct Scan {
        defined: BTreeSet<String>,
        read: BTreeSet<String>,
    }
    impl VisitMut for Scan {
        fn table(&mut self, t: &mut TableRef) {
            self.defined.insert(t.alias.clone());
        }
        fn column(&mut self, qual: &mut Option<String>, _name: &mut String) {
            self.read.extend(qual.clone());
        }
    }
    let mut scan = Scan::default();
    select_mut(&mut sub.clone(), &mut scan);
    let correlated = scan.read.iter().any(|q| !scan.defined.contains(q));
    let mut out = Select::over(crate::ast::From {
        first: TableRef::named("t", "sub"),
        joins: vec![],
    });
    out.items = sub
        .items
        .iter()
        .filter(|i| aggregates(i))
        .cloned()
        .collect();
    // The subquery's own columns now read `sub`; outer ones keep their alias.
    struct Own<'a>(&'a BTreeSet<String>);
    impl VisitMut for Own<'_> {
        fn column(&mut self, qual: &mut Option<String>, _name: &mut String) {
            if qual.as_ref().is_some_and(|q| self.0.contains(q)) {
                *qual = Some("sub".into());
            }
        }
    }
    for item in &mut out.items {
        expr_mut(item, &mut Own(&scan.defined));
    }
    if out.items.is_empty() {
        out.items.push(Expr::Lit(Literal::Int(0)));
    }
    if correlated {
        out.filter = Some(Expr::col("outer", "c"));
    }
    out
}

/// The signature of a wrong result whichever metamorphic oracle saw it: what `query` reads
/// and the condition that selects among its rows (its WHERE and `predicate`, the partitioning
/// predicate of TLP, ANDed; outermost negation dropped), GROUP BY / HAVING, and what the
/// (reduced) setup needs. See the module doc for what is dropped and why.
pub fn of_rows(query: &Select, predicate: Option<&Expr>, setup: &[Stmt]) -> Signature {
    let mut q = query.clone();
    let condition = match (q.filter.take(), predicate) {
        (Some(w), Some(p)) => Some(Expr::Binary {
            op: BinOp::And,
            l: Box::new(w),
            r: Box::new(without_negation(p.clone())),
        }),
        (None, Some(p)) => Some(without_negation(p.clone())),
        (w, None) => w.map(without_negation),
    };
    q.filter = condition;
    // Inside the condition, a subquery is reduced to what it computes: its aggregates and
    // whether it reads the outer row (the reducer leaves the same bug with the outer column
    // in the subquery's select list in one sighting and in its WHERE in another).
    for e in q.filter.iter_mut().chain(q.having.iter_mut()) {
        expr_mut(e, &mut SummariseSubqueries);
    }
    // The select list goes, but a placeholder keeps the printed query well-formed.
    q.items = vec![Expr::Lit(Literal::Int(0))];
    q.aliases.clear();
    q.distinct = false;
    q.order_by.clear();
    q.limit = None;
    q.for_update = false;
    let condition = q.filter.as_ref().map(condition_shape);
    let mut v = Normalise::default();
    select_mut(&mut q, &mut v);
    sort_select(&mut q);
    Signature {
        condition,
        ..finish("wrong-result", q.to_string(), setup)
    }
}

/// The signature of a differential finding: the statement the two servers answer
/// differently, normalised the same way (its table `t`, its columns renamed).
pub fn of_statement(oracle: &str, stmt: &Stmt, setup: &[Stmt]) -> Signature {
    let mut v = Normalise::default();
    let mut s = stmt.clone();
    stmt_mut(&mut s, &mut v);
    let mut rename = |c: &mut String| {
        let n = v.columns.len();
        *c = v
            .columns
            .entry((None, c.clone()))
            .or_insert_with(|| format!("c{n}"))
            .clone();
    };
    match &mut s {
        Stmt::Insert { table, columns, .. } => {
            *table = "t".into();
            columns.iter_mut().for_each(&mut rename);
        }
        Stmt::Update { table, sets, .. } => {
            *table = "t".into();
            sets.iter_mut().for_each(|(c, _)| rename(c));
        }
        Stmt::Delete { table, .. } => *table = "t".into(),
        Stmt::CreateTable(ct) => {
            ct.name = "t".into();
            ct.columns.iter_mut().for_each(|c| rename(&mut c.name));
            ct.primary_key.iter_mut().for_each(&mut rename);
            for i in &mut ct.indexes {
                i.name = "i".into();
                i.columns.iter_mut().for_each(|(c, _)| rename(c));
            }
        }
        Stmt::CreateIndex { table, index } => {
            *table = "t".into();
            index.name = "i".into();
            index.columns.iter_mut().for_each(|(c, _)| rename(c));
        }
        Stmt::AddColumn { table, column } => {
            *table = "t".into();
            rename(&mut column.name);
        }
        Stmt::DropColumn { table, column } => {
            *table = "t".into();
            rename(column);
        }
        Stmt::Select(q) => sort_select(q),
        _ => {}
    }
    finish(oracle, s.to_string(), setup)
}
