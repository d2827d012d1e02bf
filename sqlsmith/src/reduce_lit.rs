//! The reducer's last phase: literals and types. A literal becomes the simplest of its
//! kind (0, 1, '', 'a', DATE '2000-01-01'), a column type a simpler one (BIGINT, DECIMAL,
//! DOUBLE and VARCHAR to INT, TEXT to VARCHAR, DATETIME to DATE). Each candidate changes
//! one thing; the "still fails?" check decides whether the failure needs it.

use crate::ast::{Expr, Literal, Select, Stmt};
use crate::schema::ColType;
use crate::visit::{count_literals, replace_literal};

/// Simpler literals of the same kind, simplest first (none for NULL and booleans).
pub fn simpler_literals(l: &Literal) -> Vec<Literal> {
    match l {
        Literal::Int(i) => [0, 1]
            .into_iter()
            .filter(|x| x != i && (*x == 0 || i.abs() > 1))
            .map(Literal::Int)
            .collect(),
        Literal::Num(n) if n != "0" => vec![Literal::Num("0".into())],
        Literal::Str(s) if s.is_empty() => vec![],
        Literal::Str(s) if s.chars().count() == 1 => vec![Literal::Str(String::new())],
        Literal::Str(_) => vec![Literal::Str(String::new()), Literal::Str("a".into())],
        Literal::Date(d) if d != "2000-01-01" => vec![Literal::Date("2000-01-01".into())],
        Literal::DateTime(d) if d != "2000-01-01 00:00:00" => {
            vec![Literal::DateTime("2000-01-01 00:00:00".into())]
        }
        _ => vec![],
    }
}

/// Simpler column types, simplest first.
pub fn simpler_types(t: ColType) -> Vec<ColType> {
    match t {
        ColType::Int => vec![],
        ColType::TinyInt
        | ColType::SmallInt
        | ColType::MediumInt
        | ColType::IntUnsigned
        | ColType::BigInt
        | ColType::BigIntUnsigned
        | ColType::Year
        | ColType::Decimal
        | ColType::Double
        | ColType::Varchar(_) => vec![ColType::Int],
        ColType::Float => vec![ColType::Double, ColType::Int],
        ColType::Char(_) | ColType::Time | ColType::Enum | ColType::Set => {
            vec![ColType::Varchar(16), ColType::Int]
        }
        ColType::Text | ColType::Blob | ColType::Json => vec![ColType::Varchar(16)],
        ColType::Date => vec![],
        ColType::DateTime => vec![ColType::Date],
        ColType::Timestamp => vec![ColType::DateTime, ColType::Date],
    }
}

/// `s` with one literal simplified, for each literal and each simpler value; CREATE TABLE
/// and ADD COLUMN with one column type simplified.
pub fn stmt_literal_candidates(s: &Stmt) -> Vec<Stmt> {
    let mut out = Vec::new();
    for k in 0..count_literals(s) {
        for n in 0..2 {
            let pick = |l: &Literal| simpler_literals(l).into_iter().nth(n);
            out.extend(replace_literal(s, k, &pick));
        }
    }
    match s {
        // A generated column's type goes with its expression: it is not simplified.
        Stmt::CreateTable(ct) => {
            for (i, c) in ct.columns.iter().enumerate() {
                if c.generated.is_some() {
                    continue;
                }
                for t in simpler_types(c.ty) {
                    let mut x = ct.clone();
                    x.columns[i].ty = t;
                    out.push(Stmt::CreateTable(x));
                }
            }
        }
        Stmt::AddColumn { table, column } if column.generated.is_none() => {
            for t in simpler_types(column.ty) {
                let mut column = column.clone();
                column.ty = t;
                out.push(Stmt::AddColumn {
                    table: table.clone(),
                    column,
                });
            }
        }
        _ => {}
    }
    out
}

/// `q` with one literal simplified (subqueries included).
pub fn select_literal_candidates(q: &Select) -> Vec<Select> {
    stmt_literal_candidates(&Stmt::Select(q.clone()))
        .into_iter()
        .filter_map(|s| match s {
            Stmt::Select(q) => Some(q),
            _ => None,
        })
        .collect()
}

/// `e` with one literal simplified (subqueries included).
pub fn expr_literal_candidates(e: &Expr) -> Vec<Expr> {
    let q = Select {
        distinct: false,
        items: vec![e.clone()],
        from: None,
        filter: None,
        group_by: vec![],
        having: None,
        order_by: vec![],
        limit: None,
        aliases: vec![],
        for_update: false,
    };
    select_literal_candidates(&q)
        .into_iter()
        .filter_map(|mut q| q.items.pop())
        .collect()
}
