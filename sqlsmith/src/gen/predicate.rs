//! Predicates (three-valued: NULL is the point): comparisons, IS NULL, AND / OR / XOR / NOT,
//! BETWEEN, LIKE, IN lists, IN and EXISTS subqueries, IS TRUE.

use super::expr::{bin, lit, Scope};
use super::Smith;
use crate::ast::{BinOp, Expr, Literal, UnOp};
use crate::schema::Kind;
use rand::seq::IndexedRandom;
use rand::Rng;

const KINDS: [Kind; 4] = [Kind::Int, Kind::Num, Kind::Str, Kind::Date];

impl Smith {
    fn any_kind(&mut self) -> Kind {
        *KINDS.choose(&mut self.rng).unwrap()
    }

    /// A kind that has a column in `scope`, when there is one.
    fn scope_kind(&mut self, scope: &Scope) -> Kind {
        match scope.choose(&mut self.rng) {
            Some(c) if self.chance(0.85) => c.ty.kind(),
            _ => self.any_kind(),
        }
    }

    /// A predicate (may be NULL: three-valued logic is the point).
    pub(crate) fn bool_expr(&mut self, scope: &Scope, depth: u32) -> Expr {
        let d = depth.saturating_sub(1);
        let choice = if depth == 0 {
            self.rng.random_range(0..4)
        } else {
            self.rng.random_range(0..15)
        };
        match choice {
            0..=2 => {
                let k = self.scope_kind(scope);
                let op = *[
                    BinOp::Eq,
                    BinOp::Ne,
                    BinOp::Lt,
                    BinOp::Le,
                    BinOp::Gt,
                    BinOp::Ge,
                    BinOp::NullSafeEq,
                ]
                .choose(&mut self.rng)
                .unwrap();
                let mut l = self.expr(scope, k, d);
                // Strings compare under an explicit collation now and then (the left side
                // only: two explicit ones that differ are an error, not a test).
                if k == Kind::Str && self.chance(0.2) {
                    l = self.collated(scope, l);
                }
                // Now and then a literal of another kind: an integer column against a
                // decimal or string literal, a date against a number.
                let r = if self.chance(0.1) {
                    let other = self.any_kind();
                    lit(self.literal(other))
                } else {
                    self.expr(scope, k, d)
                };
                bin(op, l, r)
            }
            3 => {
                let k = self.scope_kind(scope);
                Expr::IsNull {
                    e: Box::new(self.expr(scope, k, d)),
                    negated: self.chance(0.5),
                }
            }
            4 | 5 => {
                let op = *[BinOp::And, BinOp::Or, BinOp::Xor]
                    .choose(&mut self.rng)
                    .unwrap();
                bin(op, self.bool_expr(scope, d), self.bool_expr(scope, d))
            }
            6 => Expr::Unary {
                op: UnOp::Not,
                e: Box::new(self.bool_expr(scope, d)),
            },
            7 => {
                let k = self.scope_kind(scope);
                Expr::Between {
                    e: Box::new(self.expr(scope, k, d)),
                    lo: Box::new(self.expr(scope, k, d)),
                    hi: Box::new(self.expr(scope, k, d)),
                    negated: self.chance(0.3),
                }
            }
            8 => {
                let pat: String = (0..self.rng.random_range(0..4))
                    .map(|_| *b"ab%_xZ0".choose(&mut self.rng).unwrap() as char)
                    .collect();
                let mut e = self.expr(scope, Kind::Str, d);
                if self.chance(0.2) {
                    e = self.collated(scope, e);
                }
                Expr::Like {
                    e: Box::new(e),
                    pattern: pat,
                    negated: self.chance(0.3),
                }
            }
            9 => {
                let k = self.scope_kind(scope);
                let n = self.rng.random_range(1..4);
                let list = (0..n)
                    .map(|_| {
                        if self.chance(0.1) {
                            lit(Literal::Null)
                        } else {
                            lit(self.literal(k))
                        }
                    })
                    .collect();
                Expr::InList {
                    e: Box::new(self.expr(scope, k, d)),
                    list,
                    negated: self.chance(0.3),
                }
            }
            10 if self.cfg.subqueries && depth >= 2 => {
                let k = self.scope_kind(scope);
                let e = Box::new(self.expr(scope, k, d));
                let sub = Box::new(self.column_subquery(scope, k));
                Expr::InSubquery {
                    e,
                    sub,
                    negated: self.chance(0.3),
                }
            }
            11 if self.cfg.subqueries && depth >= 2 => {
                let sub = Box::new(self.exists_subquery(scope));
                Expr::Exists {
                    sub,
                    negated: self.chance(0.3),
                }
            }
            12 => Expr::IsTrue(Box::new(self.bool_expr(scope, d))),
            13 => lit(Literal::Bool(self.chance(0.5))),
            _ => {
                let k = self.scope_kind(scope);
                bin(BinOp::Eq, self.expr(scope, k, 0), self.expr(scope, k, 0))
            }
        }
    }
}
