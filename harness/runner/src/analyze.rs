//! Checking a history: every checker runs isolated, a panicking checker says Unknown; the
//! results, the summary and the report are written to the run folder.

use crate::report;
use crate::summary::{summarize, Summary};
use faultline_core::{CheckResult, Checker, History, Validity};
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Runs each checker; a panic becomes an Unknown result, never a crash or an Invalid.
pub fn check_all(history: &History, checkers: &[Box<dyn Checker>]) -> Vec<CheckResult> {
    checkers
        .iter()
        .map(|c| {
            let started = std::time::Instant::now();
            let mut r = catch_unwind(AssertUnwindSafe(|| c.check(history))).unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                CheckResult::new(c.name(), Validity::Unknown, format!("the checker crashed: {msg}"), Value::Null)
            });
            if let Some(o) = r.details.as_object_mut() {
                o.insert("check_time_s".into(), json!(started.elapsed().as_secs_f64()));
            }
            r
        })
        .collect()
}

/// What checking a run produced.
pub struct Checked {
    pub verdict: Validity,
    pub results: Vec<CheckResult>,
    pub summary: Summary,
}

/// Checks the history in `dir`, writes results.json and report.html there.
pub fn check_run_dir(dir: &Path, checkers: &[Box<dyn Checker>], extra: Value) -> anyhow::Result<Checked> {
    let history: History = History::read(dir)?;
    let mut results = check_all(&history, checkers);
    if history.truncated_tail {
        tracing::warn!("the history's last line was cut off (the harness died mid-write); it was ignored");
    }
    if !history.ops.iter().any(|o| o.is_client()) {
        results.push(CheckResult::new(
            "history",
            Validity::Unknown,
            "the history holds no client op",
            Value::Null,
        ));
    }
    let verdict = CheckResult::merged(&results);
    let summary = summarize(&history);
    let test: Value = std::fs::read_to_string(dir.join("test.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let results_json = json!({
        "valid": verdict,
        "results": results,
        "ops": summary.ops,
        "by_f": summary.by_f,
        "faults": summary.faults,
        "history_truncated": history.truncated_tail,
        "run": extra,
    });
    std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(&results_json)? + "\n")?;
    std::fs::write(dir.join("report.html"), report::render(&test, verdict, &results, &summary))?;
    let name = test["spec"]["test"].as_str().unwrap_or("run");
    std::fs::write(dir.join("junit.xml"), crate::junit::render(name, &results))?;
    Ok(Checked { verdict, results, summary })
}

/// Prints the closing lines every run and analysis ends with.
pub fn print_verdict(verdict: Validity, results: &[CheckResult], seed: Option<u64>, dir: &Path) {
    for r in results {
        println!("  {:<14} {:<8} {}", r.checker, r.valid.to_string(), r.summary);
    }
    println!("verdict: {verdict}");
    if let Some(seed) = seed {
        println!("seed: {seed}");
    }
    println!("store: {}", dir.display());
}
