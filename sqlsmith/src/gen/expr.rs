//! Type-directed expressions: literals, columns in scope, operators, functions, CASE,
//! predicates with NULLs, and subqueries (scalar, IN, EXISTS).
//!
//! Each expression is generated for a [`Kind`] so the server rarely has to coerce oddly;
//! nondeterministic functions appear only outside stable mode.

use super::Smith;
use crate::ast::{AggFunc, BinOp, Expr, Literal, Select, UnOp};
use crate::schema::{ColType, Kind};
use rand::seq::IndexedRandom;
use rand::Rng;

/// A column visible to an expression.
#[derive(Clone, Debug, PartialEq)]
pub struct ScopeCol {
    pub qual: Option<String>,
    pub name: String,
    pub ty: ColType,
    pub nullable: bool,
}

impl ScopeCol {
    pub fn expr(&self) -> Expr {
        Expr::Col {
            qual: self.qual.clone(),
            name: self.name.clone(),
        }
    }
}

/// The columns an expression may reference.
pub type Scope = Vec<ScopeCol>;

const KINDS: [Kind; 4] = [Kind::Int, Kind::Num, Kind::Str, Kind::Date];
const CHARS: &[u8] = b"abcxyzABZ0189_-";

fn lit(l: Literal) -> Expr {
    Expr::Lit(l)
}

fn func(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Func {
        name: name.to_string(),
        args,
    }
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        op,
        l: Box::new(l),
        r: Box::new(r),
    }
}

impl Smith {
    /// A literal of `kind` (no NULL).
    pub(crate) fn literal(&mut self, kind: Kind) -> Literal {
        let r = &mut self.rng;
        match kind {
            Kind::Int => Literal::Int(match r.random_range(0..10) {
                0 => r.random_range(-5..0),
                1 => *[0i64, 1, 2147483647, -2147483648, 9007199254740993]
                    .choose(r)
                    .unwrap(),
                2..=5 => r.random_range(0..10),
                _ => r.random_range(0..200),
            }),
            Kind::Num => {
                let v: i64 = r.random_range(-2000..20000);
                Literal::Num(match r.random_range(0..4) {
                    0 => format!("{}e{}", v % 100, r.random_range(-2..4)),
                    _ => format!("{}.{:02}", v / 100, (v % 100).abs()),
                })
            }
            Kind::Str => {
                let n = r.random_range(0..9);
                Literal::Str((0..n).map(|_| *CHARS.choose(r).unwrap() as char).collect())
            }
            Kind::Date => {
                let (y, m, d) = (
                    r.random_range(1998..2031),
                    r.random_range(1..13),
                    r.random_range(1..29),
                );
                if r.random_bool(0.5) {
                    Literal::Date(format!("{y:04}-{m:02}-{d:02}"))
                } else {
                    let (h, mi, s) = (
                        r.random_range(0..24),
                        r.random_range(0..60),
                        r.random_range(0..60),
                    );
                    Literal::DateTime(format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
                }
            }
            Kind::Bool => Literal::Bool(r.random_bool(0.5)),
        }
    }

    /// A value for a column of type `ty` in an INSERT or UPDATE: mostly a literal.
    pub(crate) fn value_for(&mut self, ty: ColType, nullable: bool) -> Expr {
        if self.chance(if nullable { 0.1 } else { 0.005 }) {
            return lit(Literal::Null);
        }
        let kind = ty.kind();
        let l = self.literal(kind);
        // Dates go in as strings, DATETIME literals into DATE columns are truncated.
        match (ty, l) {
            (ColType::Date, Literal::DateTime(s)) => lit(Literal::Date(s[..10].to_string())),
            (_, l) => lit(l),
        }
    }

    fn column_of(&mut self, scope: &Scope, kind: Kind) -> Option<Expr> {
        let cands: Vec<&ScopeCol> = scope.iter().filter(|c| c.ty.kind() == kind).collect();
        cands.choose(&mut self.rng).map(|c| c.expr())
    }

    /// An expression of `kind` over `scope`, at most `depth` levels deep.
    pub(crate) fn expr(&mut self, scope: &Scope, kind: Kind, depth: u32) -> Expr {
        if kind == Kind::Bool {
            return self.bool_expr(scope, depth);
        }
        let leaf = depth == 0 || self.chance(0.45);
        if leaf {
            if self.chance(0.75) {
                if let Some(c) = self.column_of(scope, kind) {
                    return c;
                }
            }
            if self.chance(0.05) {
                return lit(Literal::Null);
            }
            let l = self.literal(kind);
            return lit(l);
        }
        let d = depth - 1;
        if self.chance(0.08) {
            return self.case_expr(scope, kind, d);
        }
        if self.cfg.subqueries && depth >= 2 && self.chance(0.06) {
            return Expr::Subquery(Box::new(self.scalar_subquery(scope, kind)));
        }
        if !self.cfg.stable && self.chance(0.05) {
            return match kind {
                Kind::Int => func("CONNECTION_ID", vec![]),
                Kind::Num => func("RAND", vec![]),
                Kind::Str => func("UUID", vec![]),
                _ => func("NOW", vec![]),
            };
        }
        match kind {
            Kind::Int => match self.rng.random_range(0..11) {
                0..=2 => {
                    let op = *[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Mod]
                        .choose(&mut self.rng)
                        .unwrap();
                    bin(
                        op,
                        self.expr(scope, Kind::Int, d),
                        self.expr(scope, Kind::Int, d),
                    )
                }
                3 => func(
                    ["ABS", "SIGN"][self.rng.random_range(0..2)],
                    vec![self.expr(scope, Kind::Int, d)],
                ),
                4 => func(
                    ["LENGTH", "CHAR_LENGTH"][self.rng.random_range(0..2)],
                    vec![self.expr(scope, Kind::Str, d)],
                ),
                5 => func(
                    ["YEAR", "MONTH", "DAYOFMONTH"][self.rng.random_range(0..3)],
                    vec![self.expr(scope, Kind::Date, d)],
                ),
                6 => func(
                    "DATEDIFF",
                    vec![
                        self.expr(scope, Kind::Date, d),
                        self.expr(scope, Kind::Date, d),
                    ],
                ),
                7 => func(
                    ["COALESCE", "IFNULL"][self.rng.random_range(0..2)],
                    vec![
                        self.expr(scope, Kind::Int, d),
                        self.expr(scope, Kind::Int, d),
                    ],
                ),
                8 => func(
                    ["FLOOR", "CEIL"][self.rng.random_range(0..2)],
                    vec![self.expr(scope, Kind::Num, d)],
                ),
                9 => Expr::Unary {
                    op: UnOp::Neg,
                    e: Box::new(self.expr(scope, Kind::Int, d)),
                },
                _ => func(
                    "IF",
                    vec![
                        self.bool_expr(scope, d),
                        self.expr(scope, Kind::Int, d),
                        self.expr(scope, Kind::Int, d),
                    ],
                ),
            },
            Kind::Num => match self.rng.random_range(0..7) {
                0..=2 => {
                    let op = *[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]
                        .choose(&mut self.rng)
                        .unwrap();
                    let k = if self.chance(0.5) {
                        Kind::Num
                    } else {
                        Kind::Int
                    };
                    bin(op, self.expr(scope, Kind::Num, d), self.expr(scope, k, d))
                }
                3 => func(
                    "ROUND",
                    vec![
                        self.expr(scope, Kind::Num, d),
                        lit(Literal::Int(self.rng.random_range(0..3))),
                    ],
                ),
                4 => func(
                    ["GREATEST", "LEAST"][self.rng.random_range(0..2)],
                    vec![
                        self.expr(scope, Kind::Num, d),
                        self.expr(scope, Kind::Num, d),
                    ],
                ),
                5 => func("ABS", vec![self.expr(scope, Kind::Num, d)]),
                _ => self.expr(scope, Kind::Int, d),
            },
            Kind::Str => match self.rng.random_range(0..10) {
                0 | 1 => func(
                    "CONCAT",
                    vec![
                        self.expr(scope, Kind::Str, d),
                        self.expr(scope, Kind::Str, d),
                    ],
                ),
                2 => func(
                    ["UPPER", "LOWER", "REVERSE", "TRIM"][self.rng.random_range(0..4)],
                    vec![self.expr(scope, Kind::Str, d)],
                ),
                3 => {
                    let (a, b) = (self.rng.random_range(1..4), self.rng.random_range(1..5));
                    func(
                        "SUBSTRING",
                        vec![
                            self.expr(scope, Kind::Str, d),
                            lit(Literal::Int(a)),
                            lit(Literal::Int(b)),
                        ],
                    )
                }
                4 => func(
                    ["LEFT", "RIGHT"][self.rng.random_range(0..2)],
                    vec![
                        self.expr(scope, Kind::Str, d),
                        lit(Literal::Int(self.rng.random_range(0..5))),
                    ],
                ),
                5 => func(
                    "REPLACE",
                    vec![
                        self.expr(scope, Kind::Str, d),
                        lit(Literal::Str("a".into())),
                        lit(Literal::Str("zz".into())),
                    ],
                ),
                6 => func(
                    "LPAD",
                    vec![
                        self.expr(scope, Kind::Str, d),
                        lit(Literal::Int(self.rng.random_range(0..8))),
                        lit(Literal::Str("x".into())),
                    ],
                ),
                7 => func(
                    "DATE_FORMAT",
                    vec![
                        self.expr(scope, Kind::Date, d),
                        lit(Literal::Str("%Y-%m".into())),
                    ],
                ),
                8 => func(
                    "IFNULL",
                    vec![
                        self.expr(scope, Kind::Str, d),
                        self.expr(scope, Kind::Str, d),
                    ],
                ),
                _ => func(
                    "CONCAT",
                    vec![
                        lit(Literal::Str("v".into())),
                        self.expr(scope, Kind::Int, d),
                    ],
                ),
            },
            Kind::Date => match self.rng.random_range(0..3) {
                0 => Expr::DateAdd {
                    e: Box::new(self.expr(scope, Kind::Date, d)),
                    days: self.rng.random_range(-400..400),
                },
                1 => func("LAST_DAY", vec![self.expr(scope, Kind::Date, d)]),
                _ => func(
                    "COALESCE",
                    vec![
                        self.expr(scope, Kind::Date, d),
                        self.expr(scope, Kind::Date, d),
                    ],
                ),
            },
            Kind::Bool => unreachable!("handled above"),
        }
    }

    fn case_expr(&mut self, scope: &Scope, kind: Kind, d: u32) -> Expr {
        let n = self.rng.random_range(1..3);
        let whens = (0..n)
            .map(|_| (self.bool_expr(scope, d), self.expr(scope, kind, d)))
            .collect();
        let otherwise = self
            .chance(0.7)
            .then(|| Box::new(self.expr(scope, kind, d)));
        Expr::Case { whens, otherwise }
    }

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
                bin(op, self.expr(scope, k, d), self.expr(scope, k, d))
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
                Expr::Like {
                    e: Box::new(self.expr(scope, Kind::Str, d)),
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
        (crate::ast::TableRef { table: name, alias }, scope)
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
    fn scalar_subquery(&mut self, outer: &Scope, kind: Kind) -> Select {
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

    fn column_subquery(&mut self, outer: &Scope, kind: Kind) -> Select {
        self.simple_sub(outer, |s, scope| s.expr(scope, kind, 0))
    }

    fn exists_subquery(&mut self, outer: &Scope) -> Select {
        self.simple_sub(outer, |_, _| lit(Literal::Int(1)))
    }
}
