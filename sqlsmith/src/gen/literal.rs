//! Literals of each kind (with the boundary values that tend to find bugs) and the values
//! INSERT and UPDATE write into a column of a given type.

use super::expr::lit;
use super::Smith;
use crate::ast::{Expr, Literal};
use crate::schema::{ColType, Kind};
use rand::seq::IndexedRandom;
use rand::Rng;

const CHARS: &[u8] = b"abcxyzABZ0189_-";
/// Non-ASCII data, drawn for about one character in eight: letters that collations order
/// and fold differently (German ß and ü, Turkish dotless and dotted i, a titlecase digraph,
/// Danish ø), a combining acute accent after a plain letter (e + U+0301 against é), a CJK
/// character and an emoji (four UTF-8 bytes: utf8mb4 only).
const NON_ASCII: &[&str] = &[
    "é", "ß", "ü", "Ü", "ı", "İ", "e\u{301}", "ǅ", "ø", "日", "😀",
];

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
                let mut text = String::new();
                for _ in 0..n {
                    if r.random_bool(0.125) {
                        text.push_str(NON_ASCII.choose(r).unwrap());
                    } else {
                        text.push(*CHARS.choose(r).unwrap() as char);
                    }
                }
                Literal::Str(text)
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
}
