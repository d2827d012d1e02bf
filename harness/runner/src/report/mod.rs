//! report.html: one self-contained file (inline CSS and SVG, no script, no network) with the
//! verdict, the options and seed, each checker's result, op counts per function, the fault
//! windows, and a plot of completions per second with the fault windows shaded.
//!
//! A checker may put a ready-made HTML fragment (e.g. a counterexample timeline) under
//! `details.html` of its result; it is embedded as is. Everything else is escaped.
//! Templates are plain `format!` (no template engine: one page does not pay for the compile
//! time on two cores).

use crate::summary::Summary;
use faultline_core::{CheckResult, Validity};
use html_escape::encode_text as esc;
use serde_json::Value;
use std::fmt::Write;

pub fn render(
    test: &Value,
    verdict: Validity,
    checks: &[CheckResult],
    summary: &Summary,
    node_logs: &Value,
) -> String {
    let mut h = String::new();
    let title = format!(
        "{} {} — {}",
        test["spec"]["test"].as_str().unwrap_or("run"),
        test["started"].as_str().unwrap_or(""),
        verdict
    );
    let _ = write!(
        h,
        "<!doctype html><html><head><meta charset=utf-8><title>{}</title><style>{CSS}</style></head><body>",
        esc(&title)
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p class='verdict {verdict}'>{}</p>",
        esc(test["spec"]["test"].as_str().unwrap_or("run")),
        verdict.to_string().to_uppercase()
    );
    let _ = write!(
        h,
        "<p>seed <code>{}</code> · started {} · {} ops in {:.1}s</p>",
        test["spec"]["seed"],
        esc(test["started"].as_str().unwrap_or("")),
        summary.ops,
        summary.duration_s
    );

    h.push_str("<h2>Checkers</h2>");
    for c in checks {
        let _ = write!(
            h,
            "<div class='check'><h3>{} <span class='verdict {}'>{}</span></h3><p>{}</p>",
            esc(&c.checker),
            c.valid,
            c.valid,
            esc(&c.summary)
        );
        if let Some(fragment) = c.details.get("html").and_then(Value::as_str) {
            h.push_str(fragment);
        }
        let mut details = c.details.clone();
        if let Some(o) = details.as_object_mut() {
            o.remove("html");
        }
        let mut text = serde_json::to_string_pretty(&details).unwrap_or_default();
        if text.len() > 200_000 {
            text.truncate(200_000);
            text.push_str("\n… (truncated; see results.json)");
        }
        let _ = write!(
            h,
            "<details><summary>details</summary><pre>{}</pre></details></div>",
            esc(&text)
        );
    }

    h.push_str("<h2>Operations</h2><table><tr><th>f</th><th>ok</th><th>fail</th><th>info</th><th>never completed</th></tr>");
    for (f, c) in &summary.by_f {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(f),
            c.ok,
            c.fail,
            c.info,
            c.open
        );
    }
    h.push_str("</table>");
    h.push_str(&plot(summary));

    h.push_str("<h2>Faults</h2>");
    if summary.faults.is_empty() {
        h.push_str("<p>none</p>");
    } else {
        h.push_str("<table><tr><th>fault</th><th>nodes</th><th>start (s)</th><th>end (s)</th><th>error</th></tr>");
        for w in &summary.faults {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{}</td></tr>",
                esc(&w.fault),
                esc(&w.nodes.to_string()),
                w.start_s,
                w.stop_s.map_or("final heal".into(), |s| format!("{s:.2}")),
                esc(w.error.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</table>");
    }

    h.push_str(&node_logs_section(node_logs));

    let _ = write!(
        h,
        "<h2>Test</h2><pre>{}</pre></body></html>",
        esc(&serde_json::to_string_pretty(test).unwrap_or_default())
    );
    h
}

/// The strings of a JSON array (none when it is not one).
fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Node logs: counts per node and pattern, then each kept hit with the lines around it and
/// its time on the run's axis; a crash no fault explains is marked as a finding.
fn node_logs_section(logs: &Value) -> String {
    let mut h = String::from("<h2>Node logs</h2>");
    let Some(nodes) = logs["nodes"].as_object().filter(|n| !n.is_empty()) else {
        h.push_str("<p>no node log was kept</p>");
        return h;
    };
    let unexplained = logs["unexplained_crashes"].as_array().map_or(0, Vec::len);
    if unexplained > 0 {
        let _ = write!(
            h,
            "<p class='verdict invalid'>{unexplained} crash(es) that no fault explains</p>"
        );
    }
    h.push_str("<table><tr><th>node</th><th>files</th><th>matches</th></tr>");
    for (node, n) in nodes {
        let counts: Vec<String> = n["counts"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let files = strings(&n["files"]);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(node),
            esc(&files.join(", ")),
            esc(&if counts.is_empty() {
                "none".into()
            } else {
                counts.join(", ")
            })
        );
    }
    h.push_str("</table>");
    for (node, n) in nodes {
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
            let context = strings(&hit["context"]);
            let _ = write!(
                h,
                "<details><summary>{} {}:{} {} {}{}</summary><pre>{}</pre></details>",
                esc(node),
                esc(hit["file"].as_str().unwrap_or("")),
                hit["line"],
                esc(hit["pattern"].as_str().unwrap_or("")),
                esc(&at),
                esc(&why),
                esc(&context.join("\n"))
            );
        }
    }
    h
}

/// Completions per second (ok green, fail red, info orange), fault windows shaded.
fn plot(s: &Summary) -> String {
    let (w, ht, left, bottom) = (900.0, 180.0, 40.0, 20.0);
    let secs = s.per_second.len().max(1) as f64;
    let max = s
        .per_second
        .iter()
        .map(|(a, b, c)| a + b + c)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |t: f64| left + (w - left) * t / secs;
    let y = |v: f64| (ht - bottom) * (1.0 - v / max);
    let mut svg = format!(
        "<h3>Completions per second</h3><svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{ht}' class='plot'>"
    );
    for f in &s.faults {
        let end = f.stop_s.unwrap_or(secs);
        let _ = write!(
            svg,
            "<rect x='{:.1}' y='0' width='{:.1}' height='{:.1}' fill='#999' opacity='0.25'><title>{} {}</title></rect>",
            x(f.start_s),
            (x(end) - x(f.start_s)).max(1.0),
            ht - bottom,
            esc(&f.fault),
            esc(&f.nodes.to_string())
        );
    }
    let bw = ((w - left) / secs).max(1.0);
    for (i, (ok, fail, info)) in s.per_second.iter().enumerate() {
        let mut base = 0.0;
        for (v, color) in [(*ok, "#2a2"), (*fail, "#c33"), (*info, "#e90")] {
            if v == 0 {
                continue;
            }
            let top = base + v as f64;
            let _ = write!(
                svg,
                "<rect x='{:.1}' y='{:.1}' width='{:.1}' height='{:.1}' fill='{color}'/>",
                x(i as f64),
                y(top),
                bw * 0.9,
                y(base) - y(top)
            );
            base = top;
        }
    }
    let _ = write!(
        svg,
        "<text x='2' y='12' font-size='10'>{max}</text><text x='2' y='{:.0}' font-size='10'>0</text><text x='{:.0}' y='{:.0}' font-size='10'>{secs:.0}s</text></svg>",
        ht - bottom,
        w - 30.0,
        ht - 4.0
    );
    svg
}

const CSS: &str = "body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}
.verdict{font-weight:bold;padding:2px 8px;border-radius:4px}
p.verdict{font-size:2em;display:inline-block}
.valid{background:#cfc}.invalid{background:#fcc}.unknown{background:#ffc}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:400px}
.check{border-left:4px solid #ddd;padding-left:1em;margin:1em 0}";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn report_escapes_and_embeds_checker_fragments() {
        let checks = vec![CheckResult::new(
            "bank",
            Validity::Invalid,
            "1 bad read <script>",
            json!({"html": "<svg id='cx'></svg>", "n": 1}),
        )];
        let test = json!({"spec": {"test": "bank", "seed": 7}, "started": "now"});
        let s = Summary::default();
        let logs = json!({"nodes": {"n1": {"files": ["error.log"], "counts": {"signal": 1},
            "hits": [{"file": "error.log", "line": 4, "pattern": "signal", "severity": "crash",
                      "t_s": 20.0, "text": "x", "context": ["a <b>", "mariadbd got signal 11"],
                      "explained_by": []}]}},
            "crashes": 1, "unexplained_crashes": [{"node": "n1"}]});
        let html = render(&test, Validity::Invalid, &checks, &s, &logs);
        assert!(
            html.contains("1 crash(es) that no fault explains"),
            "{html}"
        );
        assert!(
            html.contains("n1 error.log:4 signal at 20.0 s — no fault explains it"),
            "{html}"
        );
        assert!(
            html.contains("a &lt;b&gt;\nmariadbd got signal 11"),
            "{html}"
        );
        let none = render(&test, Validity::Invalid, &checks, &s, &json!({}));
        assert!(none.contains("no node log was kept"));
        assert!(html.contains("INVALID"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<svg id='cx'></svg>"));
        assert!(!html.contains("http://") || !html.contains("<script"));
    }
}
