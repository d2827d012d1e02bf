//! Type-directed value expressions: columns in scope, operators, string / math / date
//! functions, CASE, and the scope type ([`Scope`]) every expression is generated over.
//!
//! Each expression is generated for a [`Kind`] so the server rarely has to coerce oddly;
//! nondeterministic functions appear only outside stable mode. Literals live in
//! [`literal`](super::literal), predicates in [`predicate`](super::predicate), subqueries in
//! [`subquery`](super::subquery).

use super::Smith;
use crate::ast::{BinOp, CastType, Expr, Literal, UnOp};
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

pub(super) fn lit(l: Literal) -> Expr {
    Expr::Lit(l)
}

/// The collations an explicit `COLLATE` draws from (utf8mb4, as the connection's strings
/// are): binary, the general and Unicode ones, and a language-specific one.
pub const COLLATIONS: &[&str] = &[
    "utf8mb4_bin",
    "utf8mb4_general_ci",
    "utf8mb4_unicode_ci",
    "utf8mb4_unicode_520_ci",
    "utf8mb4_german2_ci",
    "utf8mb4_swedish_ci",
    "utf8mb4_turkish_ci",
];

pub(super) fn func(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Func {
        name: name.to_string(),
        args,
    }
}

pub(super) fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        op,
        l: Box::new(l),
        r: Box::new(r),
    }
}

impl Smith {
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
            Kind::Int => match self.rng.random_range(0..13) {
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
                11 => {
                    let op = *[
                        BinOp::BitAnd,
                        BinOp::BitOr,
                        BinOp::BitXor,
                        BinOp::ShiftLeft,
                        BinOp::ShiftRight,
                    ]
                    .choose(&mut self.rng)
                    .unwrap();
                    let r = if matches!(op, BinOp::ShiftLeft | BinOp::ShiftRight) {
                        lit(Literal::Int(self.rng.random_range(0..8)))
                    } else {
                        self.expr(scope, Kind::Int, d)
                    };
                    bin(op, self.expr(scope, Kind::Int, d), r)
                }
                12 => {
                    let to = if self.chance(0.7) {
                        CastType::Signed
                    } else {
                        CastType::Unsigned
                    };
                    self.cast(scope, &[Kind::Int, Kind::Num, Kind::Str, Kind::Date], to, d)
                }
                _ => func(
                    "IF",
                    vec![
                        self.bool_expr(scope, d),
                        self.expr(scope, Kind::Int, d),
                        self.expr(scope, Kind::Int, d),
                    ],
                ),
            },
            Kind::Num => match self.rng.random_range(0..8) {
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
                7 => {
                    let to = if self.chance(0.5) {
                        CastType::Decimal
                    } else {
                        CastType::Double
                    };
                    self.cast(scope, &[Kind::Int, Kind::Num, Kind::Str], to, d)
                }
                _ => self.expr(scope, Kind::Int, d),
            },
            Kind::Str => match self.rng.random_range(0..11) {
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
                9 => self.cast(
                    scope,
                    &[Kind::Int, Kind::Num, Kind::Date],
                    CastType::Char,
                    d,
                ),
                _ => func(
                    "CONCAT",
                    vec![
                        lit(Literal::Str("v".into())),
                        self.expr(scope, Kind::Int, d),
                    ],
                ),
            },
            Kind::Date => match self.rng.random_range(0..4) {
                0 => Expr::DateAdd {
                    e: Box::new(self.expr(scope, Kind::Date, d)),
                    days: self.rng.random_range(-400..400),
                },
                1 => func("LAST_DAY", vec![self.expr(scope, Kind::Date, d)]),
                // Dates only, never strings: MariaDB 10.11.19 evaluates a comparison with
                // `CAST(<string that is no date> AS DATE)` (NULL, with a warning) as 0 while
                // the same comparison `IS NULL` is 1, so a row falls into two TLP partitions:
                // `SELECT CAST('AB_' AS DATE) = DATE '2013-10-15', (CAST('AB_' AS DATE) =
                // DATE '2013-10-15') IS NULL` gives 0, 1. A real server bug, found by TLP on
                // this construct; left out so that every later hunt is not that one finding.
                2 => self.cast(scope, &[Kind::Date], CastType::Date, d),
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

    /// `CAST(e AS to)` (or `CONVERT(e, to)`) of an expression of one of `from`.
    fn cast(&mut self, scope: &Scope, from: &[Kind], to: CastType, d: u32) -> Expr {
        let k = *from.choose(&mut self.rng).unwrap();
        Expr::Cast {
            e: Box::new(self.expr(scope, k, d)),
            to,
            convert: self.chance(0.3),
        }
    }

    /// `e` with an explicit collation drawn from [`COLLATIONS`]; `e` itself when it reads
    /// a BLOB column (binary: a character-set collation on it is an error, 1253, not a
    /// test).
    pub(crate) fn collated(&mut self, scope: &Scope, e: Expr) -> Expr {
        let mut binary = false;
        e.visit_shallow(&mut |x| {
            if let Expr::Col { qual, name } = x {
                binary |= scope
                    .iter()
                    .any(|c| &c.qual == qual && &c.name == name && c.ty == ColType::Blob);
            }
        });
        if binary {
            return e;
        }
        Expr::Collate {
            e: Box::new(e),
            collation: COLLATIONS.choose(&mut self.rng).unwrap().to_string(),
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
}
