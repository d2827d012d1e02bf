//! Literals of each kind (with the boundary values that tend to find bugs) and the values
//! INSERT and UPDATE write into a column of a given type.

use super::expr::lit;
use super::Smith;
use crate::ast::{Expr, Literal};
use crate::schema::{ColType, Kind, ENUM_MEMBERS};
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

    /// A value for a column of type `ty` in an INSERT or UPDATE: mostly a literal that
    /// fits the type (its range, its members, its syntax), sometimes a boundary value, and
    /// now and then one that does not fit (strict mode refuses it: an error, not a bug).
    pub(crate) fn value_for(&mut self, ty: ColType, nullable: bool) -> Expr {
        if self.chance(if nullable { 0.1 } else { 0.005 }) {
            return lit(Literal::Null);
        }
        if let Some(l) = self.typed_value(ty) {
            return lit(l);
        }
        let kind = ty.kind();
        let l = self.literal(kind);
        // Dates go in as strings, DATETIME literals into DATE columns are truncated.
        match (ty, l) {
            (ColType::Date, Literal::DateTime(s)) => lit(Literal::Date(s[..10].to_string())),
            (_, l) => lit(l),
        }
    }

    /// A value shaped for `ty` where the kind's literals would mostly not fit; None where
    /// they do.
    pub(crate) fn typed_value(&mut self, ty: ColType) -> Option<Literal> {
        let r = &mut self.rng;
        let int_in = |r: &mut rand_chacha::ChaCha8Rng, lo: i64, hi: i64| {
            Literal::Int(match r.random_range(0..6) {
                0 => lo,
                1 => hi,
                _ => r.random_range(lo.max(-50)..=hi.min(200)),
            })
        };
        Some(match ty {
            ColType::TinyInt => int_in(r, -128, 127),
            ColType::SmallInt => int_in(r, -32768, 32767),
            ColType::MediumInt => int_in(r, -8388608, 8388607),
            ColType::IntUnsigned => int_in(r, 0, 4294967295),
            ColType::BigIntUnsigned if r.random_bool(0.1) => {
                Literal::Num("18446744073709551615".into())
            }
            ColType::BigIntUnsigned => int_in(r, 0, i64::MAX),
            ColType::Year if r.random_bool(0.3) => {
                Literal::Int(*[1901i64, 2155, 0, 1999, 2000].choose(r).unwrap())
            }
            ColType::Year => Literal::Int(r.random_range(1901..=2155)),
            ColType::Char(n) => match self.literal(Kind::Str) {
                Literal::Str(s) => Literal::Str(s.chars().take(n as usize).collect()),
                l => l,
            },
            ColType::Time => {
                let h: i64 = if r.random_bool(0.1) {
                    *[838i64, -838, 100].choose(r).unwrap()
                } else {
                    r.random_range(0..24)
                };
                let (m, s) = (r.random_range(0..60), r.random_range(0..60));
                Literal::Str(format!("{h:02}:{m:02}:{s:02}"))
            }
            ColType::Enum => Literal::Str(ENUM_MEMBERS.choose(r).unwrap().to_string()),
            ColType::Set => {
                let n = r.random_range(0..3);
                let picked: Vec<&str> = ENUM_MEMBERS.choose_multiple(r, n).copied().collect();
                Literal::Str(picked.join(","))
            }
            ColType::Json => Literal::Str(
                (*[
                    "1",
                    "-2.5",
                    "\"a\"",
                    "\"é\"",
                    "null",
                    "true",
                    "[]",
                    "[1, 2, \"x\"]",
                    "{\"k\": 1}",
                    "{\"k\": [1, {\"a\": null}], \"z\": \"ü\"}",
                ]
                .choose(r)
                .unwrap())
                .to_string(),
            ),
            ColType::Timestamp => match self.literal(Kind::Date) {
                Literal::Date(d) => Literal::DateTime(format!("{d} 12:00:00")),
                l => l,
            },
            _ => return None,
        })
    }
}
