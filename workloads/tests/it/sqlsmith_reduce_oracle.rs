//! A TLP (and a plan-oracle) finding is reduced: its setup statements and its query, re-running the oracle on
//! a live MariaDB at each step, and the written .slt file still reproduces.
//!
//! How the failure is planted (no MariaDB bug needed): the loop runs TLP with the test-only
//! partitioning `Partitioning::ForgetNull` (partitions p, NOT p and FALSE instead of
//! p IS NULL). The server answers every query correctly; the union of the partitions then
//! really lacks the rows where p is NULL, so the oracle fails on the live server as soon as
//! some row makes p NULL, and keeps failing exactly while the reduced query and data still
//! have such a row.

use crate::sqlsmith_common::*;

use faultline_sqlsmith::metamorphic::Partitioning;
use faultline_workloads::sqlsmith::runloop::{run_loop, Oracles};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_tlp_failure_is_reduced_and_reproduces() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut sut = db(&server, "sut", "sqlsmith");
    let replayer = faultline_workloads::sqlsmith::replay::Replayer {
        sut: db(&server, "sut-replay", "sqlsmith_replay"),
        reference: None,
    };
    let dir = temp("reduce-oracle");
    let tlp_only = Oracles {
        tlp: true,
        ..Default::default()
    };
    let mut opts = options(11, 400, tlp_only, dir.clone());
    opts.tlp_rule = Partitioning::ForgetNull;
    opts.oracle_every = 10;
    opts.max_failures = 1;
    opts.reduce = 1;
    let report = run_loop(&mut sut, None, Some(replayer), &opts, None, &|| false).await;
    let f = report
        .findings
        .first()
        .expect("the planted TLP failure is found");
    let reduced = f.reduced_query.clone().expect("the query was reduced");
    println!(
        "{} finding after statement {}: {}\n  original query: {}\n  reduced query:  {reduced}",
        f.oracle, f.index, f.what, f.sql
    );
    assert!(f.oracle.starts_with("tlp"));
    let path = f.reproducer.clone().expect("a reproducer was written");
    let text = std::fs::read_to_string(&path).unwrap();
    println!("{text}");
    let n = f.reduced_statements.unwrap();
    assert!(n <= 4, "reduced to {n} setup statements only");
    assert!(f.index + 1 > n, "the statement reduction shrank nothing");
    // The query shrank: both are printed as `<query> -- partitioned by p = <p>`.
    assert!(
        reduced.len() < f.sql.len(),
        "query not reduced: {reduced} (from {})",
        f.sql
    );
    assert!(text.contains("reduced oracle query: "));
    assert!(text.contains("oracle verdict on replay: Err"));

    // The file alone reproduces: its setup statements on a fresh database, then its four
    // oracle queries; the union of the three partitions does not give the original rows.
    let records = slt_records(&text);
    let setup: Vec<&String> = records.iter().filter(|r| !r.0).map(|r| &r.1).collect();
    let queries: Vec<&String> = records.iter().filter(|r| r.0).map(|r| &r.1).collect();
    // The session's character set first, then the reduced statements.
    assert_eq!(setup.len(), n + 1);
    assert_eq!(setup[0], "SET NAMES utf8mb4 COLLATE utf8mb4_bin");
    assert_eq!(queries.len(), 4, "original and three partitions");
    let replayed = replay_oracle_finding(&server, &f.oracle, &text).await;
    assert!(replayed.is_err(), "the reduced file does not reproduce");
    std::fs::remove_dir_all(&dir).ok();
}

/// A plan-oracle finding is reduced the same way, and its file reproduces. Planted with a
/// "plan change" that really changes results (`SET STATEMENT sql_select_limit=1 FOR`: at
/// most one row), so the oracle fails on the live server whenever the query has two rows,
/// and keeps failing exactly while the reduced data and query still give two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_plan_failure_is_reduced_and_reproduces() {
    use faultline_sqlsmith::plan::PlanChange;
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut sut = db(&server, "sut", "sqlsmith");
    let replayer = faultline_workloads::sqlsmith::replay::Replayer {
        sut: db(&server, "sut-replay", "sqlsmith_replay"),
        reference: None,
    };
    let dir = temp("reduce-plan");
    let plan_only = Oracles {
        plan: true,
        ..Default::default()
    };
    let mut opts = options(12, 400, plan_only, dir.clone());
    opts.plan_change = Some(PlanChange::Variable {
        name: "sql_select_limit".into(),
        value: 1,
    });
    opts.oracle_every = 10;
    opts.max_failures = 1;
    opts.reduce = 1;
    let report = run_loop(&mut sut, None, Some(replayer), &opts, None, &|| false).await;
    let f = report
        .findings
        .first()
        .expect("the planted plan failure is found");
    let reduced = f.reduced_query.clone().expect("the query was reduced");
    println!(
        "{} finding after statement {}: {}\n  original: {}\n  reduced:  {reduced}",
        f.oracle, f.index, f.what, f.sql
    );
    assert_eq!(f.oracle, "plan");
    assert!(
        f.what.contains("another plan changed the result"),
        "{}",
        f.what
    );
    let path = f.reproducer.clone().expect("a reproducer was written");
    let text = std::fs::read_to_string(&path).unwrap();
    println!("{text}");
    let n = f.reduced_statements.unwrap();
    assert!(n <= 4, "reduced to {n} setup statements only");
    assert!(reduced.len() <= f.sql.len(), "query grew: {reduced}");
    assert!(text.contains("oracle verdict on replay: Err"));

    // The file alone reproduces: setup on a fresh database, then the query as is and
    // under the changed plan; their rows differ.
    let records = slt_records(&text);
    let setup: Vec<&String> = records.iter().filter(|r| !r.0).map(|r| &r.1).collect();
    let queries: Vec<&String> = records.iter().filter(|r| r.0).map(|r| &r.1).collect();
    // The session's character set first, then the reduced statements.
    assert_eq!(setup.len(), n + 1);
    assert_eq!(setup[0], "SET NAMES utf8mb4 COLLATE utf8mb4_bin");
    assert_eq!(
        queries.len(),
        2,
        "the query and the query under another plan"
    );
    assert!(queries[1].starts_with("SET STATEMENT sql_select_limit=1 FOR SELECT"));
    let replayed = replay_oracle_finding(&server, &f.oracle, &text).await;
    assert!(replayed.is_err(), "the reduced file does not reproduce");
    std::fs::remove_dir_all(&dir).ok();
}
