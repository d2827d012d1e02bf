//! Node logs, scanned: every `*.log` a system kept under `nodes/<node>/` is searched for the
//! patterns the system declared (test.json's `log_patterns`, or generic ones), with counts
//! per node and pattern and the lines around each hit, placed on the run's time axis where
//! the line carries a timestamp (MariaDB's `YYYY-MM-DD HH:MM:SS`, etcd's `"ts":"..."`).
//! A crash (a signal, an assertion, a panic) that no fault on that node explains (none was
//! active from a second before to five seconds after it) is a finding of its own:
//! `unexplained_crashes` in results.json. Offline: it needs the run folder alone.

use chrono::{DateTime, NaiveDateTime, Utc};
use faultline_core::log_pattern::generic_patterns;
use faultline_core::{FaultWindow, LogPattern, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Hits kept per node and severity (counts are always complete).
const KEEP: usize = 10;
const CONTEXT: usize = 2;
const WIDTH: usize = 240;

fn clip(s: &str) -> String {
    s.chars().take(WIDTH).collect()
}

/// The patterns test.json records, or the generic ones.
pub fn patterns_of(test: &Value) -> (Vec<LogPattern>, &'static str) {
    match serde_json::from_value::<Vec<LogPattern>>(test["log_patterns"].clone()) {
        Ok(p) if !p.is_empty() => (p, "system"),
        _ => (generic_patterns(), "generic"),
    }
}

/// The wall-clock time of a log line, if it starts with one or carries etcd's `ts`.
pub fn line_time(line: &str) -> Option<DateTime<Utc>> {
    if let Some(head) = line.get(..19) {
        if let Ok(t) = NaiveDateTime::parse_from_str(head, "%Y-%m-%d %H:%M:%S") {
            return Some(t.and_utc());
        }
    }
    // mariadbd's crash handler writes `YYMMDD HH:MM:SS`.
    if let Some(head) = line.get(..15) {
        if let Ok(t) = NaiveDateTime::parse_from_str(head, "%y%m%d %H:%M:%S") {
            return Some(t.and_utc());
        }
    }
    let rest = &line[line.find("\"ts\":\"")? + 6..];
    let ts = &rest[..rest.find('"')?];
    DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn on_node(w: &FaultWindow, node: &str) -> bool {
    match &w.nodes {
        Value::Array(a) => a.iter().any(|n| n.as_str() == Some(node)),
        Value::String(s) => s == node || s == "all",
        _ => false,
    }
}

/// Scans `dir/nodes`; `zero` is the wall-clock time of the history's t = 0.
pub fn scan(
    dir: &Path,
    patterns: &[LogPattern],
    zero: Option<DateTime<Utc>>,
    windows: &[FaultWindow],
) -> Value {
    let mut nodes = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut crashes = 0usize;
    let mut node_dirs: Vec<_> = std::fs::read_dir(dir.join("nodes"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_dir())
        .collect();
    node_dirs.sort_by_key(|e| e.file_name());
    for nd in node_dirs {
        let node = nd.file_name().to_string_lossy().into_owned();
        let mut files: Vec<_> = std::fs::read_dir(nd.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        files.sort();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut hits = Vec::new();
        let mut kept: BTreeMap<Severity, usize> = BTreeMap::new();
        for file in &files {
            let bytes = std::fs::read(file).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            for (i, line) in lines.iter().enumerate() {
                let Some(p) = patterns.iter().find(|p| line.contains(&p.needle)) else {
                    continue;
                };
                *counts.entry(p.name.clone()).or_default() += 1;
                let t_s = zero
                    .zip(line_time(line))
                    .map(|(z, t)| (t - z).num_milliseconds() as f64 / 1000.0);
                let explained_by: Vec<String> = match t_s {
                    Some(t) if p.severity == Severity::Crash => windows
                        .iter()
                        .filter(|w| on_node(w, &node))
                        .filter(|w| {
                            let from = w.start as f64 / 1e9 - 1.0;
                            let to = w.end.map_or(f64::INFINITY, |e| e as f64 / 1e9 + 5.0);
                            (from..=to).contains(&t)
                        })
                        .map(|w| w.fault.clone())
                        .collect(),
                    _ => Vec::new(),
                };
                let hit = json!({
                    "file": name,
                    "line": i + 1,
                    "pattern": p.name,
                    "severity": p.severity,
                    "t_s": t_s,
                    "text": clip(line),
                    "context": lines[i.saturating_sub(CONTEXT)..(i + CONTEXT + 1).min(lines.len())]
                        .iter().map(|l| clip(l)).collect::<Vec<_>>(),
                    "explained_by": explained_by,
                });
                if p.severity == Severity::Crash {
                    crashes += 1;
                    if explained_by.is_empty() {
                        unexplained.push(json!({ "node": node, "hit": hit.clone() }));
                    }
                }
                let k = kept.entry(p.severity).or_default();
                if *k < KEEP {
                    *k += 1;
                    hits.push(hit);
                }
            }
        }
        let files: Vec<String> = files
            .iter()
            .map(|f| {
                f.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        nodes.insert(
            node,
            json!({ "files": files, "counts": counts, "hits": hits }),
        );
    }
    json!({
        "nodes": nodes,
        "crashes": crashes,
        "unexplained_crashes": unexplained,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_core::log_pattern::generic_patterns;

    fn window(fault: &str, node: &str, from_s: u64, to_s: u64) -> FaultWindow {
        FaultWindow {
            fault: fault.into(),
            nodes: json!([node]),
            start: from_s * 1_000_000_000,
            end: Some(to_s * 1_000_000_000),
            ended_by_final_heal: false,
            error: None,
        }
    }

    #[test]
    fn crashes_inside_a_fault_are_explained_and_the_others_are_findings() {
        let dir = std::env::temp_dir().join(format!("fl-logscan-{}", std::process::id()));
        let n1 = dir.join("nodes/n1");
        let n2 = dir.join("nodes/n2");
        std::fs::create_dir_all(&n1).unwrap();
        std::fs::create_dir_all(&n2).unwrap();
        std::fs::write(
            n1.join("error.log"),
            "2026-12-02 10:00:01 0 [Note] Starting MariaDB\n\
             2026-12-02 10:00:12 0 [ERROR] WSREP: failed to open gcomm backend connection\n\
             2026-12-02 10:00:13 0 [Note] next\n\
             261202 10:00:20 [ERROR] mariadbd got signal 11 ;\n\
             2026-12-02 10:00:40 0 [ERROR] InnoDB: Assertion failure in file btr0cur.cc\n",
        )
        .unwrap();
        std::fs::write(
            n2.join("etcd.log"),
            "{\"level\":\"info\",\"ts\":\"2026-12-02T10:00:05.000Z\",\"msg\":\"ok\"}\n\
             panic: runtime error: index out of range\n",
        )
        .unwrap();
        std::fs::write(n2.join("my.cnf"), "panic: not a log file\n").unwrap();
        let zero = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // A kill of n1 from 30 s to 38 s explains the assertion at 40 s (within 5 s after).
        let windows = [
            window("random_kill", "n1", 30, 38),
            window("partition_one", "n2", 1, 3),
        ];
        let out = scan(&dir, &generic_patterns(), Some(zero), &windows);
        let n1 = &out["nodes"]["n1"];
        assert_eq!(n1["counts"]["[ERROR]"], 1, "{out:#}");
        assert_eq!(n1["counts"]["signal"], 1, "{out:#}");
        assert_eq!(n1["counts"]["assertion"], 1, "{out:#}");
        let hits = n1["hits"].as_array().unwrap();
        let assertion = hits.iter().find(|h| h["pattern"] == "assertion").unwrap();
        assert_eq!(assertion["t_s"], 40.0);
        assert_eq!(assertion["explained_by"], json!(["random_kill"]));
        assert_eq!(assertion["line"], 5);
        assert_eq!(assertion["context"].as_array().unwrap().len(), 3);
        let error = hits.iter().find(|h| h["pattern"] == "[ERROR]").unwrap();
        assert_eq!(error["t_s"], 12.0);
        let signal = hits.iter().find(|h| h["pattern"] == "signal").unwrap();
        assert_eq!(signal["t_s"], 20.0);
        // The signal at 20 s is outside n1's kill; the panic on n2 has no time (a Go panic
        // prints none), so nothing can explain it.
        assert_eq!(out["crashes"], 3);
        let unexplained: Vec<(String, String)> = out["unexplained_crashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["node"].as_str().unwrap().to_string(),
                    u["hit"]["pattern"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            unexplained,
            [
                ("n1".into(), "signal".into()),
                ("n2".into(), "panic".into())
            ]
        );
        assert_eq!(out["nodes"]["n2"]["files"], json!(["etcd.log"]));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn line_times_of_mariadb_and_etcd() {
        let t = line_time("2026-12-02 14:06:40 0 [Note] Starting MariaDB").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-02T14:06:40+00:00");
        let t = line_time(r#"{"level":"warn","ts":"2026-12-02T14:00:53.470Z","msg":"x"}"#).unwrap();
        assert_eq!(t.timestamp_millis() % 1000, 470);
        assert!(line_time("no time here").is_none());
    }

    #[test]
    fn a_run_without_patterns_uses_the_generic_ones() {
        let (p, from) = patterns_of(&json!({}));
        assert_eq!(from, "generic");
        assert!(p.iter().any(|p| p.needle == "got signal"));
        let test = json!({"log_patterns": [{"name": "x", "needle": "boom", "severity": "crash"}]});
        let (p, from) = patterns_of(&test);
        assert_eq!((p.len(), from), (1, "system"));
    }
}
