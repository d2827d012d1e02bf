//! Two identical MariaDB servers over thousands of generated statements: every statement and
//! every table snapshot agrees (the differential oracle raises no false alarm).

use crate::sqlsmith_common::*;

use faultline_workloads::sqlsmith::runloop::{run_loop, Oracles};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_servers_never_diverge() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let (a, b) = tokio::join!(mariadb(&[]), mariadb(&[]));
    let (mut sut, mut reference) = (db(&a, "sut", "sqlsmith"), db(&b, "reference", "sqlsmith"));
    let oracles = Oracles {
        diff: true,
        ..Default::default()
    };
    let mut total = 0;
    for seed in [1u64, 2] {
        let mut opts = options(seed, 2500, oracles, temp("nfa"));
        opts.max_failures = 10;
        // Fresh databases per seed (the schema model starts empty).
        sut.recreate_database().await.unwrap();
        reference.recreate_database().await.unwrap();
        let report = run_loop(&mut sut, Some(&mut reference), None, &opts, None, &|| false).await;
        let s = &report.stats;
        println!(
            "seed {seed}: {} statements compared, {} snapshots, {:.0}/s, findings {:?}",
            s.compared, s.snapshots, s.statements_per_s, report.findings
        );
        assert!(
            report.findings.is_empty(),
            "false alarm(s): {:#?}",
            report.findings
        );
        assert_eq!(s.unknown, 0);
        assert!(s.compared >= 2500, "only {} compared", s.compared);
        assert!(s.snapshots > 10, "only {} snapshots", s.snapshots);
        total += s.compared;
    }
    assert!(total >= 5000);
}
