//! `sqlsmith`: random SQL on the system under test, diffed against a reference server, plus
//! the metamorphic oracles TLP and NoREC, with reduced sqllogictest reproducers.
//!
//! Not a [`Workload`](faultline_harness::Workload): the differential mode is one sequential
//! statement stream over two databases, so it has its own loop ([`runloop`]) and its own
//! orchestration ([`cli`]); it still writes the usual run folder (test.json, history.jsonl
//! of statements and outcomes, results.json, report.html, junit.xml) through
//! faultline-harness, and ends with the verdict, seed and store lines.
//! Modules: [`cli`] (options, orchestration), [`runloop`] (the statement loop), `options`
//! (loop options, statistics, findings), `bookkeeping` (the unknown-outcome rule, retired
//! tables, snapshots), `findings` (metamorphic checks, reduction of findings), [`exec`] (one
//! statement on one server), [`replay`] (replays, the reducer's checks, reproducer files).
//! Generation, comparison and reduction logic live in faultline-sqlsmith.

mod bookkeeping;
pub mod cli;
pub mod exec;
mod findings;
pub mod options;
pub mod replay;
pub mod runloop;

use faultline_core::{CheckResult, Checker, History, Validity};
use serde_json::{json, Value};

/// Reads a stored sqlsmith history: any recorded divergence or oracle failure is invalid.
pub struct SqlsmithChecker;

impl Checker for SqlsmithChecker {
    fn name(&self) -> &str {
        "sqlsmith"
    }

    fn check(&self, history: &History) -> CheckResult {
        let mut found: Vec<Value> = Vec::new();
        let mut completed = 0u64;
        // Statements whose outcome is unknown (no answer / a fault error on the system
        // under test): recorded as info completions of a statement.
        let mut unknown = 0u64;
        for op in history
            .ops
            .iter()
            .filter(|o| o.is_client() && !o.is_invoke())
        {
            completed += 1;
            if op.is_info() && op.value.get("sut").is_some() {
                unknown += 1;
            }
            if let Some(d) = op.value.get("divergence").filter(|d| !d.is_null()) {
                found.push(
                    json!({ "f": op.f, "i": op.value["i"], "sql": op.value["sql"], "what": d }),
                );
            }
        }
        let (valid, summary) = if !found.is_empty() {
            (
                Validity::Invalid,
                format!("{} divergence(s) / oracle failure(s)", found.len()),
            )
        } else if completed == 0 {
            (Validity::Unknown, "no statement completed".to_string())
        } else {
            (
                Validity::Valid,
                format!(
                    "{completed} statement(s) and checks, {unknown} with an unknown outcome, no divergence"
                ),
            )
        };
        found.truncate(50);
        CheckResult::new(
            "sqlsmith",
            valid,
            summary,
            json!({ "findings": found, "unknown_outcomes": unknown }),
        )
    }
}
