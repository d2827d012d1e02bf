//! Runner overhead: the interpreter driving clients that do nothing, with the history on.
//!
//! `cargo bench -p faultline-harness --bench runner -- [OPS...]` (default 1000000 10000000)
//! runs, for each count, a phase of that many no-op ops over 2 workers (the machine's two
//! cores) and over 8, writing history.jsonl to a temp dir, and prints ops/s, the history's
//! size, and the process's peak RSS (VmHWM) after the phase. No checker runs: this is the
//! cost of the coordinator, the workers and the recorder alone.

use faultline_core::generator::{from_fn, limit};
use faultline_core::Invocation;
use faultline_harness::interpreter::{BoundClient, Interpreter, Recorder};
use faultline_harness::testkit::NoopClient;
use std::time::{Duration, Instant};

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![1_000_000, 10_000_000]
    } else {
        counts
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("fl-bench-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("ops        workers  seconds   ops/s      history MiB  peak RSS MiB");
    for &n in &counts {
        for workers in [2usize, 8] {
            let path = dir.join(format!("history-{n}-{workers}.jsonl"));
            let (_tx, cancel) = tokio::sync::watch::channel(false);
            let started = Instant::now();
            rt.block_on(async {
                let recorder = Recorder::create(&path).unwrap();
                let nodes: Vec<String> = vec!["n1".into()];
                let mut interp =
                    Interpreter::new(recorder, 1, nodes, workers, Duration::from_secs(5));
                let clients = (0..workers)
                    .map(|_| BoundClient {
                        node: "n1".into(),
                        client: Box::new(NoopClient),
                    })
                    .collect();
                let gen = limit(
                    n,
                    from_fn(|_| Invocation::new("noop", serde_json::Value::Null)),
                );
                interp.run_phase(gen, clients, None, cancel).await;
                interp.recorder.sync();
            });
            let secs = started.elapsed().as_secs_f64();
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;
            println!(
                "{n:<10} {workers:<8} {secs:<9.2} {:<10.0} {size:<12.0} {:.0}",
                n as f64 / secs,
                peak_rss_mib()
            );
            std::fs::remove_file(&path).ok();
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
