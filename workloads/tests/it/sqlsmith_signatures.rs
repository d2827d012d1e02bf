//! One finding per bug: the same planted bug seen several times, on different tables, is
//! reduced to ONE signature with one ready-to-file report; two different planted bugs are
//! two signatures.
//!
//! The planted bugs (as in sqlsmith_reduce_oracle, no MariaDB bug needed): TLP with the
//! test-only partitioning `ForgetNull` (the union of the partitions lacks the rows where
//! p is NULL) and the plan oracle with a "plan change" that really changes results
//! (`SET STATEMENT sql_select_limit=1 FOR`). Both fail on the live server again and again
//! during one run, each time on whatever query and tables the generator drew.

use crate::sqlsmith_common::*;

use faultline_sqlsmith::metamorphic::Partitioning;
use faultline_sqlsmith::plan::PlanChange;
use faultline_workloads::sqlsmith::replay::Replayer;
use faultline_workloads::sqlsmith::runloop::{run_loop, Oracles};
use std::collections::BTreeSet;

/// The tables a finding's query reads (`FROM tN` / `JOIN tN`).
fn tables(sql: &str) -> BTreeSet<String> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "FROM" || w[0] == "JOIN")
        .map(|w| w[1].trim_matches(|c| c == '(' || c == ')').to_string())
        .filter(|t| t.starts_with('t'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_planted_bug_is_one_signature_and_two_are_two() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut sut = db(&server, "sut", "sqlsmith");
    let replayer = Replayer {
        sut: db(&server, "sut-replay", "sqlsmith_replay"),
        reference: None,
    };
    let dir = temp("signatures");
    let oracles = Oracles {
        tlp: true,
        plan: true,
        ..Default::default()
    };
    // Seed 24: its first ten findings hold the planted TLP bug on several tables and the
    // planted plan bug (the test's precondition; seed 21's TLP findings all fell on t1).
    let mut opts = options(24, 600, oracles, dir.clone());
    // More tables early, so the findings fall on different ones.
    opts.smith.weights.create_table = 25;
    opts.tlp_rule = Partitioning::ForgetNull;
    opts.plan_change = Some(PlanChange::Variable {
        name: "sql_select_limit".into(),
        value: 1,
    });
    opts.oracle_every = 7;
    opts.max_failures = 10;
    opts.reduce = 10;
    opts.reduce_tests = 200;
    opts.reduce_timeout = std::time::Duration::from_secs(30);
    let report = run_loop(&mut sut, None, Some(replayer), &opts, None, &|| false).await;
    for f in &report.findings {
        println!(
            "{} after statement {}: {}\n  {}\n  -> {:?} ({:?} statements) {:?}",
            f.oracle, f.index, f.what, f.sql, f.shape, f.reduced_statements, f.reduction_note
        );
    }
    let tlp: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.oracle == "tlp")
        .collect();
    let plan: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.oracle == "plan")
        .collect();
    assert!(tlp.len() >= 2, "the planted TLP bug is seen several times");
    assert!(!plan.is_empty(), "the planted plan bug is seen");
    let tlp_tables: BTreeSet<String> = tlp.iter().flat_map(|f| tables(&f.sql)).collect();
    assert!(
        tlp_tables.len() >= 2,
        "the TLP findings are on different tables: {tlp_tables:?}"
    );
    // Every finding was reduced and signed; each planted bug has one signature.
    let sig = |fs: &[&faultline_workloads::sqlsmith::runloop::Finding]| -> BTreeSet<String> {
        fs.iter()
            .map(|f| f.signature.clone().expect("every finding is signed"))
            .collect()
    };
    let (a, b) = (sig(&tlp), sig(&plan));
    assert_eq!(a.len(), 1, "one bug, one signature: {a:?}");
    assert_eq!(b.len(), 1, "one bug, one signature: {b:?}");
    assert_ne!(a, b, "two bugs, two signatures");
    assert_eq!(report.signatures.len(), 2, "{:?}", report.signatures);
    let counts: usize = report.signatures.iter().map(|s| s.count).sum();
    assert_eq!(counts, report.findings.len());
    let tlp_sig = report
        .signatures
        .iter()
        .find(|s| s.oracle == "tlp")
        .unwrap();
    assert_eq!(tlp_sig.count, tlp.len());

    // Two bugs (their conditions differ), one ready-to-file report each, beside the .slt
    // of each form.
    assert_eq!(report.bugs.len(), 2, "{:?}", report.bugs);
    for b in &report.bugs {
        let md_path = b.report.clone().expect("a report was written");
        assert_eq!(md_path, dir.join(format!("{}.md", b.id)));
        let md = std::fs::read_to_string(&md_path).unwrap();
        println!("{md}");
        assert!(md.contains("- Server: 10."), "server version in the report");
        let rep = report
            .signatures
            .iter()
            .find(|s| s.signature == b.signatures[0])
            .unwrap();
        assert!(md.contains(&format!("oracle `{}`", rep.oracle)));
        assert!(md.contains("## Expected") && md.contains("## Actual"));
        assert!(md.contains("CREATE TABLE"), "minimal SQL in the report");
        assert!(
            md.contains("SET NAMES utf8mb4 COLLATE utf8mb4_bin;"),
            "the session's character set, so it reproduces in any client"
        );
        // The planted bugs live in the harness: no optimizer flag clears them.
        assert!(md.contains("No single `optimizer_switch` flag makes it go away"));
        for sig in &b.signatures {
            assert!(dir.join(format!("{sig}.slt")).exists());
        }
        assert!(b.statements.unwrap() <= 4, "reduced: {b:?}");
    }
    for s in &report.signatures {
        let bug = report.bugs.iter().find(|b| Some(&b.id) == s.bug.as_ref());
        assert_eq!(s.report, bug.expect("every signature has a bug").report);
    }
    std::fs::remove_dir_all(&dir).ok();
}
