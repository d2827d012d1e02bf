//! Derived tables, CTEs and view bodies: a query in FROM whose output columns are named
//! (`a0`, `a1`, ...) and typed, so the outer query can use them like a table's.
//!
//! A derived query is a plain SELECT, an aggregate (GROUP BY columns and aggregates), a
//! SELECT with window functions, or any of these combined with a second SELECT of the same
//! column kinds by UNION [ALL], INTERSECT or EXCEPT. Nothing in it depends on row order:
//! no LIMIT, and only the window functions whose value is fixed by the data
//! ([`WinFunc`]). Derived queries never correlate with an outer query (MariaDB has no
//! LATERAL) and do not nest: a derived query's FROM reads tables and views only.

use super::expr::{Scope, ScopeCol};
use super::Smith;
use crate::ast::{Derived, Expr, Select, SetOp, WinFunc};
use crate::schema::{ColType, Kind};
use rand::seq::IndexedRandom;
use rand::Rng;

const ITEM_KINDS: [Kind; 5] = [Kind::Int, Kind::Num, Kind::Str, Kind::Date, Kind::Bool];

impl Smith {
    /// An output column: mostly a column of `scope` (its own type), else an expression of
    /// a random kind (typed by the kind).
    fn typed_item(&mut self, scope: &Scope) -> (Expr, ColType) {
        if self.chance(0.6) {
            if let Some(c) = scope.choose(&mut self.rng) {
                return (c.expr(), c.ty);
            }
        }
        let k = *ITEM_KINDS.choose(&mut self.rng).unwrap();
        (self.expr(scope, k, 2), ColType::of_kind(k))
    }

    /// An expression of `kind`, mostly a column of that kind (for a set operation's
    /// second SELECT, column by column).
    fn item_of_kind(&mut self, scope: &Scope, kind: Kind) -> Expr {
        let cols: Vec<&ScopeCol> = scope.iter().filter(|c| c.ty.kind() == kind).collect();
        match cols.choose(&mut self.rng) {
            Some(c) if self.chance(0.6) => c.expr(),
            _ => self.expr(scope, kind, 1),
        }
    }

    /// `func(..) OVER (PARTITION BY .. ORDER BY ..)` and its type.
    fn window_item(&mut self, scope: &Scope) -> (Expr, ColType) {
        let func = *[
            WinFunc::Rank,
            WinFunc::DenseRank,
            WinFunc::Count,
            WinFunc::Sum,
            WinFunc::Min,
            WinFunc::Max,
        ]
        .choose(&mut self.rng)
        .unwrap();
        let (arg, kind) = match func {
            WinFunc::Rank | WinFunc::DenseRank => (None, Kind::Int),
            WinFunc::Count if self.chance(0.5) => (None, Kind::Int),
            WinFunc::Count => {
                let k = *ITEM_KINDS[..4].choose(&mut self.rng).unwrap();
                (Some(self.expr(scope, k, 1)), Kind::Int)
            }
            WinFunc::Sum => {
                let k = *[Kind::Int, Kind::Num].choose(&mut self.rng).unwrap();
                (Some(self.expr(scope, k, 1)), Kind::Num)
            }
            WinFunc::Min | WinFunc::Max => {
                let k = *ITEM_KINDS[..4].choose(&mut self.rng).unwrap();
                (Some(self.expr(scope, k, 1)), k)
            }
        };
        let partition_by = (0..self.rng.random_range(0..3))
            .filter_map(|_| scope.choose(&mut self.rng).map(|c| c.expr()))
            .collect();
        let ranking = matches!(func, WinFunc::Rank | WinFunc::DenseRank);
        let n = if ranking || self.chance(0.5) {
            self.rng.random_range(1..3)
        } else {
            0
        };
        let order_by = (0..n)
            .map(|_| {
                let k = *ITEM_KINDS[..4].choose(&mut self.rng).unwrap();
                self.item_of_kind(scope, k)
            })
            .collect();
        let e = Expr::Window {
            func,
            arg: arg.map(Box::new),
            partition_by,
            order_by,
        };
        (e, ColType::of_kind(kind))
    }

    /// An aggregate and the type of its value.
    fn typed_aggregate(&mut self, scope: &Scope) -> (Expr, ColType) {
        let (e, kind) = self.aggregate_typed(scope);
        (e, ColType::of_kind(kind))
    }

    /// A derived query (for a derived table, a CTE or a view) with named, typed columns.
    pub(crate) fn derived_query(&mut self) -> Derived {
        self.derived_depth += 1;
        let (from, scope) = self.random_from();
        let mut body = Select::over(from);
        let mut typed: Vec<(Expr, ColType)> = Vec::new();
        match self.rng.random_range(0..10) {
            0 | 1 => {
                let groups: Vec<ScopeCol> = (0..self.rng.random_range(0..3))
                    .filter_map(|_| scope.choose(&mut self.rng).cloned())
                    .collect();
                body.group_by = groups.iter().map(|c| c.expr()).collect();
                typed.extend(groups.iter().map(|c| (c.expr(), c.ty)));
                for _ in 0..self.rng.random_range(1..3) {
                    typed.push(self.typed_aggregate(&scope));
                }
            }
            2 | 3 => {
                for _ in 0..self.rng.random_range(0..3) {
                    typed.push(self.typed_item(&scope));
                }
                for _ in 0..self.rng.random_range(1..3) {
                    typed.push(self.window_item(&scope));
                }
            }
            _ => {
                for _ in 0..self.rng.random_range(1..4) {
                    typed.push(self.typed_item(&scope));
                }
                body.distinct = self.chance(0.2);
            }
        }
        body.filter = self.chance(0.5).then(|| self.bool_expr(&scope, 2));
        let columns: Vec<(String, ColType)> = typed
            .iter()
            .enumerate()
            .map(|(i, (_, ty))| (format!("a{i}"), *ty))
            .collect();
        body.aliases = columns.iter().map(|(a, _)| a.clone()).collect();
        body.items = typed.into_iter().map(|(e, _)| e).collect();
        let mut set_ops = Vec::new();
        if self.chance(0.3) {
            let op = *[
                SetOp::Union,
                SetOp::UnionAll,
                SetOp::Intersect,
                SetOp::Except,
            ]
            .choose(&mut self.rng)
            .unwrap();
            let (from, scope) = self.random_from();
            let mut other = Select::over(from);
            other.items = columns
                .iter()
                .map(|(_, ty)| self.item_of_kind(&scope, ty.kind()))
                .collect();
            other.filter = self.chance(0.5).then(|| self.bool_expr(&scope, 2));
            set_ops.push((op, other));
        }
        self.derived_depth -= 1;
        Derived {
            body,
            set_ops,
            cte: self.chance(0.4),
            columns,
        }
    }
}
