//! Writes a reproducer in sqllogictest format (as read by sqllogictest-rs).
//!
//! Each statement becomes a record whose expectation is what the *reference* answered, so
//! replaying the file against the system under test fails where they diverged; the system
//! under test's answer is kept in `#` comments above that record, with the seed in the
//! header. Errors are `statement error <number>` (a regex on the message, which carries the
//! number); writes are `statement count N`; queries are `query T... nosort|rowsort` with
//! one row per line, NULL as `NULL` and the empty string as `(empty)`.

use crate::ast::Stmt;
use crate::compare::{render_row, Outcome};
use std::fmt::Write;

/// One statement of the file.
#[derive(Clone, Debug)]
pub struct Record {
    pub stmt: Stmt,
    /// The SQL written for `stmt` when it is not `stmt` printed as is (the plan oracle's
    /// query under a changed plan: hints or `SET STATEMENT ... FOR` around the same query).
    pub sql: Option<String>,
    /// The expected (reference) outcome.
    pub expected: Outcome,
    /// Comment lines written above the record.
    pub comments: Vec<String>,
}

impl Record {
    pub fn new(stmt: Stmt, expected: Outcome) -> Record {
        Record {
            stmt,
            sql: None,
            expected,
            comments: vec![],
        }
    }
}

/// Renders the file: `header` lines as comments, the `session` statements a client must
/// run first (the connection's character set), then every record.
pub fn render(header: &[String], session: &[&str], records: &[Record]) -> String {
    let mut out = String::new();
    for h in header {
        for line in h.lines() {
            let _ = writeln!(out, "# {line}");
        }
    }
    out.push('\n');
    for sql in session {
        let _ = writeln!(out, "statement ok\n{sql}\n");
    }
    for r in records {
        for c in &r.comments {
            for line in c.lines() {
                let _ = writeln!(out, "# {line}");
            }
        }
        let sql = r.sql.clone().unwrap_or_else(|| r.stmt.to_string());
        let dml = matches!(
            r.stmt,
            Stmt::Insert { .. } | Stmt::Update { .. } | Stmt::Delete { .. }
        );
        match &r.expected {
            Outcome::Error { code, .. } => {
                let _ = writeln!(out, "statement error {code}\n{sql}\n");
            }
            Outcome::Affected { rows } if dml => {
                let _ = writeln!(out, "statement count {rows}\n{sql}\n");
            }
            Outcome::Affected { .. } | Outcome::Unknown { .. } => {
                let _ = writeln!(out, "statement ok\n{sql}\n");
            }
            Outcome::Rows { rows } => {
                let ordered = matches!(&r.stmt, Stmt::Select(s) if s.order_is_total());
                let ncols = match &r.stmt {
                    Stmt::Select(s) => s.items.len(),
                    _ => rows.first().map_or(1, |r| r.len()),
                };
                let types = "T".repeat(ncols.max(1));
                let sort = if ordered { "nosort" } else { "rowsort" };
                let _ = writeln!(out, "query {types} {sort}\n{sql}\n----");
                for row in rows {
                    let _ = writeln!(out, "{}", render_row(row));
                }
                out.push('\n');
            }
        }
    }
    out
}
