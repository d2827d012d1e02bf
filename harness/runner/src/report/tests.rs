use super::*;
use faultline_core::Checker;
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
    let h = History::new(Vec::new());
    let html = render(&test, Validity::Invalid, &checks, &s, &logs, &h);
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
    let none = render(&test, Validity::Invalid, &checks, &s, &json!({}), &h);
    assert!(none.contains("no node log was kept"));
    assert!(html.contains("INVALID"));
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("<svg id='cx'></svg>"));
    assert!(!html.contains("<script"));
}

use faultline_core::{Op, OpType, Process};

/// A synthetic history: `n` client ops (read / write, mostly ok, some fail and info) over
/// `secs` seconds on 5 processes and 3 nodes, and a kill of n2 in its middle third.
fn synthetic(n: usize, secs: f64) -> History {
    let mut ops = Vec::with_capacity(2 * n + 3);
    let step = (secs * 1e9 / n as f64) as u64;
    let mut push =
        |time: u64, process: Process, kind: OpType, f: &str, value: Value, node: Option<&str>| {
            let index = ops.len() as u64;
            ops.push(Op {
                index,
                time,
                process,
                kind,
                f: f.to_string(),
                value,
                node: node.map(str::to_string),
                error: None,
            });
        };
    let fault_at = (secs / 3.0 * 1e9) as u64;
    let fault_end = (secs * 2.0 / 3.0 * 1e9) as u64;
    let mut started = false;
    let mut stopped = false;
    for i in 0..n {
        let t = i as u64 * step;
        if !started && t >= fault_at {
            push(
                t,
                Process::Nemesis,
                OpType::Info,
                "start",
                json!({"fault": "random_kill", "nodes": ["n2"]}),
                None,
            );
            started = true;
        }
        if !stopped && t >= fault_end {
            push(
                t,
                Process::Nemesis,
                OpType::Info,
                "stop",
                json!({"fault": "random_kill", "nodes": ["n2"]}),
                None,
            );
            stopped = true;
        }
        let p = Process::Client((i % 5) as u64);
        let node = ["n1", "n2", "n3"][i % 3];
        let f = if i % 4 == 0 { "write" } else { "read" };
        let kind = match i % 97 {
            0 => OpType::Fail,
            1 => OpType::Info,
            _ => OpType::Ok,
        };
        let latency = step / 2 + (i as u64 * 7919 % 1000) * 10_000;
        push(
            t,
            p,
            OpType::Invoke,
            f,
            json!({"key": i % 10, "value": null}),
            Some(node),
        );
        push(
            t + latency.min(step - 1),
            p,
            kind,
            f,
            json!({"key": i % 10, "value": i % 50}),
            Some(node),
        );
    }
    // Completions may land after the next invoke of other processes; keep time order.
    ops.sort_by_key(|o| o.time);
    for (i, o) in ops.iter_mut().enumerate() {
        o.index = i as u64;
    }
    History::new(ops)
}

fn render_synthetic(h: &History, checks: &[CheckResult]) -> String {
    let test = json!({"spec": {"test": "register", "seed": 5, "replay": "faultline run register -- --seed 5"}, "started": "now"});
    let s = crate::summary::summarize(h);
    render(&test, Validity::Invalid, checks, &s, &json!({}), h)
}

#[test]
fn plots_lanes_and_banner_are_drawn() {
    let h = synthetic(2_000, 30.0);
    let checks = vec![
        CheckResult::new(
            "bank",
            Validity::Invalid,
            "3 of 9 reads broke the bank invariant",
            json!({"cause": "lost update (Adya P4) at X", "hint": "--read-lock for-update forbids it",
                   "first_violation": {"first_bad_read": {"index": 1500}, "last_good_read": {"index": 1400}}}),
        ),
        faultline_checkers::recovery::RecoveryChecker { slo_s: None }.check(&h),
    ];
    let html = render_synthetic(&h, &checks);
    if let Ok(path) = std::env::var("FAULTLINE_REPORT_SAMPLE") {
        std::fs::write(path, &html).unwrap();
    }
    assert!(
        html.contains("cause: lost update (Adya P4) at X"),
        "banner has the cause"
    );
    assert!(html.contains("hint: --read-lock for-update forbids it"));
    assert!(html.contains("faultline run register -- --seed 5"));
    // A latency and a throughput panel per op type, fault labelled, lanes per node.
    assert_eq!(
        html.matches("latency (ms)").count(),
        2,
        "read and write latency panels"
    );
    assert_eq!(html.matches(" ops/s").count(), 2);
    assert!(
        html.matches("random_kill n2").count() >= 4,
        "each plot labels the fault"
    );
    assert!(
        html.contains("killed (random_kill)"),
        "n2's lane shows the kill"
    );
    assert!(
        html.contains("served +"),
        "the lane shows when n2 served again"
    );
    assert!(
        html.contains(">first bad read"),
        "the timeline labels the op involved"
    );
    assert!(html.contains("process 4"), "a row per process");
    assert!(!html.contains("failed:"), "{html}");
}

#[test]
fn a_million_op_report_stays_small() {
    let h = synthetic(1_000_000, 600.0);
    let checks = vec![faultline_checkers::recovery::RecoveryChecker { slo_s: None }.check(&h)];
    let started = std::time::Instant::now();
    let html = render_synthetic(&h, &checks);
    let mb = html.len() as f64 / 1e6;
    println!("1M ops: report {mb:.2} MB in {:?}", started.elapsed());
    assert!(mb < 4.0, "the report of 1M ops is {mb:.2} MB");
    assert!(
        html.contains("points drawn (downsampled past 100000"),
        "the caption says so"
    );
}
