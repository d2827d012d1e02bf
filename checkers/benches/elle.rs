//! Elle checker benchmark: generate list-append histories of 100,000 and 1,000,000
//! transactions to temporary JSON Lines files, then time parse + check from the file, print
//! peak RSS (VmHWM), and time the published `adya` crate on the same 100K file.
//!
//! `cargo bench -p faultline-checkers --bench elle`; `ELLE_BENCH_SIZES=100000,1000000`
//! picks sizes; `ELLE_BENCH_ADYA_1M=1` also times adya on the 1M history;
//! `ELLE_BENCH_OURS_ONLY=1` times only our checker on the valid histories (for profiling
//! and `/usr/bin/time -v`). Timings are printed, never asserted.
//!
//! Each history file is generated once, in the temp dir (`faultline-elle-bench-<n>-*.jsonl`,
//! about 36 MB per 100K transactions), and reused by later runs; delete it to regenerate.
//! The ten-million-transaction case (issue 14's streamed target) is
//! `ELLE_BENCH_OURS_ONLY=1 ELLE_BENCH_SIZES=10000000 cargo bench -p faultline-checkers --bench elle`:
//! its file is 4.3 GB (check `df -h /tmp` first; generating it takes about 25 s) and is
//! read as a stream of 4 MB blocks, never whole. With `FAULTLINE_ELLE_PROBE=1` the checker
//! prints its resident and peak memory after each stage (written index, version orders,
//! wr/rw edges, inference, graph, scc) to stderr.

use faultline_checkers::elle::gen::{self, GenOptions, Plant};
use faultline_checkers::elle::{ElleChecker, Workload};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn history_file(txns: usize, plants: &[Plant]) -> PathBuf {
    let tag = if plants.is_empty() {
        "valid"
    } else {
        "planted"
    };
    let path = std::env::temp_dir().join(format!("faultline-elle-bench-{txns}-{tag}.jsonl"));
    if !path.exists() {
        let t = Instant::now();
        let opts = GenOptions {
            txns,
            plants: plants.to_vec(),
            seed: 42,
            ..GenOptions::default()
        };
        let ops = gen::write_jsonl(&opts, &path).expect("write history");
        eprintln!(
            "generated {} ({ops} ops) in {:.2?}",
            path.display(),
            t.elapsed()
        );
    }
    path
}

/// Parses and checks `path` with our checker; returns the wall time.
fn ours(path: &Path, label: &str) -> Duration {
    let checker = ElleChecker::new(Workload::Append, "strict-serializable").expect("model");
    let t = Instant::now();
    let txns = faultline_checkers::elle::read_jsonl(path).expect("read history");
    let parsed = t.elapsed();
    eprintln!("parsed {label}: peak RSS {:.0} MiB", peak_rss_mib());
    let rss_parsed = peak_rss_mib();
    let a = checker.analyze(&txns);
    let total = t.elapsed();
    let mb = std::fs::metadata(path)
        .map(|m| m.len() as f64 / 1e6)
        .unwrap_or(0.0);
    println!(
        "faultline elle {label}: {} txns ({mb:.0} MB): parse {:.3} s + check {:.3} s (infer {} ms, graph+scc {} ms, cycles {} ms) = {:.3} s; verdict {}; anomalies {:?}; edges {:?}; peak RSS after parse {rss_parsed:.0} MiB, so far {:.0} MiB",
        txns.txns.len(),
        parsed.as_secs_f64(),
        (total - parsed).as_secs_f64(),
        a.stats.infer_ms,
        a.stats.graph_ms,
        a.stats.cycles_ms,
        total.as_secs_f64(),
        a.valid,
        a.counts,
        a.stats.edges,
        peak_rss_mib()
    );
    total
}

/// Parses and checks `path` with adya (same model); returns the wall time.
fn adya(path: &Path, label: &str) -> Duration {
    let t = Instant::now();
    let text = std::fs::read_to_string(path).expect("read history");
    let h = adya::History::from_json(&text).expect("adya parses our JSON Lines");
    let opts = adya::Opts {
        models: vec!["strict-serializable".into()],
        ..adya::Opts::default()
    };
    let r = adya::check(&h, adya::Workload::ListAppend, &opts);
    let total = t.elapsed();
    println!(
        "adya 0.1.0 {label}: parse + check {:.3} s; valid {:?}; anomaly types {:?}",
        total.as_secs_f64(),
        r.valid,
        r.anomaly_types
    );
    total
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this with no --bench flag.
    if !std::env::args().any(|a| a == "--bench") {
        println!("elle bench: skipped (run with cargo bench)");
        return;
    }
    let sizes: Vec<usize> = std::env::var("ELLE_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut results = Vec::new();
    for &n in &sizes {
        let valid = history_file(n, &[]);
        results.push((n, valid.clone(), ours(&valid, &format!("{n} valid"))));
    }
    if std::env::var_os("ELLE_BENCH_OURS_ONLY").is_some() {
        println!("peak RSS: {:.0} MiB (VmHWM)", peak_rss_mib());
        return;
    }
    let planted = history_file(100_000, &Plant::ALL);
    ours(&planted, "100000 with 6 planted anomalies");
    println!(
        "peak RSS of our checks: {:.0} MiB (VmHWM; the adya runs below come after)",
        peak_rss_mib()
    );

    for (n, path, our_time) in &results {
        if *n > 100_000 && std::env::var_os("ELLE_BENCH_ADYA_1M").is_none() {
            continue;
        }
        let theirs = adya(path, &format!("{n} valid"));
        println!(
            "ratio on {n} txns: adya {:.3} s / faultline {:.3} s = {:.1}x",
            theirs.as_secs_f64(),
            our_time.as_secs_f64(),
            theirs.as_secs_f64() / our_time.as_secs_f64()
        );
    }
    adya(&planted, "100000 with 6 planted anomalies");
}
