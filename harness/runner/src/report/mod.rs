//! report.html: one self-contained file (inline CSS and SVG, no script, no network),
//! readable in a minute:
//! - a verdict banner with each checker's cause and hint and the command that replays the
//!   run (`--seed`);
//! - latency (a point per op, log scale) and throughput per op type and outcome, every fault
//!   window shaded and labelled with its fault and nodes ([`plot`], data from [`series`]);
//! - a lane per node: killed, paused, cut off, skewed, served again ([`lanes`]);
//! - per anomaly a timeline of its ops and those around them, one row per process, and Elle
//!   cycles drawn ([`anomalies`], [`timeline`], [`cycle`]);
//! - the checkers, op counts, fault windows, node-log hits (marked `L<n>` on the lanes, so
//!   on the time axis) and test.json.
//!
//! The SVG comes from plotters (SVG backend, text left to the browser); the page from a
//! minijinja template (`page.html`, escaping on). Bounded whatever the history's size:
//! [`series::MAX_POINTS`] latency points, [`anomalies::MAX_TIMELINES`] timelines of
//! [`timeline::MAX_OPS`] ops. A checker may put a ready-made HTML fragment under
//! `details.html` of its result (the linearizable checker's counterexample); it is embedded
//! as is. Everything else is escaped.

pub mod anomalies;
pub mod cycle;
pub mod lanes;
pub mod plot;
pub mod series;
pub mod timeline;

#[cfg(test)]
mod tests;

use crate::summary::Summary;
use faultline_core::{CheckResult, History, Validity};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct Cause {
    checker: String,
    valid: String,
    summary: String,
    cause: Option<String>,
    faults: Option<String>,
    hint: Option<String>,
}

#[derive(Serialize)]
struct Check {
    checker: String,
    valid: String,
    summary: String,
    fragment: Option<String>,
    details: String,
}

#[derive(Serialize)]
struct Panel {
    f: String,
    svg: String,
}

#[derive(Serialize)]
struct Hit {
    n: usize,
    node: String,
    file: String,
    line: Value,
    pattern: String,
    at: String,
    why: String,
    context: String,
}

#[derive(Serialize)]
struct NodeRow {
    node: String,
    files: String,
    counts: String,
}

#[derive(Serialize)]
struct Fault {
    fault: String,
    nodes: String,
    start: String,
    end: String,
    error: String,
}

#[derive(Serialize)]
struct Page {
    title: String,
    test: String,
    verdict: String,
    started: String,
    seed: String,
    replay: String,
    ops: usize,
    duration: String,
    causes: Vec<Cause>,
    checks: Vec<Check>,
    by_f: Vec<(String, crate::summary::Counts)>,
    latency: Vec<Panel>,
    rate: Vec<Panel>,
    points_note: String,
    lanes: Option<String>,
    anomalies: Vec<anomalies::AnomalyView>,
    faults: Vec<Fault>,
    logs_kept: bool,
    unexplained: usize,
    log_nodes: Vec<NodeRow>,
    hits: Vec<Hit>,
    test_json: String,
}

/// The strings of a JSON array (none when it is not one).
fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The node-log hits, numbered in page order (the `L<n>` marks on the lanes).
fn hits(logs: &Value) -> Vec<Hit> {
    let mut out = Vec::new();
    for (node, n) in logs["nodes"].as_object().into_iter().flatten() {
        for hit in n["hits"].as_array().into_iter().flatten() {
            let at = hit["t_s"]
                .as_f64()
                .map_or("time unknown".into(), |t| format!("at {t:.1} s"));
            let faults = strings(&hit["explained_by"]);
            let why = if !faults.is_empty() {
                format!(" (during {})", faults.join(", "))
            } else if hit["severity"] == "crash" {
                " — no fault explains it".into()
            } else {
                String::new()
            };
            out.push(Hit {
                n: out.len() + 1,
                node: node.clone(),
                file: hit["file"].as_str().unwrap_or("").to_string(),
                line: hit["line"].clone(),
                pattern: hit["pattern"].as_str().unwrap_or("").to_string(),
                at,
                why,
                context: strings(&hit["context"]).join("\n"),
            });
        }
    }
    out
}

fn log_marks(logs: &Value) -> Vec<lanes::LogMark> {
    let mut out = Vec::new();
    for (node, n) in logs["nodes"].as_object().into_iter().flatten() {
        for hit in n["hits"].as_array().into_iter().flatten() {
            let n = out.len() + 1;
            if let Some(t_s) = hit["t_s"].as_f64() {
                out.push(lanes::LogMark {
                    n,
                    node: node.clone(),
                    t_s,
                    severity: hit["severity"].as_str().unwrap_or("").to_string(),
                });
            } else {
                out.push(lanes::LogMark {
                    n,
                    node: String::new(),
                    t_s: 0.0,
                    severity: String::new(),
                });
            }
        }
    }
    out.retain(|m| !m.node.is_empty());
    out
}

fn describe_nodes(v: &Value) -> String {
    match v {
        Value::Array(a) if a.iter().all(Value::is_string) => strings(v).join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn or_warn(what: &str, r: Result<String, String>) -> Option<String> {
    r.map_err(|e| tracing::warn!("report: drawing the {what} failed: {e}"))
        .ok()
}

/// The whole page for a checked history.
pub fn render(
    test: &Value,
    verdict: Validity,
    checks: &[CheckResult],
    summary: &Summary,
    node_logs: &Value,
    history: &History,
) -> String {
    let name = test["spec"]["test"].as_str().unwrap_or("run").to_string();
    let started = test["started"].as_str().unwrap_or("").to_string();
    let seed = test["spec"]["seed"].to_string();
    let replay = test["spec"]["replay"].as_str().map_or_else(
        || format!("faultline run {name} -- <the options in test.json> --seed {seed}"),
        str::to_string,
    );
    let bands: Vec<plot::Band> = summary
        .faults
        .iter()
        .map(|w| plot::Band {
            start_s: w.start_s,
            end_s: w.stop_s.unwrap_or(summary.duration_s),
            label: format!("{} {}", w.fault, describe_nodes(&w.nodes)),
            kind: plot::FaultKind::of(&w.fault),
        })
        .collect();
    let s = series::series(history, summary.duration_s);
    let mut latency = Vec::new();
    let mut rate = Vec::new();
    for (f, one) in &s.by_f {
        if let Some(svg) = or_warn("latency plot", plot::latency_panel(f, one, &s, &bands)) {
            latency.push(Panel { f: f.clone(), svg });
        }
        if let Some(svg) = or_warn("throughput plot", plot::rate_panel(f, one, &s, &bands)) {
            rate.push(Panel { f: f.clone(), svg });
        }
    }
    let mut points_note = format!("{} completed ops", s.completed);
    if s.drawn < s.completed {
        points_note += &format!(
            ", {} points drawn (downsampled past {}: one per op type, outcome and pixel cell, then every k-th)",
            s.drawn,
            series::MAX_POINTS
        );
    }
    if !s.omitted_f.is_empty() {
        points_note += &format!("; op types not drawn: {}", s.omitted_f.join(", "));
    }
    let marks = log_marks(node_logs);
    let nodes = lanes::nodes_of(history, &summary.faults, &marks);
    let recovery = checks
        .iter()
        .find(|c| c.checker == "recovery")
        .map(|c| &c.details);
    let lanes = (!nodes.is_empty())
        .then(|| {
            or_warn(
                "node lanes",
                lanes::lanes(
                    history,
                    &nodes,
                    &summary.faults,
                    recovery,
                    &marks,
                    s.duration_s,
                    s.bucket_s,
                ),
            )
        })
        .flatten();
    let checks_view = checks
        .iter()
        .map(|c| {
            let mut details = c.details.clone();
            if let Some(o) = details.as_object_mut() {
                o.remove("html");
            }
            let mut text = serde_json::to_string_pretty(&details).unwrap_or_default();
            if text.len() > 200_000 {
                let mut cut = 200_000;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str("\n… (truncated; see results.json)");
            }
            Check {
                checker: c.checker.clone(),
                valid: c.valid.to_string(),
                summary: c.summary.clone(),
                fragment: c
                    .details
                    .get("html")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                details: text,
            }
        })
        .collect();
    let causes = checks
        .iter()
        .filter(|c| {
            c.valid != Validity::Valid || c.details.get("cause").is_some_and(|v| !v.is_null())
        })
        .map(|c| Cause {
            checker: c.checker.clone(),
            valid: c.valid.to_string(),
            summary: c.summary.clone(),
            cause: c.details["cause"].as_str().map(str::to_string),
            faults: c.details["faults"].as_str().map(str::to_string),
            hint: c.details["hint"].as_str().map(str::to_string),
        })
        .collect();
    let log_nodes = node_logs["nodes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(node, n)| {
            let counts: Vec<String> = n["counts"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            NodeRow {
                node: node.clone(),
                files: strings(&n["files"]).join(", "),
                counts: if counts.is_empty() {
                    "none".into()
                } else {
                    counts.join(", ")
                },
            }
        })
        .collect::<Vec<_>>();
    let page = Page {
        title: format!("{name} {started} — {verdict}"),
        test: name,
        verdict: verdict.to_string(),
        started,
        seed,
        replay,
        ops: summary.ops,
        duration: format!("{:.1}", summary.duration_s),
        causes,
        checks: checks_view,
        by_f: summary.by_f.clone().into_iter().collect(),
        latency,
        rate,
        points_note,
        lanes,
        anomalies: anomalies::anomalies(history, checks),
        faults: summary
            .faults
            .iter()
            .map(|w| Fault {
                fault: w.fault.clone(),
                nodes: describe_nodes(&w.nodes),
                start: format!("{:.2}", w.start_s),
                end: w.stop_s.map_or("final heal".into(), |s| format!("{s:.2}")),
                error: w.error.clone().unwrap_or_default(),
            })
            .collect(),
        logs_kept: !log_nodes.is_empty(),
        unexplained: node_logs["unexplained_crashes"]
            .as_array()
            .map_or(0, Vec::len),
        log_nodes,
        hits: hits(node_logs),
        test_json: serde_json::to_string_pretty(test).unwrap_or_default(),
    };
    let mut env = minijinja::Environment::new();
    let rendered = env
        .add_template("page.html", include_str!("page.html"))
        .and_then(|()| env.add_template("style.css", include_str!("style.css")))
        .and_then(|()| {
            env.get_template("page.html")?
                .render(minijinja::value::Serde(&page))
        });
    rendered.unwrap_or_else(|e| {
        format!(
            "<!doctype html><meta charset=utf-8><p>the report template failed: {}</p>",
            html_escape::encode_text(&e.to_string())
        )
    })
}
