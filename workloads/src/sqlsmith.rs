//! `sqlsmith`: random SQL on the system under test, diffed against a reference server, plus
//! the metamorphic oracles TLP and NoREC, with reduced sqllogictest reproducers.
//!
//! A workload of the runner like any other ([`workload`]): the same run options, nemesis,
//! schedule, seed, store layout, recovery checker and report as `bank`. Each worker's client
//! (`--workers N`, one by default) runs its own statement stream ([`runloop`]: one
//! statement per op, executed on the system under test and on the reference, compared,
//! with the periodic snapshot and oracle checks), and the after-run hook reduces the
//! findings on the live servers. History values: invoke `{"i", "sql"}` (and `"w"`, the
//! worker, with more than one), completion `{"i", "sql", "sut", "ref", "divergence", "checks"}`.
//! Modules: [`workload`] (options, reference server, client, generator, after-run hook),
//! [`runloop`] (the statement stream), `options` (loop options, statistics, findings),
//! `bookkeeping` (the unknown-outcome rule, retired tables, snapshots), `findings`
//! (metamorphic checks, reduction of findings), [`exec`] (one statement on one server),
//! [`replay`] (replays, the reducer's checks, reproducer files), `snapshot` (a long
//! prefix replaced by the state it built), `report` (findings grouped
//! by signature), `bugs` (signatures grouped into bugs, one `repro/bug-<id>.md` each),
//! [`switches`] (which `optimizer_switch` flags clear a failure), `plan_dependent` (a
//! divergence that does not replay, reduced as the plan-dependent wrong result behind it). Generation, comparison and
//! reduction logic live in faultline-sqlsmith.

mod bookkeeping;
mod bugs;
pub mod exec;
mod findings;
pub mod options;
mod plan_dependent;
pub mod replay;
mod report;
pub mod runloop;
mod snapshot;
pub mod switches;
pub mod workload;

use faultline_harness::{BadArgs, Defaults, RunSpec, Sut, Workload, WorkloadDef};
pub use workload::SqlsmithOptions;

/// `sqlsmith`: the workload as the registry knows it.
pub struct Sqlsmith;

impl WorkloadDef for Sqlsmith {
    type Options = SqlsmithOptions;
    fn name(&self) -> &'static str {
        "sqlsmith"
    }
    fn about(&self) -> &'static str {
        "random SQL diffed against a reference server, TLP and NoREC; reduced reproducers"
    }
    fn defaults(&self) -> Defaults {
        Defaults {
            concurrency: Some("1"),
            op_interval_ms: Some("0"),
            // A statement's op includes its checks; each query has its own --stmt-timeout.
            op_timeout: Some("600"),
            // The run ends after --statements.
            time_limit: Some("86400"),
            ..Defaults::default()
        }
    }
    fn concurrency(&self, opts: &SqlsmithOptions) -> Option<usize> {
        Some(opts.workers.max(1) as usize)
    }
    fn validate(&self, opts: &SqlsmithOptions, spec: &RunSpec) -> Result<(), BadArgs> {
        opts.validate(spec)
    }
    fn build(
        &self,
        opts: &SqlsmithOptions,
        sut: &Sut,
        spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(workload::SqlsmithRun::new(opts, sut, spec)?))
    }
    fn checkers(&self, _opts: &SqlsmithOptions) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(SqlsmithChecker)])
    }
}

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
            // Snapshot and oracle checks run right after the statement.
            for c in op.value["checks"].as_array().into_iter().flatten() {
                if !c["divergence"].is_null() {
                    found.push(json!({ "f": c["f"], "i": c["i"], "sql": c["sql"], "table": c["table"], "what": c["divergence"] }));
                }
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
