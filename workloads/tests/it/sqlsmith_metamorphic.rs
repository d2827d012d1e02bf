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
        ..Default::default()
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

/// The plan oracle runs clean on a correct MariaDB over the same seeds: every query gives
/// the same rows under every kind of plan change (index hints, optimizer_switch flags,
/// optimizer variables, STRAIGHT_JOIN), and each kind was really executed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_oracle_is_clean_on_mariadb() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut sut = db(&server, "sut", "sqlsmith");
    let oracles = Oracles {
        plan: true,
        ..Default::default()
    };
    let mut kinds = std::collections::BTreeMap::<String, u64>::new();
    let mut checks = 0;
    for seed in 100u64..103 {
        sut.recreate_database().await.unwrap();
        let mut opts = options(seed, 1200, oracles, temp("plan"));
        opts.oracle_every = 1;
        let report = run_loop(&mut sut, None, None, &opts, None, &|| false).await;
        let s = &report.stats;
        println!(
            "seed {seed}: {} plan checks, {} skipped, findings {:#?}",
            s.plan_checks, s.oracle_skipped, report.findings
        );
        assert!(
            report.findings.is_empty(),
            "seed {seed}: {:#?}",
            report.findings
        );
        checks += s.plan_checks;
        for (k, n) in &s.plan_changes {
            *kinds.entry(k.clone()).or_default() += n;
        }
    }
    println!("seeds 100..103: {checks} plan checks: {kinds:?}");
    let family = |prefix: &str| kinds.keys().any(|k| k.starts_with(prefix));
    for f in [
        "no-indexes",
        "force-index",
        "ignore-index",
        "switch:",
        "join_cache_level=",
        "straight-join",
    ] {
        assert!(family(f), "no plan check with a change {f}*: {kinds:?}");
    }
    assert!(checks > 1000, "too few plan checks: {checks}");
}
