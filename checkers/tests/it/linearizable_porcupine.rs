//! Proof on published data: every history of Porcupine's test suite (102 etcd logs, 6 kv
//! histories checked both per key and unpartitioned) gets the verdict Porcupine's own tests
//! assert, as listed in ../shared/porcupine-test-data/expected.csv.

use faultline_checkers::linearizable::{check, import, LinearizableOptions, ModelKind};
use faultline_core::Validity;
use std::path::PathBuf;
use std::time::Duration;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/porcupine-test-data")
}

struct Row {
    file: String,
    model: String,
    linearizable: bool,
}

fn expected() -> Vec<Row> {
    let text = std::fs::read_to_string(data_dir().join("expected.csv")).expect("expected.csv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("file,"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            Row {
                file: cols[0].to_string(),
                model: cols[1].to_string(),
                linearizable: cols[4] == "true",
            }
        })
        .collect()
}

fn verdict(row: &Row) -> Validity {
    let path = data_dir().join(&row.file);
    let (history, model) = match row.model.as_str() {
        "etcd-cas-register" => (
            import::porcupine_etcd(&path).unwrap(),
            ModelKind::CasRegister,
        ),
        "kv-append-partitioned" => (import::porcupine_kv(&path).unwrap(), ModelKind::Kv),
        "kv-append-unpartitioned" => (
            import::porcupine_kv(&path).unwrap(),
            ModelKind::KvUnpartitioned,
        ),
        other => panic!("unknown model {other} in expected.csv"),
    };
    let opts = LinearizableOptions {
        model,
        timeout: Some(Duration::from_secs(120)),
        ..Default::default()
    };
    let report = check(&history, &opts);
    if report.valid == Validity::Invalid {
        let cx = report
            .counterexample
            .as_ref()
            .expect("an invalid verdict has a counterexample");
        assert!(cx.ops.len() <= 50, "{}: counterexample too big", row.file);
        assert!(!cx.explanation.is_empty());
    }
    report.valid
}

#[test]
fn every_published_history_gets_porcupines_verdict() {
    let rows = expected();
    assert_eq!(
        rows.iter()
            .filter(|r| r.file.starts_with("jepsen/"))
            .count(),
        102
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.model == "kv-append-partitioned")
            .count(),
        6
    );
    let mut wrong = Vec::new();
    for row in &rows {
        let want = if row.linearizable {
            Validity::Valid
        } else {
            Validity::Invalid
        };
        let got = verdict(row);
        if got != want {
            wrong.push(format!(
                "{} ({}): expected {want}, got {got}",
                row.file, row.model
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn the_empty_log_is_an_empty_history() {
    let h = import::porcupine_etcd(&data_dir().join("jepsen/etcd_095.log")).unwrap();
    assert!(h.is_empty());
    let r = check(&h, &LinearizableOptions::default());
    assert_eq!(r.valid, Validity::Valid);
}

/// The calling thread keeps its search buffers between checks: checking one history after
/// others (a bigger one, a valid one, another model) gives the same report as a first check.
#[test]
fn a_check_after_other_checks_reports_what_a_first_check_does() {
    let report = |file: &str, model: ModelKind| {
        let h = if model == ModelKind::Kv {
            import::porcupine_kv(&data_dir().join(file)).unwrap()
        } else {
            import::porcupine_etcd(&data_dir().join(file)).unwrap()
        };
        let opts = LinearizableOptions {
            model,
            threads: 1,
            ..Default::default()
        };
        let mut r = check(&h, &opts);
        r.elapsed_ms = 0.0;
        r.summary = r.summary.split(" checked in ").next().unwrap().to_string();
        r
    };
    let runs = [
        ("jepsen/etcd_000.log", ModelKind::CasRegister),
        ("jepsen/etcd_002.log", ModelKind::CasRegister),
        ("kv/c10-bad.txt", ModelKind::Kv),
        ("jepsen/etcd_069.log", ModelKind::CasRegister),
    ];
    // Each on a thread of its own first: nothing kept from an earlier check.
    let first: Vec<_> = runs
        .iter()
        .map(|&(f, m)| std::thread::spawn(move || report(f, m)).join().unwrap())
        .collect();
    // Then one after another on one thread, twice round.
    for round in 0..2 {
        for ((f, m), want) in runs.iter().zip(&first) {
            assert_eq!(&report(f, *m), want, "{f}, round {round}");
        }
    }
    assert_eq!(first[0].valid, Validity::Invalid);
    assert_eq!(first[1].valid, Validity::Valid);
}
