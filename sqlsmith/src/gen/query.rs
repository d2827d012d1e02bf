//! SELECT generation: joins, aggregates with GROUP BY and HAVING, DISTINCT, ORDER BY, LIMIT,
//! FOR UPDATE; and the DML statements (INSERT, UPDATE, DELETE).
//!
//! Results must be deterministic on a correct server: aggregate queries select only GROUP BY
//! expressions and aggregates; LIMIT appears only under an ORDER BY over every output column.

use super::expr::{Scope, ScopeCol};
use super::Smith;
use crate::ast::{AggFunc, BinOp, Expr, From, Join, JoinKind, Literal, Select, Stmt, TableRef};
use crate::schema::Kind;
use rand::seq::IndexedRandom;
use rand::Rng;

impl Smith {
    fn live_table(&mut self) -> String {
        let live: Vec<String> = self.schema.live().map(|t| t.name.clone()).collect();
        live.choose(&mut self.rng).cloned().expect("a live table")
    }

    /// One table reference, or two joined (INNER / LEFT / RIGHT / STRAIGHT_JOIN on a
    /// predicate; rarely CROSS, NATURAL or NATURAL LEFT, which take no ON).
    pub(crate) fn random_from(&mut self) -> (From, Scope) {
        let (first, mut scope) = self.sub_table(&Vec::new());
        let mut joins = Vec::new();
        if self.chance(0.3) {
            // The right side never correlates with the left (no LATERAL): its own scope.
            let (table, right) = self.sub_table(&Vec::new());
            let mut both = scope.clone();
            both.extend(right);
            let kind = match self.rng.random_range(0..16) {
                0..=6 => JoinKind::Inner,
                7..=9 => JoinKind::Left,
                10 | 11 => JoinKind::Right,
                12 => JoinKind::Cross,
                13 => JoinKind::Natural,
                14 => JoinKind::NaturalLeft,
                _ => JoinKind::Straight,
            };
            let on = (!matches!(
                kind,
                JoinKind::Cross | JoinKind::Natural | JoinKind::NaturalLeft
            ))
            .then(|| self.join_condition(&scope, &both));
            joins.push(Join { kind, table, on });
            scope = both;
        }
        (From { first, joins }, scope)
    }

    /// Mostly an equality between a left and a right column of the same kind.
    fn join_condition(&mut self, left: &Scope, both: &Scope) -> Expr {
        let right: Vec<&ScopeCol> = both[left.len()..].iter().collect();
        let pairs: Vec<(&ScopeCol, &ScopeCol)> = left
            .iter()
            .flat_map(|l| {
                right
                    .iter()
                    .filter(move |r| r.ty.kind() == l.ty.kind())
                    .map(move |r| (l, *r))
            })
            .collect();
        match pairs.choose(&mut self.rng) {
            Some((l, r)) if self.chance(0.85) => {
                let eq = Expr::Binary {
                    op: BinOp::Eq,
                    l: Box::new(l.expr()),
                    r: Box::new(r.expr()),
                };
                if self.chance(0.3) {
                    let extra = self.bool_expr(both, 1);
                    Expr::Binary {
                        op: BinOp::And,
                        l: Box::new(eq),
                        r: Box::new(extra),
                    }
                } else {
                    eq
                }
            }
            _ => self.bool_expr(both, 1),
        }
    }

    fn item(&mut self, scope: &Scope) -> Expr {
        if self.chance(0.6) {
            if let Some(c) = scope.choose(&mut self.rng) {
                return c.expr();
            }
        }
        let k = *[Kind::Int, Kind::Num, Kind::Str, Kind::Date, Kind::Bool]
            .choose(&mut self.rng)
            .unwrap();
        let depth = self.cfg.max_depth.min(2);
        self.expr(scope, k, depth)
    }

    /// A plain SELECT (no aggregate, no ORDER BY, no LIMIT), and its scope.
    pub(crate) fn plain_select(&mut self) -> (Select, Scope) {
        let (from, scope) = self.random_from();
        let n = self.rng.random_range(1..4);
        let items = (0..n).map(|_| self.item(&scope)).collect();
        let filter = self.chance(0.5).then(|| self.bool_expr(&scope, 2));
        let select = Select {
            distinct: self.chance(0.15),
            items,
            aliases: vec![],
            from: Some(from),
            filter,
            group_by: vec![],
            having: None,
            order_by: vec![],
            limit: None,
            for_update: false,
        };
        (select, scope)
    }

    pub(crate) fn aggregate(&mut self, scope: &Scope) -> Expr {
        self.aggregate_typed(scope).0
    }

    /// An aggregate and the kind of its value: COUNT an integer, SUM and AVG a number,
    /// MIN and MAX their argument's kind.
    pub(crate) fn aggregate_typed(&mut self, scope: &Scope) -> (Expr, Kind) {
        let func = *[
            AggFunc::Count,
            AggFunc::Sum,
            AggFunc::Min,
            AggFunc::Max,
            AggFunc::Avg,
        ]
        .choose(&mut self.rng)
        .unwrap();
        if func == AggFunc::Count && self.chance(0.4) {
            let count = Expr::Agg {
                func,
                distinct: false,
                arg: None,
            };
            return (count, Kind::Int);
        }
        let kind = match func {
            AggFunc::Sum | AggFunc::Avg => *[Kind::Int, Kind::Num].choose(&mut self.rng).unwrap(),
            _ => *[Kind::Int, Kind::Num, Kind::Str, Kind::Date]
                .choose(&mut self.rng)
                .unwrap(),
        };
        let arg = self.expr(scope, kind, 1);
        let agg = Expr::Agg {
            func,
            distinct: self.chance(0.2),
            arg: Some(Box::new(arg)),
        };
        let value = match func {
            AggFunc::Count => Kind::Int,
            AggFunc::Sum | AggFunc::Avg => Kind::Num,
            AggFunc::Min | AggFunc::Max => kind,
        };
        (agg, value)
    }

    /// A top-level query; `for_update` makes it a locking read of one table.
    pub(crate) fn top_select(&mut self, for_update: bool) -> Select {
        let (mut s, scope) = self.plain_select();
        if for_update {
            // A locking read of one base table (not a view or a derived table).
            let table = self.live_table();
            let alias = self.alias();
            s.from = Some(From {
                first: TableRef::named(&table, &alias),
                joins: vec![],
            });
            let scope: Scope = self
                .table_scope(&table)
                .into_iter()
                .map(|c| ScopeCol {
                    qual: Some(alias.clone()),
                    ..c
                })
                .collect();
            s.items = (0..self.rng.random_range(1..4))
                .map(|_| self.item(&scope))
                .collect();
            s.filter = self.chance(0.8).then(|| self.bool_expr(&scope, 2));
            s.distinct = false;
            s.for_update = true;
        } else if self.chance(0.3) {
            // Aggregate query: only GROUP BY expressions and aggregates are selected.
            let groups: Vec<Expr> = (0..self.rng.random_range(0..3))
                .filter_map(|_| scope.choose(&mut self.rng).map(|c| c.expr()))
                .collect();
            let mut items = groups.clone();
            for _ in 0..self.rng.random_range(1..3) {
                items.push(self.aggregate(&scope));
            }
            s.items = items;
            s.group_by = groups;
            if !s.group_by.is_empty() && self.chance(0.4) {
                let agg = self.aggregate(&scope);
                let k = if matches!(
                    &agg,
                    Expr::Agg {
                        func: AggFunc::Count,
                        ..
                    }
                ) {
                    Kind::Int
                } else {
                    Kind::Num
                };
                let v = self.literal(k);
                let op = *[BinOp::Gt, BinOp::Lt, BinOp::Ne]
                    .choose(&mut self.rng)
                    .unwrap();
                s.having = Some(Expr::Binary {
                    op,
                    l: Box::new(agg),
                    r: Box::new(Expr::Lit(v)),
                });
            }
        }
        match self.rng.random_range(0..10) {
            0..=4 => {
                s.order_by = (1..=s.items.len()).map(|p| (p, self.chance(0.3))).collect();
                if self.chance(0.4) {
                    s.limit = Some(self.rng.random_range(0..6));
                }
            }
            5 | 6 => {
                s.order_by = vec![(self.rng.random_range(1..=s.items.len()), self.chance(0.5))]
            }
            _ => {}
        }
        s
    }

    fn table_scope(&self, table: &str) -> Scope {
        self.schema
            .table(table)
            .map(|t| {
                t.columns
                    .iter()
                    .map(|c| ScopeCol {
                        qual: Some(table.to_string()),
                        name: c.name.clone(),
                        ty: c.ty,
                        nullable: c.nullable,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn insert(&mut self) -> Stmt {
        let table = self.live_table();
        let t = self.schema.table(&table).expect("live").clone();
        let writable: Vec<_> = t.writable().cloned().collect();
        let cols: Vec<_> = writable
            .iter()
            .filter(|c| !c.nullable && c.default.is_none() || self.rng.random_bool(0.7))
            .cloned()
            .collect();
        let cols = if cols.is_empty() { writable } else { cols };
        let rows = (0..self.rng.random_range(1..4))
            .map(|_| {
                cols.iter()
                    .map(|c| self.value_for(c.ty, c.nullable))
                    .collect()
            })
            .collect();
        Stmt::Insert {
            table,
            columns: cols.into_iter().map(|c| c.name).collect(),
            rows,
        }
    }

    pub(crate) fn update(&mut self) -> Stmt {
        let table = self.live_table();
        let scope = self.table_scope(&table);
        let writable: Scope = match self.schema.table(&table) {
            Some(t) => scope
                .iter()
                .filter(|c| t.writable().any(|w| w.name == c.name))
                .cloned()
                .collect(),
            None => vec![],
        };
        let n = self.rng.random_range(1..3).min(writable.len());
        let mut sets = Vec::new();
        let picked: Vec<ScopeCol> = writable
            .choose_multiple(&mut self.rng, n)
            .cloned()
            .collect();
        if picked.is_empty() {
            return self.insert();
        }
        for c in &picked {
            let e = if self.chance(0.5) {
                self.value_for(c.ty, c.nullable)
            } else if c.ty.kind() == Kind::Int && self.chance(0.5) {
                Expr::Binary {
                    op: BinOp::Add,
                    l: Box::new(c.expr()),
                    r: Box::new(Expr::Lit(Literal::Int(1))),
                }
            } else {
                self.expr(&scope, c.ty.kind(), 1)
            };
            sets.push((c.name.clone(), e));
        }
        let filter = self.chance(0.85).then(|| self.bool_expr(&scope, 2));
        Stmt::Update {
            table,
            sets,
            filter,
        }
    }

    pub(crate) fn delete(&mut self) -> Stmt {
        let table = self.live_table();
        let scope = self.table_scope(&table);
        let filter = self.chance(0.92).then(|| self.bool_expr(&scope, 2));
        Stmt::Delete { table, filter }
    }
}
