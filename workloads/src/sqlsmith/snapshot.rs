//! The reducer's way past a long prefix: the state a replay left, written as a handful of
//! statements. A finding after 40,000 statements needs the state those statements built,
//! not the statements: the tables the failing query reads (through its views too) as
//! CREATE TABLE with the columns and indexes they ended with, its views as they were
//! created, and one INSERT per row. The reducer keeps the snapshot only when it shows the
//! failure again on a fresh database (a value that does not survive its text form, such as
//! a FLOAT printed with fewer digits, makes it fail to), then shrinks it row by row.

use super::exec::SqlDb;
use faultline_sqlsmith::ast::{ColumnDef, CreateTable, Expr, Literal};
use faultline_sqlsmith::schema::Schema;
use faultline_sqlsmith::{Outcome, Stmt};
use std::collections::BTreeSet;

/// The snapshot of the tables `wanted` (and what their views read) on `db`, after `stmts`
/// ran there with `outcomes`; None when a table could not be read.
pub(super) async fn snapshot(
    db: &mut SqlDb,
    stmts: &[Stmt],
    outcomes: &[Outcome],
    wanted: &BTreeSet<String>,
) -> Option<Vec<Stmt>> {
    // The schema the replay ended with: every statement that succeeded, applied.
    let mut schema = Schema::default();
    for (s, o) in stmts.iter().zip(outcomes) {
        if matches!(o, Outcome::Rows { .. } | Outcome::Affected { .. }) {
            schema.apply(s);
        }
    }
    let mut need = wanted.clone();
    loop {
        let before = need.len();
        let reads: Vec<String> = schema
            .tables
            .iter()
            .filter(|t| t.view && need.contains(&t.name))
            .flat_map(|t| t.reads.iter().cloned())
            .collect();
        need.extend(reads);
        if need.len() == before {
            break;
        }
    }
    let tables: Vec<_> = schema
        .tables
        .iter()
        .filter(|t| !t.view && need.contains(&t.name))
        .cloned()
        .collect();
    let mut out: Vec<Stmt> = tables
        .iter()
        .map(|t| {
            Stmt::CreateTable(CreateTable {
                name: t.name.clone(),
                columns: t.columns.clone(),
                primary_key: t.primary_key.clone(),
                indexes: t.indexes.clone(),
            })
        })
        .collect();
    // Views as they were created (each at most once, the one that succeeded), in order.
    let mut views = BTreeSet::new();
    for (s, o) in stmts.iter().zip(outcomes) {
        if let Stmt::CreateView { name, .. } = s {
            if need.contains(name) && !o.is_error() && views.insert(name.clone()) {
                out.push(s.clone());
            }
        }
    }
    for t in &tables {
        let columns: Vec<&ColumnDef> = t.writable().collect();
        if columns.is_empty() {
            continue;
        }
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let sql = format!("SELECT {} FROM {}", names.join(", "), t.name);
        let Outcome::Rows { rows } = db.run(&sql).await else {
            return None;
        };
        for row in rows {
            // A NULL goes without saying where NULL is the column's default: the INSERT
            // names only the columns it gives a value, so the reducer can drop the rest.
            let (cols, values): (Vec<String>, Vec<Expr>) = columns
                .iter()
                .zip(row)
                .filter(|(c, v)| v.is_some() || !c.nullable || c.default.is_some())
                .map(|(c, v)| {
                    let value = Expr::Lit(v.map_or(Literal::Null, Literal::Str));
                    (c.name.clone(), value)
                })
                .unzip();
            out.push(Stmt::Insert {
                table: t.name.clone(),
                columns: cols,
                rows: vec![values],
            });
        }
    }
    Some(out)
}
