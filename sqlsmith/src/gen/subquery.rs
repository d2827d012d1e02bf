//! Table references (tables, views, derived tables and CTEs, index hints) and the
//! subqueries inside expressions and predicates: scalar (one aggregate, at most one row),
//! column (for IN) and EXISTS, each over one table reference, correlated with the outer
//! scope.

use super::expr::{lit, Scope, ScopeCol};
use super::Smith;
use crate::ast::{AggFunc, Expr, IndexHint, Literal, Select, TableRef};
use crate::schema::Kind;
use rand::seq::IndexedRandom;
use rand::Rng;

impl Smith {
    /// A table reference `... AS rN` and `outer` with its columns added (correlation
    /// allowed for tables; derived tables never correlate). Mostly a live table or view;
    /// outside a derived query, sometimes a derived table or CTE. A table with an index
    /// now and then carries an index hint.
    pub(crate) fn sub_table(&mut self, outer: &Scope) -> (TableRef, Scope) {
        let mut scope = outer.clone();
        if self.cfg.derived_tables && self.derived_depth == 0 && self.chance(0.12) {
            let derived = self.derived_query();
            let alias = self.alias();
            scope.extend(derived.columns.iter().map(|(name, ty)| ScopeCol {
                qual: Some(alias.clone()),
                name: name.clone(),
                ty: *ty,
                nullable: true,
            }));
            let table = if derived.cte {
                format!("cte_{alias}")
            } else {
                String::new()
            };
            let tr = TableRef {
                table,
                alias,
                hint: None,
                derived: Some(Box::new(derived)),
            };
            return (tr, scope);
        }
        let readable: Vec<String> = self.schema.readable().map(|t| t.name.clone()).collect();
        let name = readable
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_else(|| "t0".into());
        let alias = self.alias();
        let mut tr = TableRef::named(&name, &alias);
        // The indexes a hint may name: Some for a base table, None for a view.
        let mut hintable: Option<Vec<String>> = None;
        if let Some(t) = self.schema.table(&name) {
            scope.extend(t.columns.iter().map(|c| ScopeCol {
                qual: Some(alias.clone()),
                name: c.name.clone(),
                ty: c.ty,
                nullable: c.nullable,
            }));
            hintable = (!t.view).then(|| {
                let primary = (!t.primary_key.is_empty()).then(|| "PRIMARY".to_string());
                t.indexes
                    .iter()
                    .map(|i| i.name.clone())
                    .chain(primary)
                    .collect()
            });
        }
        if let Some(names) = hintable.filter(|_| self.chance(0.05)) {
            tr.hint = match (names.choose(&mut self.rng), self.rng.random_range(0..3)) {
                (_, 0) => Some(IndexHint::NoIndex),
                (Some(i), 1) => Some(IndexHint::Force(i.clone())),
                (Some(i), _) => Some(IndexHint::Ignore(i.clone())),
                (None, _) => None,
            }
            .map(Box::new);
        }
        (tr, scope)
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
            items: vec![item],
            filter,
            ..Select::over(crate::ast::From {
                first: tr,
                joins: vec![],
            })
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
