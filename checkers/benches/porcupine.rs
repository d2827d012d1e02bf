//! Linearizability check time on Porcupine's published histories, side by side with
//! Porcupine's own times from expected.csv (same kind of machine: 2 cores, GOMAXPROCS=2).
//!
//! `cargo bench -p faultline-checkers --bench porcupine [-- FILTER]`
//!
//! Each history is imported once, then checked repeatedly (at least 5 times and about
//! 150 ms per file, at most 500 runs); the table shows our min and median, Porcupine's min,
//! and the ratio Porcupine min / our min (above 1 means we are faster). Import time is not
//! counted, as Porcupine's times do not count parsing either. Verdicts are asserted. The last
//! line counts the rows at least 10x faster than Porcupine (issue 14's target) and names the
//! row with the smallest ratio.

use faultline_checkers::linearizable::{check, import, LinearizableOptions, ModelKind};
use faultline_core::{History, Validity};
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Row {
    file: String,
    model: String,
    linearizable: bool,
    porcupine_min_us: f64,
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/porcupine-test-data");
    let text = std::fs::read_to_string(dir.join("expected.csv")).expect("expected.csv");
    let rows: Vec<Row> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("file,") && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            Row {
                file: c[0].into(),
                model: c[1].into(),
                linearizable: c[4] == "true",
                porcupine_min_us: c[5].parse().unwrap(),
            }
        })
        .filter(|r| filter.as_ref().is_none_or(|f| r.file.contains(f.as_str())))
        .collect();

    println!(
        "{:<24} {:<24} {:>12} {:>12} {:>14} {:>8}",
        "file", "model", "ours min us", "ours med us", "porcupine us", "ratio"
    );
    let mut etcd_ours = 0.0;
    let mut etcd_theirs = 0.0;
    let mut kv_ours = 0.0;
    let mut kv_theirs = 0.0;
    let mut heavy = Vec::new();
    let mut meeting = 0;
    let mut worst: Option<(f64, String)> = None;
    for row in &rows {
        let path = dir.join(&row.file);
        let (history, model): (History, ModelKind) = match row.model.as_str() {
            "etcd-cas-register" => (
                import::porcupine_etcd(&path).unwrap(),
                ModelKind::CasRegister,
            ),
            "kv-append-partitioned" => (import::porcupine_kv(&path).unwrap(), ModelKind::Kv),
            _ => (
                import::porcupine_kv(&path).unwrap(),
                ModelKind::KvUnpartitioned,
            ),
        };
        let opts = LinearizableOptions {
            model,
            ..Default::default()
        };
        let want = if row.linearizable {
            Validity::Valid
        } else {
            Validity::Invalid
        };
        let mut times = Vec::new();
        let started = Instant::now();
        while times.len() < 5
            || (started.elapsed() < Duration::from_millis(150) && times.len() < 500)
        {
            let t = Instant::now();
            let r = check(&history, &opts);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            assert_eq!(r.valid, want, "{}: wrong verdict", row.file);
        }
        times.sort_by(f64::total_cmp);
        let (min, med) = (times[0], times[times.len() / 2]);
        let ratio = row.porcupine_min_us / min;
        println!(
            "{:<24} {:<24} {:>12.0} {:>12.0} {:>14.0} {:>7.1}x",
            row.file, row.model, min, med, row.porcupine_min_us, ratio
        );
        if ratio >= 10.0 {
            meeting += 1;
        }
        if worst.as_ref().is_none_or(|(r, _)| ratio < *r) {
            worst = Some((ratio, format!("{} ({})", row.file, row.model)));
        }
        if row.file.starts_with("jepsen/") {
            etcd_ours += min;
            etcd_theirs += row.porcupine_min_us;
        } else if row.model == "kv-append-partitioned" {
            kv_ours += min;
            kv_theirs += row.porcupine_min_us;
        }
        if row.porcupine_min_us >= 100_000.0 {
            heavy.push((
                row.file.clone(),
                row.model.clone(),
                min,
                row.porcupine_min_us,
            ));
        }
    }
    println!();
    if etcd_theirs > 0.0 {
        println!(
            "total etcd set:          ours {:>9.1} ms   porcupine {:>9.1} ms   ratio {:.1}x",
            etcd_ours / 1e3,
            etcd_theirs / 1e3,
            etcd_theirs / etcd_ours
        );
    }
    if kv_theirs > 0.0 {
        println!(
            "total kv (partitioned):  ours {:>9.1} ms   porcupine {:>9.1} ms   ratio {:.1}x",
            kv_ours / 1e3,
            kv_theirs / 1e3,
            kv_theirs / kv_ours
        );
    }
    for (file, model, ours, theirs) in heavy {
        let verdict = if theirs / ours >= 3.0 {
            "meets"
        } else {
            "MISSES"
        };
        println!(
            "heavy {file} ({model}): {:.1} ms vs {:.1} ms, {:.1}x ({verdict} the 3x target)",
            ours / 1e3,
            theirs / 1e3,
            theirs / ours
        );
    }
    if let Some((ratio, file)) = worst {
        println!(
            "10x target: {meeting} of {} rows at least 10x faster than Porcupine; minimum ratio {ratio:.1}x on {file}",
            rows.len()
        );
    }
}
