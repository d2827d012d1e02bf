//! A planted difference is found and reduced: the reference runs without strict mode
//! (`sql_mode=NO_ENGINE_SUBSTITUTION`), so it truncates values the system under test
//! rejects. The run reports a divergence; the reducer writes a short .slt file, and replaying
//! that file's statements on fresh databases still diverges.

use crate::sqlsmith_common::*;

use faultline_sqlsmith::compare;
use faultline_workloads::sqlsmith::replay::Replayer;
use faultline_workloads::sqlsmith::runloop::{run_loop, Oracles};

/// The SQL of every record of a sqllogictest file.
fn slt_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        if lines.len() >= 2 && (lines[0].starts_with("statement") || lines[0].starts_with("query"))
        {
            out.push(lines[1].to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sql_mode_difference_is_found_and_reduced() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let (a, b) = tokio::join!(
        mariadb(&[]),
        mariadb(&[("sql_mode", "NO_ENGINE_SUBSTITUTION")])
    );
    let (mut sut, mut reference) = (db(&a, "sut", "sqlsmith"), db(&b, "reference", "sqlsmith"));
    let replayer = Replayer {
        sut: db(&a, "sut-replay", "sqlsmith_replay"),
        reference: Some(db(&b, "ref-replay", "sqlsmith_replay")),
    };
    let dir = temp("planted");
    let mut opts = options(
        7,
        3000,
        Oracles {
            diff: true,
            ..Default::default()
        },
        dir.clone(),
    );
    opts.max_failures = 1;
    opts.reduce = 1;
    let report = run_loop(
        &mut sut,
        Some(&mut reference),
        Some(replayer),
        &opts,
        None,
        &|| false,
    )
    .await;
    let f = report
        .findings
        .first()
        .expect("the sql_mode difference is found");
    println!("found at statement {}: {} ({})", f.index, f.what, f.sql);
    let path = f.reproducer.clone().expect("a reproducer was written");
    let text = std::fs::read_to_string(&path).unwrap();
    println!("{text}");
    assert!(text.contains("# seed: 7"));
    assert!(
        text.contains("DIVERGENCE"),
        "the diverging record is marked"
    );
    let n = f.reduced_statements.unwrap();
    assert!(n <= 4, "reduced to {n} statements only");
    assert!(f.index + 1 > n, "reduction shrank nothing");

    // The file alone still reproduces: replay its statements on fresh databases.
    let stmts = slt_statements(&text);
    // The session's character set first, then the reduced statements.
    assert_eq!(stmts.len(), n + 1);
    assert_eq!(stmts[0], "SET NAMES utf8mb4 COLLATE utf8mb4_bin");
    let (mut x, mut y) = (db(&a, "x", "sqlsmith_check"), db(&b, "y", "sqlsmith_check"));
    x.recreate_database().await.unwrap();
    y.recreate_database().await.unwrap();
    let mut diverged = false;
    for sql in &stmts {
        let (p, q) = (x.run(sql).await, y.run(sql).await);
        diverged |= compare(&p, &q, false).is_some();
    }
    assert!(diverged, "the reduced file does not reproduce");
    std::fs::remove_dir_all(&dir).ok();
}
