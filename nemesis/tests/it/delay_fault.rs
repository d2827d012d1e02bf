//! The `delay` fault on one real three-node Galera cluster, through the catalogue: n1's
//! packets to and from its peers are held 200 ± 50 ms by the NFQUEUE delay line. Round trips
//! are timed as TCP connects from inside a node's namespace to a peer's Galera port (4567).
//! Asserted: n1's round trips grow by at least 2 × (delay − jitter) while peer-to-peer ones
//! do not; Galera still replicates writes both ways through the delay; healing a partition
//! or changing loss leaves the delay in place; a new delay replaces the old one; heal_all
//! alone removes the NFQUEUE rules and ends the listener thread, and round trips are back;
//! dropping the cluster with a delay on ends that listener too, and nothing is left behind.

use crate::common::{identity, wait_for};
use faultline_cluster::{leftovers::leftovers, GaleraOptions, LocalGalera};
use faultline_core::db::Db;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DELAY_MS: f64 = 200.0;
const JITTER_MS: f64 = 50.0;

/// The median of five TCP connects from `from` to `to`, in ms.
fn median_rtt(cluster: &LocalGalera, from: &str, to: &str) -> f64 {
    let mut v: Vec<f64> = (0..5)
        .map(|_| cluster.connect_time(from, to).unwrap().as_secs_f64() * 1000.0)
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[2]
}

/// The smallest of five TCP connects from `from` to `to`, in ms.
fn min_rtt(cluster: &LocalGalera, from: &str, to: &str) -> f64 {
    (0..5)
        .map(|_| cluster.connect_time(from, to).unwrap().as_secs_f64() * 1000.0)
        .fold(f64::MAX, f64::min)
}

fn nfqueue_rules(cluster: &LocalGalera, node: &str) -> usize {
    let rules = cluster.delay_rules(node).unwrap();
    rules.iter().filter(|r| r.contains("NFQUEUE")).count()
}

/// Inserts a row on `writer` and waits (up to 30 s) until `reader` sees it; returns seconds.
async fn replicates(cluster: &LocalGalera, writer: &str, reader: &str, tag: &str) -> f64 {
    let t = Instant::now();
    cluster
        .admin_sql(
            writer,
            &[&format!(
                "INSERT INTO jepsen.delayed (tag) VALUES ('{tag}')"
            )],
        )
        .await
        .unwrap();
    let sql = format!("SELECT COUNT(*) FROM jepsen.delayed WHERE tag = '{tag}'");
    loop {
        let n = cluster.query_value(reader, &sql).await.unwrap();
        if n.as_deref() == Some("1") {
            return t.elapsed().as_secs_f64();
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{tag}: {reader} never saw {writer}'s write"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_holds_packets_replicates_and_heals() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let cluster = Arc::new(
        LocalGalera::start(GaleraOptions::default())
            .await
            .expect("cluster starts"),
    );
    let (prefix, dir) = identity(&cluster);
    let db: Arc<dyn Db> = cluster.clone();
    let faults = faultline_nemesis::lookup(&["delay".into()]).unwrap();
    faultline_nemesis::check_supported(&faults, db.as_ref()).unwrap();
    let delay = &faults[0];
    cluster
        .admin_sql(
            "n1",
            &["CREATE TABLE jepsen.delayed (id BIGINT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(16))"],
        )
        .await
        .unwrap();

    let before = median_rtt(&cluster, "n1", "n2");
    eprintln!("before: n1->n2 median {before:.2} ms");
    assert!(before < 20.0, "n1->n2 is already slow: {before:.1} ms");

    let params = json!({ "delay_ms": DELAY_MS as u64, "jitter_ms": JITTER_MS as u64 });
    delay
        .start_with(db.as_ref(), &["n1".into()], &params)
        .await
        .unwrap();
    assert!(cluster.delay_listener_running("n1").unwrap());
    assert_eq!(nfqueue_rules(&cluster, "n1"), 4, "2 peers x 2 directions");
    assert_eq!(nfqueue_rules(&cluster, "n2"), 0);

    // One hop each way through n1's line: at least 2 x (delay - jitter), less a little slack.
    let floor = 2.0 * (DELAY_MS - JITTER_MS) - 20.0;
    for peer in ["n2", "n3"] {
        let m = min_rtt(&cluster, "n1", peer);
        eprintln!("delayed: n1->{peer} min of 5 {m:.1} ms");
        assert!(m >= floor, "n1->{peer} {m:.1} ms < {floor} ms");
    }
    let m = min_rtt(&cluster, "n2", "n1");
    eprintln!("delayed: n2->n1 min of 5 {m:.1} ms");
    assert!(m >= floor, "n2->n1 {m:.1} ms < {floor} ms");
    let p2p = median_rtt(&cluster, "n2", "n3");
    eprintln!("delayed: n2->n3 (not delayed) median {p2p:.2} ms");
    assert!(p2p < floor / 2.0, "n2->n3 is delayed too: {p2p:.1} ms");

    // Galera replicates through the delay, both ways.
    let s = replicates(&cluster, "n1", "n2", "out").await;
    eprintln!("n1 write seen on n2 after {s:.2} s");
    let s = replicates(&cluster, "n3", "n1", "in").await;
    eprintln!("n3 write seen on n1 after {s:.2} s");
    wait_for(&cluster, "n1", "Synced in a 3-node primary", |s| {
        s.is_synced(3)
    })
    .await;

    // Independence: healing partitions and changing loss leave the delay alone.
    let part = db.as_partition().unwrap();
    part.heal_network().await.unwrap();
    let q = db.as_net_quality().unwrap();
    q.set_loss("n1", 5.0).await.unwrap();
    q.set_loss("n1", 0.0).await.unwrap();
    assert!(cluster.loss_rules("n1").unwrap().is_empty());
    assert_eq!(
        nfqueue_rules(&cluster, "n1"),
        4,
        "partition heal / loss removed the delay"
    );
    let m = min_rtt(&cluster, "n1", "n2");
    eprintln!("after partition heal and loss change: n1->n2 min {m:.1} ms");
    assert!(m >= floor, "delay gone after partition heal: {m:.1} ms");

    // A new delay replaces the old one: still 4 rules, one listener, the new hold.
    q.set_delay("n1", Duration::from_millis(100), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(nfqueue_rules(&cluster, "n1"), 4);
    let m = min_rtt(&cluster, "n1", "n2");
    eprintln!("replaced by 100 ms: n1->n2 min {m:.1} ms");
    assert!(m >= 190.0, "the new delay does not hold: {m:.1} ms");
    let listeners = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|c| c.trim() == format!("dl-{prefix}n1"))
        })
        .count();
    assert_eq!(listeners, 1, "the old listener is still running");

    // heal_all alone removes the rules and ends the listener.
    db.heal_all().await.unwrap();
    let rules = cluster.delay_rules("n1").unwrap();
    assert!(
        rules.iter().all(|r| !r.contains("NFQUEUE")),
        "heal_all left {rules:?}"
    );
    assert!(!cluster.delay_listener_running("n1").unwrap());
    let after = median_rtt(&cluster, "n1", "n2");
    eprintln!("after heal_all: n1->n2 median {after:.2} ms");
    assert!(after < 20.0, "n1->n2 still slow after heal: {after:.1} ms");
    replicates(&cluster, "n1", "n3", "healed").await;

    // Dropping the cluster with a delay on ends its listener too.
    q.set_delay("n2", Duration::from_millis(50), Duration::from_millis(10))
        .await
        .unwrap();
    assert!(cluster.delay_listener_running("n2").unwrap());
    let ns2 = format!("{prefix}n2");
    drop(db);
    drop(
        Arc::try_unwrap(cluster)
            .ok()
            .expect("only the test holds the cluster"),
    );
    assert!(
        !faultline_cluster::delayline::listener_running(&ns2),
        "drop left the listener of {ns2}"
    );
    let left = leftovers(&prefix, &dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}
