//! Subqueries inside expressions and predicates: scalar (one aggregate, at most one row),
//! column (for IN) and EXISTS, each over one live table, correlated with the outer scope.

use super::expr::{lit, Scope, ScopeCol};
use super::Smith;
use crate::ast::{AggFunc, Expr, Literal, Select};
use crate::schema::Kind;
use rand::seq::IndexedRandom;

impl Smith {
    /// One live table as `t AS rN`, its columns added to `outer` (correlation allowed).
    pub(crate) fn sub_table(&mut self, outer: &Scope) -> (crate::ast::TableRef, Scope) {
        let live: Vec<String> = self.schema.live().map(|t| t.name.clone()).collect();
        let name = live
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_else(|| "t0".into());
        let alias = self.alias();
        let mut scope = outer.clone();
        if let Some(t) = self.schema.table(&name) {
            scope.extend(t.columns.iter().map(|c| ScopeCol {
                qual: Some(alias.clone()),
                name: c.name.clone(),
                ty: c.ty,
                nullable: c.nullable,
            }));
        }
        (
            crate::ast::TableRef {
                table: name,
                alias,
                hint: None,
            },
            scope,
        )
    }

    fn simple_sub(
        &mut self,
        outer: &Scope,
        item: impl FnOnce(&mut Smith, &Scope) -> Expr,
    ) -> Select {
        let (tr, scope) = self.sub_table(outer);
        let item = item(self, &scope);
        let filter = self.chance(0.7).then(|| self.bool_expr(&scope, 1));
        Select {
            distinct: false,
            items: vec![item],
            from: Some(crate::ast::From {
                first: tr,
                joins: vec![],
            }),
            filter,
            group_by: vec![],
            having: None,
            order_by: vec![],
            limit: None,
            for_update: false,
        }
    }

    /// `SELECT AGG(x) FROM t WHERE p`: always at most one row.
    pub(super) fn scalar_subquery(&mut self, outer: &Scope, kind: Kind) -> Select {
        let outer_len = outer.len();
        self.simple_sub(outer, |s, scope| {
            if kind == Kind::Int && s.chance(0.4) {
                return Expr::Agg {
                    func: AggFunc::Count,
                    distinct: false,
                    arg: None,
                };
            }
            let func = if s.chance(0.5) {
                AggFunc::Min
            } else {
                AggFunc::Max
            };
            // The argument uses the subquery's own columns only: an aggregate over outer
            // columns alone would aggregate the outer query (that is SQL, not a bug).
            let own: Scope = scope[outer_len..].to_vec();
            Expr::Agg {
                func,
                distinct: false,
                arg: Some(Box::new(s.expr(&own, kind, 0))),
            }
        })
    }

    pub(super) fn column_subquery(&mut self, outer: &Scope, kind: Kind) -> Select {
        self.simple_sub(outer, |s, scope| s.expr(scope, kind, 0))
    }

    pub(super) fn exists_subquery(&mut self, outer: &Scope) -> Select {
        self.simple_sub(outer, |_, _| lit(Literal::Int(1)))
    }
}
