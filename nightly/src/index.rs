//! store/index.html: every run of a store, newest first, with its test, time, verdict, seed,
//! faults, op counts and anomalies, and links to its report, results and history. Read from
//! each run folder's test.json and results.json alone; a folder without results.json (a run
//! under way, or one whose harness died) is listed as unfinished.

use html_escape::encode_text as esc;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One stored run, as the index shows it.
#[derive(Debug)]
pub struct IndexedRun {
    pub test: String,
    /// The run folder's name (its UTC start time).
    pub stamp: String,
    /// The folder relative to the store.
    pub rel: PathBuf,
    pub verdict: String,
    pub seed: Option<u64>,
    pub faults: Vec<String>,
    pub ops: u64,
    pub anomalies: Vec<String>,
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// Every run folder under `store` (`<test>/<stamp>/test.json`), newest first.
pub fn scan(store: &Path) -> std::io::Result<Vec<IndexedRun>> {
    let mut runs = vec![];
    for test in std::fs::read_dir(store)? {
        let test = test?;
        let name = test.file_name().to_string_lossy().into_owned();
        if name == "latest" || name == "suites" || !test.file_type()?.is_dir() {
            continue;
        }
        for run in std::fs::read_dir(test.path())? {
            let run = run?;
            let stamp = run.file_name().to_string_lossy().into_owned();
            if stamp == "latest" || !run.file_type()?.is_dir() {
                continue;
            }
            let Some(spec) = read_json(&run.path().join("test.json")) else {
                continue;
            };
            let results = read_json(&run.path().join("results.json")).unwrap_or(Value::Null);
            let mut anomalies = vec![];
            for r in results["results"].as_array().into_iter().flatten() {
                if r["valid"] != "invalid" {
                    continue;
                }
                match r["details"]["anomaly_types"].as_array() {
                    Some(a) => {
                        anomalies.extend(a.iter().filter_map(|t| t.as_str().map(String::from)))
                    }
                    None => anomalies.push(r["checker"].as_str().unwrap_or("?").to_string()),
                }
            }
            let mut faults: Vec<String> = results["faults"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["fault"].as_str().map(String::from))
                .collect();
            faults.dedup();
            runs.push(IndexedRun {
                test: name.clone(),
                rel: Path::new(&name).join(&stamp),
                stamp,
                verdict: results["valid"]
                    .as_str()
                    .unwrap_or("unfinished")
                    .to_string(),
                seed: spec["spec"]["seed"].as_u64(),
                faults,
                ops: results["ops"].as_u64().unwrap_or(0),
                anomalies,
            });
        }
    }
    runs.sort_by(|a, b| b.stamp.cmp(&a.stamp).then_with(|| a.test.cmp(&b.test)));
    Ok(runs)
}

/// Writes `store/index.html`; returns its path and how many runs it lists.
pub fn write_index(store: &Path) -> std::io::Result<(PathBuf, usize)> {
    let runs = scan(store)?;
    let mut rows = String::new();
    for r in &runs {
        let rel = r.rel.display().to_string();
        let link = |file: &str, text: &str| {
            format!(
                "<a href=\"{}/{file}\">{text}</a>",
                html_escape::encode_double_quoted_attribute(&rel)
            )
        };
        rows += &format!(
            "<tr class=\"{v}\"><td>{test}</td><td>{stamp}</td><td>{v}</td><td>{seed}</td><td>{faults}</td><td>{ops}</td><td>{anomalies}</td><td>{} {} {}</td></tr>\n",
            link("report.html", "report"),
            link("results.json", "results"),
            link("history.jsonl", "history"),
            v = esc(&r.verdict),
            test = esc(&r.test),
            stamp = esc(&r.stamp),
            seed = r.seed.map_or("-".into(), |s| s.to_string()),
            faults = esc(&r.faults.join(", ")),
            ops = r.ops,
            anomalies = esc(&r.anomalies.join(", ")),
        );
    }
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>faultline runs</title>\n<style>body{{font-family:sans-serif}}td,th{{padding:2px 8px;text-align:left}}tr.invalid{{background:#fdd}}tr.unknown{{background:#ffd}}</style></head>\n<body><h1>faultline runs ({n})</h1>\n<table>\n<tr><th>test</th><th>time (UTC)</th><th>verdict</th><th>seed</th><th>faults</th><th>ops</th><th>anomalies</th><th>evidence</th></tr>\n{rows}</table></body></html>\n",
        n = runs.len()
    );
    let path = store.join("index.html");
    std::fs::write(&path, html)?;
    Ok((path, runs.len()))
}
