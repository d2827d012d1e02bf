//! What a statement produced ([`Outcome`]) and whether two outcomes agree ([`compare`]).
//!
//! Rules:
//! - errors are compared by error number only (messages differ between versions);
//! - writes and DDL by affected-row count;
//! - result sets as values from the text protocol (strings; NULL is distinct from `''`),
//!   as ordered lists when the query's ORDER BY names every output column (with binary
//!   collations that fixes the list), otherwise as multisets (both sides sorted first);
//! - the float rule: two values that are not byte-equal still agree when both parse as
//!   numbers, at least one is not an integer literal (it has `.`, `e` or `E`), and they differ
//!   by at most 1e-9 relative (`|a-b| <= 1e-9 * max(1, |a|, |b|)`). Summation order of DOUBLE
//!   aggregates is not defined, so their last digits may differ on a correct server.
//!   Integers (and DECIMALs that print without a fraction) must match exactly;
//! - an [`Outcome::Unknown`] (no answer: timeout, connection lost) agrees with anything: the
//!   caller decides what an unknown outcome means for the tables involved.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One row of a result set: text-protocol values, None is NULL.
pub type Row = Vec<Option<String>>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Outcome {
    Error { code: u16, message: String },
    Affected { rows: u64 },
    Rows { rows: Vec<Row> },
    Unknown { reason: String },
}

impl Outcome {
    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Error { .. })
    }

    pub fn error_code(&self) -> Option<u16> {
        match self {
            Outcome::Error { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub fn rows(&self) -> Option<&[Row]> {
        match self {
            Outcome::Rows { rows } => Some(rows),
            _ => None,
        }
    }

    /// A short human description (first rows only).
    pub fn brief(&self) -> String {
        match self {
            Outcome::Error { code, message } => format!("error {code}: {message}"),
            Outcome::Affected { rows } => format!("ok, {rows} row(s) affected"),
            Outcome::Rows { rows } => {
                let shown: Vec<String> = rows.iter().take(5).map(render_row).collect();
                let more = if rows.len() > 5 {
                    format!(" ... ({} rows)", rows.len())
                } else {
                    String::new()
                };
                format!("{} row(s): [{}]{more}", rows.len(), shown.join("] ["))
            }
            Outcome::Unknown { reason } => format!("unknown: {reason}"),
        }
    }
}

/// `a b NULL (empty)`: sqllogictest's spelling of a row.
pub fn render_row(r: &Row) -> String {
    r.iter()
        .map(|v| match v.as_deref() {
            None => "NULL".to_string(),
            Some("") => "(empty)".to_string(),
            Some(s) => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why two outcomes disagree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub what: String,
}

fn diff(what: impl Into<String>) -> Option<Difference> {
    Some(Difference { what: what.into() })
}

fn is_fractional(s: &str) -> bool {
    s.contains(['.', 'e', 'E'])
}

/// Whether two non-NULL text values agree under the float rule.
pub fn values_agree(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if !(is_fractional(a) || is_fractional(b)) {
        return false;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => {
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => false,
    }
}

fn rows_agree(a: &Row, b: &Row) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (None, None) => true,
            (Some(x), Some(y)) => values_agree(x, y),
            _ => false,
        })
}

fn sorted(rows: &[Row]) -> Vec<&Row> {
    let mut v: Vec<&Row> = rows.iter().collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    v
}

/// Compares two result sets, as lists when `ordered`, else as multisets.
pub fn compare_rows(sut: &[Row], reference: &[Row], ordered: bool) -> Option<Difference> {
    if sut.len() != reference.len() {
        return diff(format!(
            "{} row(s) vs {} row(s)",
            sut.len(),
            reference.len()
        ));
    }
    let (a, b) = if ordered {
        (
            sut.iter().collect::<Vec<_>>(),
            reference.iter().collect::<Vec<_>>(),
        )
    } else {
        (sorted(sut), sorted(reference))
    };
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if !rows_agree(x, y) {
            let how = if ordered { "row" } else { "sorted row" };
            return diff(format!(
                "{how} {i}: [{}] vs [{}]",
                render_row(x),
                render_row(y)
            ));
        }
    }
    None
}

/// Compares the outcomes of one statement on the system under test and on the reference.
pub fn compare(sut: &Outcome, reference: &Outcome, ordered: bool) -> Option<Difference> {
    use Outcome::*;
    match (sut, reference) {
        (Unknown { .. }, _) | (_, Unknown { .. }) => None,
        (Error { code: a, .. }, Error { code: b, .. }) if a == b => None,
        (Error { code: a, .. }, Error { code: b, .. }) => diff(format!("error {a} vs error {b}")),
        (Error { code, .. }, _) => diff(format!("error {code} vs success")),
        (_, Error { code, .. }) => diff(format!("success vs error {code}")),
        (Affected { rows: a }, Affected { rows: b }) if a == b => None,
        (Affected { rows: a }, Affected { rows: b }) => diff(format!("{a} vs {b} affected rows")),
        (Rows { rows: a }, Rows { rows: b }) => compare_rows(a, b, ordered),
        _ => diff("a result set vs an affected-row count"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[&[Option<&str>]]) -> Vec<Row> {
        v.iter()
            .map(|r| r.iter().map(|x| x.map(str::to_string)).collect())
            .collect()
    }

    #[test]
    fn errors_compare_by_number() {
        let a = Outcome::Error {
            code: 1062,
            message: "dup 'x'".into(),
        };
        let b = Outcome::Error {
            code: 1062,
            message: "Duplicate entry".into(),
        };
        let c = Outcome::Error {
            code: 1064,
            message: "dup".into(),
        };
        assert!(compare(&a, &b, false).is_none());
        assert!(compare(&a, &c, false).is_some());
        assert!(compare(&a, &Outcome::Affected { rows: 1 }, false).is_some());
    }

    #[test]
    fn null_is_not_empty() {
        let a = rows(&[&[None]]);
        let b = rows(&[&[Some("")]]);
        assert!(compare_rows(&a, &b, false).is_some());
    }

    #[test]
    fn multisets_ignore_order_lists_do_not() {
        let a = rows(&[&[Some("1")], &[Some("2")], &[Some("2")]]);
        let b = rows(&[&[Some("2")], &[Some("1")], &[Some("2")]]);
        assert!(compare_rows(&a, &b, false).is_none());
        assert!(compare_rows(&a, &b, true).is_some());
        let c = rows(&[&[Some("2")], &[Some("1")], &[Some("1")]]);
        assert!(
            compare_rows(&a, &c, false).is_some(),
            "multiplicity matters"
        );
    }

    #[test]
    fn float_rule() {
        assert!(values_agree("0.30000000000000004", "0.3"));
        assert!(values_agree("1.5e20", "1.5000000000000002e20"));
        assert!(!values_agree("0.31", "0.3"));
        assert!(!values_agree("10", "11"), "integers are exact");
        assert!(!values_agree(
            "100000000000000000001",
            "100000000000000000000"
        ));
        assert!(!values_agree("abc", "abd"));
    }

    #[test]
    fn unknown_agrees_with_anything() {
        let u = Outcome::Unknown {
            reason: "timeout".into(),
        };
        assert!(compare(&u, &Outcome::Affected { rows: 3 }, true).is_none());
    }
}
