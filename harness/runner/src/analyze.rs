//! Checking a history: every checker runs isolated, a panicking checker says Unknown; the
//! results, the summary and the report are written to the run folder. On a terminal a
//! spinner names the step at hand (`progress::steps`).

use crate::report;
use crate::summary::{summarize, Summary};
use faultline_core::{CheckResult, Checker, History, Validity};
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Runs each checker; a panic becomes an Unknown result, never a crash or an Invalid.
pub fn check_all(history: &History, checkers: &[Box<dyn Checker>]) -> Vec<CheckResult> {
    let n = checkers.len();
    checkers
        .iter()
        .enumerate()
        .map(|(k, c)| {
            crate::progress::step(&format!(
                "checking {} ops: {} ({} of {n})",
                history.ops.len(),
                c.name(),
                k + 1
            ));
            let started = std::time::Instant::now();
            let mut r = catch_unwind(AssertUnwindSafe(|| c.check(history))).unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                CheckResult::new(
                    c.name(),
                    Validity::Unknown,
                    format!("the checker crashed: {msg}"),
                    Value::Null,
                )
            });
            if let Some(o) = r.details.as_object_mut() {
                o.insert(
                    "check_time_s".into(),
                    json!(started.elapsed().as_secs_f64()),
                );
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
pub fn check_run_dir(
    dir: &Path,
    checkers: &[Box<dyn Checker>],
    extra: Value,
) -> anyhow::Result<Checked> {
    let _line = crate::progress::steps(&format!("reading {}", dir.join("history.jsonl").display()));
    let history: History = History::read(dir)?;
    let mut results = check_all(&history, checkers);
    crate::explain::annotate(&history, &mut results);
    crate::progress::step("scanning node logs, writing results.json and report.html");
    if history.truncated_tail {
        tracing::warn!(
            "the history's last line was cut off (the harness died mid-write); it was ignored"
        );
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
    let (patterns, _) = crate::logscan::patterns_of(&test);
    let zero = [&extra["history_started"], &test["started"]]
        .iter()
        .find_map(|t| t.as_str())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let windows = faultline_core::fault_windows(&history);
    let node_logs = crate::logscan::scan(dir, &patterns, zero, &windows);
    for u in node_logs["unexplained_crashes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        tracing::warn!(
            "a crash no fault explains on {}: {}",
            u["node"].as_str().unwrap_or(""),
            u["hit"]["text"].as_str().unwrap_or("")
        );
    }
    let results_json = json!({
        "valid": verdict,
        "results": results,
        "ops": summary.ops,
        "by_f": summary.by_f,
        "faults": summary.faults,
        "history_truncated": history.truncated_tail,
        "node_logs": node_logs,
        "run": extra,
    });
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results_json)? + "\n",
    )?;
    std::fs::write(
        dir.join("report.html"),
        report::render(
            &test,
            verdict,
            &results,
            &summary,
            &results_json["node_logs"],
            &history,
        ),
    )?;
    let name = test["spec"]["test"].as_str().unwrap_or("run");
    std::fs::write(dir.join("junit.xml"), crate::junit::render(name, &results))?;
    write_graphs(dir, &results)?;
    Ok(Checked {
        verdict,
        results,
        summary,
    })
}

/// Writes every Graphviz graph a checker put in its details (any object with a `dot`
/// string, e.g. one per explained Elle cycle) to `graphs/<checker>-<class>-<n>.dot`.
fn write_graphs(dir: &Path, results: &[CheckResult]) -> std::io::Result<()> {
    fn walk(v: &Value, class: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(o) => {
                if let Some(dot) = o.get("dot").and_then(Value::as_str) {
                    let class = o.get("class").and_then(Value::as_str).unwrap_or(class);
                    out.push((class.to_string(), dot.to_string()));
                }
                for (k, child) in o {
                    walk(child, k, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|child| walk(child, class, out)),
            _ => {}
        }
    }
    for r in results {
        let mut graphs = Vec::new();
        walk(&r.details, "graph", &mut graphs);
        if graphs.is_empty() {
            continue;
        }
        let folder = dir.join("graphs");
        std::fs::create_dir_all(&folder)?;
        let mut seen = std::collections::HashMap::new();
        for (class, dot) in graphs {
            let n = seen.entry(class.clone()).or_insert(0);
            *n += 1;
            let safe: String = class
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            std::fs::write(folder.join(format!("{}-{safe}-{n}.dot", r.checker)), dot)?;
        }
    }
    Ok(())
}

/// Prints the closing lines every run and analysis ends with.
pub fn print_verdict(verdict: Validity, results: &[CheckResult], seed: Option<u64>, dir: &Path) {
    for r in results {
        println!(
            "  {:<14} {:<8} {}",
            r.checker,
            r.valid.to_string(),
            r.summary
        );
        // A checker's diagnosis, when it has one: the likely cause and what to try.
        for key in ["cause", "faults", "hint"] {
            if let Some(line) = r.details.get(key).and_then(serde_json::Value::as_str) {
                println!("  {:<14} {key}: {line}", "");
            }
        }
    }
    println!("verdict: {verdict}");
    if let Some(seed) = seed {
        println!("seed: {seed}");
    }
    println!("store: {}", dir.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_in_checker_details_are_written_as_dot_files() {
        let dir = std::env::temp_dir().join(format!("fl-graphs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let results = vec![CheckResult::new(
            "elle",
            Validity::Invalid,
            "",
            json!({"anomalies": {"G-single": [{"class": "G-single", "dot": "digraph a {}"},
                                               {"class": "G-single", "dot": "digraph b {}"}],
                                 "G2-item": [{"dot": "digraph c {}"}]}}),
        )];
        write_graphs(&dir, &results).unwrap();
        let read = |n: &str| std::fs::read_to_string(dir.join("graphs").join(n)).unwrap();
        assert_eq!(read("elle-G-single-1.dot"), "digraph a {}");
        assert_eq!(read("elle-G-single-2.dot"), "digraph b {}");
        assert_eq!(read("elle-G2-item-1.dot"), "digraph c {}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
