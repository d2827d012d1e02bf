//! Metamorphic oracles that need no reference database: the query transformations and the
//! checks over their (already fetched) results.
//!
//! TLP (ternary logic partitioning, SQLancer): for a query Q and a predicate p, the rows of Q
//! equal the multiset union of Q WHERE p, Q WHERE NOT p and Q WHERE p IS NULL (each added to
//! Q's own WHERE with AND). With DISTINCT the union is taken as a set. For a single
//! aggregate over the whole query it also holds: COUNT adds up, SUM adds up (NULL when
//! every part is NULL), MIN / MAX are the min / max of the parts. The run loop checks only
//! the combinations where that identity is exact ([`aggregate_partitions`]): COUNT(*),
//! COUNT(x), MIN / MAX / SUM of integer columns.
//!
//! NoREC (non-optimizing reference engine construction): `SELECT COUNT(*) FROM f WHERE p`
//! equals the number of rows of `SELECT (p) IS TRUE FROM f` that are 1, where the optimizer
//! cannot use p to filter.

use crate::ast::{AggFunc, BinOp, Expr, From, Select, UnOp};
use crate::compare::{compare_rows, values_agree, Row};
use crate::schema::ColType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How the three partitions combine into the original result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// Multiset union (plain queries).
    Multiset,
    /// Set union (SELECT DISTINCT).
    Distinct,
    /// One aggregate over the whole query.
    Aggregate(AggFunc),
}

/// How the partitions are derived from p.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Partitioning {
    /// p, NOT p, p IS NULL: the real oracle.
    #[default]
    Ternary,
    /// p, NOT p, FALSE: deliberately wrong (forgets the rows where p is NULL). Only for
    /// tests that plant a TLP failure the server will really show.
    ForgetNull,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TlpCase {
    pub original: Select,
    /// The partitioning predicate p.
    pub predicate: Expr,
    /// WHERE p, WHERE NOT p, WHERE p IS NULL (each ANDed to the original's WHERE).
    pub partitions: [Select; 3],
    pub combine: Combine,
    pub rule: Partitioning,
}

impl TlpCase {
    /// The case for `original` (no aggregate unless `combine` says so) and predicate `p`.
    pub fn build(original: Select, p: &Expr, combine: Combine, rule: Partitioning) -> TlpCase {
        let preds = match rule {
            Partitioning::Ternary => ternary(p),
            Partitioning::ForgetNull => {
                let [a, b, _] = ternary(p);
                [a, b, Expr::Lit(crate::ast::Literal::Bool(false))]
            }
        };
        let partitions = preds.map(|q| Select {
            filter: and(&original.filter, q),
            ..original.clone()
        });
        TlpCase {
            original,
            predicate: p.clone(),
            partitions,
            combine,
            rule,
        }
    }

    /// The same case with partitions derived by `rule`.
    pub fn with_rule(self, rule: Partitioning) -> TlpCase {
        TlpCase::build(self.original, &self.predicate, self.combine, rule)
    }

    /// The same check with another original query and predicate (for the reducer).
    pub fn with(&self, original: Select, p: &Expr) -> TlpCase {
        TlpCase::build(original, p, self.combine, self.rule)
    }
}

/// Whether the TLP identity holds *exactly* for `func` over a column of type `ty` (None:
/// COUNT(*)): COUNT always; MIN / MAX / SUM only over INT and BIGINT (SUM over DOUBLE
/// rounds differently per partition, over DECIMAL and strings the printed result and the
/// collation need care). AVG never. When unsure: false (not checked).
pub fn aggregate_partitions(func: AggFunc, ty: Option<ColType>) -> bool {
    matches!(
        (func, ty),
        (AggFunc::Count, _)
            | (
                AggFunc::Min | AggFunc::Max | AggFunc::Sum,
                Some(ColType::Int | ColType::BigInt)
            )
    )
}

fn and(w: &Option<Expr>, p: Expr) -> Option<Expr> {
    Some(match w {
        Some(w) => Expr::Binary {
            op: BinOp::And,
            l: Box::new(w.clone()),
            r: Box::new(p),
        },
        None => p,
    })
}

/// The three predicates p, NOT p, p IS NULL.
pub fn ternary(p: &Expr) -> [Expr; 3] {
    [
        p.clone(),
        Expr::Unary {
            op: UnOp::Not,
            e: Box::new(p.clone()),
        },
        Expr::IsNull {
            e: Box::new(p.clone()),
            negated: false,
        },
    ]
}

/// TLP over a query without aggregates, GROUP BY, ORDER BY or LIMIT (those are dropped or
/// refused: None).
pub fn tlp(query: &Select, p: &Expr) -> Option<TlpCase> {
    if query.has_aggregate()
        || !query.group_by.is_empty()
        || query.having.is_some()
        || query.limit.is_some()
    {
        return None;
    }
    let mut original = query.clone();
    original.order_by.clear();
    original.for_update = false;
    let combine = if original.distinct {
        Combine::Distinct
    } else {
        Combine::Multiset
    };
    Some(TlpCase::build(original, p, combine, Partitioning::Ternary))
}

/// TLP for one aggregate (`COUNT(*)`, or COUNT / SUM / MIN / MAX of `arg`, an integer
/// expression) over `from` filtered by the query's `filter`.
pub fn tlp_aggregate(
    from: &From,
    filter: &Option<Expr>,
    func: AggFunc,
    arg: Option<Expr>,
    p: &Expr,
) -> TlpCase {
    let original = Select {
        distinct: false,
        items: vec![Expr::Agg {
            func,
            distinct: false,
            arg: arg.map(Box::new),
        }],
        from: Some(from.clone()),
        filter: filter.clone(),
        group_by: vec![],
        having: None,
        order_by: vec![],
        limit: None,
        aliases: vec![],
        for_update: false,
    };
    TlpCase::build(original, p, Combine::Aggregate(func), Partitioning::Ternary)
}

fn single(rows: &[Row]) -> Result<Option<String>, String> {
    match rows {
        [r] if r.len() == 1 => Ok(r[0].clone()),
        _ => Err(format!("an aggregate gave {} row(s)", rows.len())),
    }
}

fn combine_aggregate(func: AggFunc, parts: &[Option<String>]) -> Result<Option<String>, String> {
    let vals: Vec<&String> = parts.iter().flatten().collect();
    let num = |s: &String| s.parse::<f64>().map_err(|_| format!("not a number: {s}"));
    Ok(match func {
        AggFunc::Count | AggFunc::Sum => {
            if vals.is_empty() {
                if func == AggFunc::Count {
                    Some("0".into())
                } else {
                    None
                }
            } else if vals.iter().all(|v| v.parse::<i128>().is_ok()) {
                Some(
                    vals.iter()
                        .map(|v| v.parse::<i128>().unwrap())
                        .sum::<i128>()
                        .to_string(),
                )
            } else {
                let mut s = 0.0;
                for v in vals {
                    s += num(v)?;
                }
                Some(format!("{s:e}"))
            }
        }
        AggFunc::Min | AggFunc::Max if vals.iter().all(|v| v.parse::<i128>().is_ok()) => {
            // Integers compare exactly (BIGINT does not fit a double).
            let it = vals.iter().map(|v| (v.parse::<i128>().unwrap(), *v));
            let best = if func == AggFunc::Min {
                it.min_by_key(|(x, _)| *x)
            } else {
                it.max_by_key(|(x, _)| *x)
            };
            best.map(|(_, v)| v.clone())
        }
        AggFunc::Min | AggFunc::Max => {
            let mut best: Option<(f64, &String)> = None;
            for v in vals {
                let x = num(v)?;
                let better = match best {
                    None => true,
                    Some((b, _)) => {
                        (func == AggFunc::Min && x < b) || (func == AggFunc::Max && x > b)
                    }
                };
                if better {
                    best = Some((x, v));
                }
            }
            best.map(|(_, v)| v.clone())
        }
        AggFunc::Avg => return Err("AVG does not partition".into()),
    })
}

/// Checks a TLP case given the rows of the original and of the three partitions.
pub fn tlp_check(case: &TlpCase, original: &[Row], parts: [&[Row]; 3]) -> Result<(), String> {
    match case.combine {
        Combine::Multiset => {
            let union: Vec<Row> = parts.iter().flat_map(|p| p.iter().cloned()).collect();
            match compare_rows(original, &union, false) {
                None => Ok(()),
                Some(d) => Err(format!("original vs union of partitions: {}", d.what)),
            }
        }
        Combine::Distinct => {
            let a: BTreeSet<&Row> = original.iter().collect();
            let b: BTreeSet<&Row> = parts.iter().flat_map(|p| p.iter()).collect();
            if a == b {
                Ok(())
            } else {
                Err(format!(
                    "{} distinct row(s) vs {} in the union of partitions",
                    a.len(),
                    b.len()
                ))
            }
        }
        Combine::Aggregate(func) => {
            let whole = single(original)?;
            let vals = [single(parts[0])?, single(parts[1])?, single(parts[2])?];
            let combined = combine_aggregate(func, &vals)?;
            let agree = match (&whole, &combined) {
                (None, None) => true,
                (Some(a), Some(b)) if a.parse::<i128>().is_ok() && b.parse::<i128>().is_ok() => {
                    // Integers exactly (a double cannot tell 2^53 from 2^53 + 1).
                    a.parse::<i128>().ok() == b.parse::<i128>().ok()
                }
                (Some(a), Some(b)) => {
                    values_agree(a, b)
                        || a.parse::<f64>().ok() == b.parse::<f64>().ok()
                            && a.parse::<f64>().is_ok()
                }
                _ => false,
            };
            if agree {
                Ok(())
            } else {
                Err(format!(
                    "{}: whole {whole:?} vs partitions {vals:?} combined {combined:?}",
                    func.sql()
                ))
            }
        }
    }
}

/// A NoREC pair: the optimized count and the unoptimizable flag query.
#[derive(Clone, Debug, PartialEq)]
pub struct NorecCase {
    /// `SELECT COUNT(*) FROM f WHERE p`
    pub optimized: Select,
    /// `SELECT ((p) IS TRUE) FROM f`
    pub unoptimized: Select,
}

pub fn norec(from: &From, p: &Expr) -> NorecCase {
    let base = Select {
        distinct: false,
        items: vec![],
        from: Some(from.clone()),
        filter: None,
        group_by: vec![],
        having: None,
        order_by: vec![],
        limit: None,
        aliases: vec![],
        for_update: false,
    };
    NorecCase {
        optimized: Select {
            items: vec![Expr::Agg {
                func: AggFunc::Count,
                distinct: false,
                arg: None,
            }],
            filter: Some(p.clone()),
            ..base.clone()
        },
        unoptimized: Select {
            items: vec![Expr::IsTrue(Box::new(p.clone()))],
            ..base
        },
    }
}

/// Checks a NoREC case given the rows of both queries.
pub fn norec_check(optimized: &[Row], unoptimized: &[Row]) -> Result<(), String> {
    let count = single(optimized)?.unwrap_or_default();
    let trues = unoptimized
        .iter()
        .filter(|r| r.first().and_then(|v| v.as_deref()) == Some("1"))
        .count();
    if count == trues.to_string() {
        Ok(())
    } else {
        Err(format!(
            "COUNT(*) WHERE p = {count}, but p IS TRUE on {trues} of {} row(s)",
            unoptimized.len()
        ))
    }
}
