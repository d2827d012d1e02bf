//! TLP (plain and aggregate) and NoREC run clean on a correct MariaDB over a fixed seed
//! range: every partitioned query adds up, every partitioned COUNT / SUM / MIN / MAX
//! combines to the whole, and every NoREC count matches (no false alarms from the
//! transformations).

use crate::sqlsmith_common::*;

use faultline_workloads::sqlsmith::runloop::{run_loop, Oracles};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tlp_and_norec_are_clean_on_mariadb() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut sut = db(&server, "sut", "sqlsmith");
    let oracles = Oracles {
        diff: false,
        tlp: true,
        norec: true,
    };
    let (mut tlp, mut tlp_agg, mut norec) = (0, 0, 0);
    for seed in 100u64..103 {
        sut.recreate_database().await.unwrap();
        let opts = options(seed, 1200, oracles, temp("meta"));
        let report = run_loop(&mut sut, None, None, &opts, None, &|| false).await;
        let s = &report.stats;
        println!(
            "seed {seed}: {} TLP, {} aggregate TLP, {} NoREC checks, {} skipped, findings {:#?}",
            s.tlp_checks, s.tlp_agg_checks, s.norec_checks, s.oracle_skipped, report.findings
        );
        assert!(
            report.findings.is_empty(),
            "seed {seed}: {:#?}",
            report.findings
        );
        tlp += s.tlp_checks;
        tlp_agg += s.tlp_agg_checks;
        norec += s.norec_checks;
    }
    println!("seeds 100..103: {tlp} TLP, {tlp_agg} aggregate TLP, {norec} NoREC checks");
    assert!(
        tlp > 500 && norec > 500 && tlp_agg > 0,
        "too few checks: {tlp} TLP, {tlp_agg} aggregate TLP, {norec} NoREC"
    );
}
