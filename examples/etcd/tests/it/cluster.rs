//! The etcd recipe against three real members in network namespaces: a member killed with
//! -9 rejoins with its data, a leader cut off from the others loses its quorum reads and
//! its leadership, and afterwards nothing of the cluster is left on the machine.

use std::time::{Duration, Instant};

use faultline::core::db::{grudge_isolating, Kill, Partition};
use faultline_example_etcd::{EtcdCluster, EtcdOptions};

const T: Duration = Duration::from_secs(3);

/// (member id, leader id) as member `node` reports them.
async fn status(c: &EtcdCluster, node: &str) -> (u64, u64) {
    c.client(node, T).unwrap().status().await.unwrap()
}

#[faultline::tokio::test(
    flavor = "multi_thread",
    worker_threads = 2,
    crate = "faultline::tokio"
)]
async fn a_killed_member_rejoins_and_a_cut_off_leader_loses_its_quorum() {
    let _slot = faultline::cluster::test_slots::exclusive();
    let cluster = EtcdCluster::start(EtcdOptions::default())
        .await
        .expect("three etcd members start");
    let (prefix, dir) = (cluster.prefix(), cluster.dir().to_path_buf());
    let nodes: Vec<String> = (1..=3).map(|k| format!("n{k}")).collect();
    assert!(cluster.leader().await.is_some(), "no agreed leader");

    // kill -9 of n2: the others go on, n2 comes back with its data dir and catches up.
    let n1 = cluster.client("n1", T).unwrap();
    n1.put("k1", "before").await.unwrap();
    let (id_before, _) = status(&cluster, "n2").await;
    let pid = cluster.pid("n2").expect("n2 runs");
    cluster.kill("n2").await.unwrap();
    assert_eq!(cluster.pid("n2"), None, "n2 (pid {pid}) still runs");
    // If n2 led, the write waits for the other two to elect a leader (about a second).
    let deadline = Instant::now() + Duration::from_secs(15);
    while let Err(e) = n1.put("k2", "while-down").await {
        assert!(
            Instant::now() < deadline,
            "a quorum of two does not write: {e}"
        );
        faultline::tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Kill::start(&cluster, "n2").await.unwrap();
    cluster
        .wait_healthy(Duration::from_secs(30))
        .await
        .expect("n2 rejoins");
    let n2 = cluster.client("n2", T).unwrap();
    assert_eq!(
        n2.get("k1", true).await.unwrap().as_deref(),
        Some("before"),
        "n2 lost its data"
    );
    assert_eq!(
        n2.get("k2", true).await.unwrap().as_deref(),
        Some("while-down"),
        "n2 did not catch up"
    );
    assert_eq!(
        status(&cluster, "n2").await.0,
        id_before,
        "n2 came back as another member"
    );

    // Cut the leader off: its quorum reads fail and the other two elect one of themselves.
    let leader = cluster.leader().await.expect("a leader");
    let (leader_id, _) = status(&cluster, &leader).await;
    cluster
        .partition(&grudge_isolating(&nodes, std::slice::from_ref(&leader)))
        .await
        .unwrap();
    assert!(
        !cluster.partition_rules(&leader).unwrap().is_empty(),
        "no rule in {leader}'s namespace"
    );
    let others: Vec<&String> = nodes.iter().filter(|n| **n != leader).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let new_leader = loop {
        let (_, a) = status(&cluster, others[0]).await;
        let (_, b) = status(&cluster, others[1]).await;
        if a != 0 && a == b && a != leader_id {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "the majority elected no new leader"
        );
        faultline::tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_ne!(new_leader, leader_id);
    let cut_off = cluster.client(&leader, Duration::from_secs(2)).unwrap();
    let read = cut_off.get("k1", false).await;
    assert!(
        read.is_err(),
        "a quorum read on the cut-off {leader} answered: {read:?}"
    );
    // A write through the majority still commits.
    cluster
        .client(others[0], T)
        .unwrap()
        .put("k3", "majority")
        .await
        .expect("the majority writes");

    cluster.heal_network().await.unwrap();
    assert!(cluster.partition_rules(&leader).unwrap().is_empty());
    cluster
        .wait_healthy(Duration::from_secs(30))
        .await
        .expect("healthy after the heal");
    assert_eq!(
        cut_off.get("k3", false).await.unwrap().as_deref(),
        Some("majority"),
        "the old leader did not catch up"
    );

    drop(cluster);
    let left = faultline::cluster::leftovers::leftovers(&prefix, &dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}
