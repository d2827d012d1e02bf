//! Partitions, clock skews and link quality on one real three-node Galera cluster, driven
//! through the schedule's own ops and the NemesisExecutor: partition_majority,
//! partition_random, partition_ring, partition_bridge, partition_link, the five skew bands,
//! strobe_skews, loss and bandwidth. Effects are asserted where they show (iptables rules
//! in the nodes' namespaces, primary component membership, NOW(6) on the node against
//! true time and another node, iptables drop counters, tbf qdiscs and their counters), then
//! the heal (rules gone, clocks at true time, all Synced). `delay` has its own test
//! (delay_fault.rs). Nothing of ours is left afterwards.

use crate::common::{self, executor_for, identity, schedule_ops, wait_for, Load};
use faultline_cluster::{leftovers::leftovers, GaleraOptions, LocalGalera};
use faultline_core::db::Db;
use faultline_core::Nemesis;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const FAULTS: &[&str] = &[
    "partition_majority",
    "partition_random",
    "partition_ring",
    "partition_bridge",
    "partition_link",
    "small_skews",
    "subcritical_skews",
    "critical_skews",
    "big_skews",
    "huge_skews",
    "strobe_skews",
    "loss",
    "bandwidth",
];

fn nodes_of(v: &serde_json::Value) -> Vec<String> {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// The node's wall clock minus true time, in ms (the query's round trip is a few ms).
async fn skew_ms(cluster: &LocalGalera, node: &str) -> f64 {
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let v = cluster
        .query_value(node, "SELECT UNIX_TIMESTAMP(NOW(6))")
        .await
        .unwrap()
        .unwrap();
    let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let truth = (before.as_secs_f64() + after.as_secs_f64()) / 2.0;
    (v.parse::<f64>().unwrap() - truth) * 1000.0
}

/// Whether `from` drops traffic with `to` (a DROP rule for `to`'s address in its namespace).
fn cuts(cluster: &LocalGalera, from: &str, to: &str) -> bool {
    let addr = cluster
        .endpoints()
        .into_iter()
        .find(|e| e.node == to)
        .unwrap()
        .host;
    cluster
        .partition_rules(from)
        .unwrap()
        .iter()
        .any(|r| r.contains(&format!("{addr}/32")) && r.contains("DROP"))
}

fn run(args: &[&str]) -> String {
    let out = std::process::Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Packets dropped so far by the loss rules of node `k` (iptables counters).
fn loss_drops(prefix: &str, k: &str) -> u64 {
    let ns = format!("{prefix}n{}", &k[1..]);
    run(&[
        "ip", "netns", "exec", &ns, "iptables", "-w", "-t", "mangle", "-L", "-v", "-n", "-x",
    ])
    .lines()
    .filter(|l| l.contains("DROP"))
    .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
    .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_clocks_and_link_quality_take_effect_and_heal() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let cluster = Arc::new(
        LocalGalera::start(GaleraOptions::default())
            .await
            .expect("cluster starts"),
    );
    let (prefix, dir) = identity(&cluster);
    let db: Arc<dyn Db> = cluster.clone();

    let nemesis = executor_for(FAULTS, &db);
    let load = Load::start(&cluster).await;
    let all = cluster.nodes();
    for n in &all {
        assert_eq!(cluster.clock_offset(n).unwrap(), "+0");
        let s = skew_ms(&cluster, n).await;
        assert!(s.abs() < 50.0, "{n} starts {s:.0} ms off");
    }

    for pair in schedule_ops(FAULTS, 5).chunks(2) {
        let (start, stop) = (&pair[0], &pair[1]);
        let name = start.value["fault"].as_str().unwrap().to_string();
        let targets = nodes_of(&start.value);
        let params = start.value.get("params").cloned().unwrap_or_default();
        let t0 = Instant::now();
        let c = nemesis.invoke(start).await;
        assert!(c.error.is_none(), "{name} start: {c:?}");
        let mut effect = String::new();

        if name.starts_with("partition_") {
            let (a, b) = match name.as_str() {
                // One side is the targets, the other the rest.
                "partition_majority" | "partition_random" => {
                    assert_eq!(targets.len(), 1, "{name}: {targets:?}");
                    let other = all.iter().find(|n| !targets.contains(n)).unwrap();
                    (targets[0].clone(), other.clone())
                }
                // On three nodes: the first and last of the ring / the two halves.
                "partition_ring" | "partition_bridge" => (targets[0].clone(), targets[2].clone()),
                "partition_link" => (targets[0].clone(), targets[1].clone()),
                _ => unreachable!(),
            };
            assert!(
                cuts(&cluster, &a, &b) && cuts(&cluster, &b, &a),
                "{name}: {a}-{b} not cut"
            );
            if name == "partition_ring" || name == "partition_bridge" {
                let middle = &targets[1];
                assert!(
                    !cuts(&cluster, middle, &a) && !cuts(&cluster, middle, &b),
                    "{name}: {middle} must see both"
                );
            }
            if name == "partition_majority" || name == "partition_random" {
                let t = wait_for(&cluster, &a, "non-Primary", |s| {
                    s.cluster_status != "Primary"
                })
                .await;
                let other = all.iter().find(|n| **n != a).unwrap();
                wait_for(&cluster, other, "size 2", |s| s.is_synced(2)).await;
                effect = format!("{a} non-Primary after {t:.1}s, majority at size 2");
            } else {
                tokio::time::sleep(Duration::from_secs(6)).await;
                let st = cluster.statuses().await;
                effect = format!(
                    "{a}-{b} cut; after 6 s: {}",
                    st.iter()
                        .map(|(n, s)| format!("{n} {} size {}", s.cluster_status, s.cluster_size))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        } else if name.ends_with("_skews") && name != "strobe_skews" {
            let (lo, hi) = match name.as_str() {
                "small_skews" => (0, 100),
                "subcritical_skews" => (100, 200),
                "critical_skews" => (200, 250),
                "big_skews" => (250, 500),
                "huge_skews" => (500, 5000),
                _ => unreachable!(),
            };
            for n in &all {
                let want = params["offsets_ms"][n].as_i64().unwrap_or(0);
                if targets.contains(n) {
                    assert!((lo..=hi).contains(&want.abs()), "{name}: {n} offset {want}");
                }
                let got = skew_ms(&cluster, n).await;
                assert!(
                    (got - want as f64).abs() < 50.0,
                    "{name}: {n} wants {want} ms, NOW() is {got:.0} ms off"
                );
                effect += &format!("{n} {got:+.0} ms (asked {want:+}); ");
            }
            let peers: Vec<f64> = futures_skews(&cluster, &all).await;
            effect += &format!("NOW() spread across nodes {:.0} ms", spread(&peers));
            tokio::time::sleep(Duration::from_secs(2)).await;
        } else if name == "strobe_skews" {
            let n = &targets[0];
            let delta = params["delta_ms"].as_f64().unwrap();
            let mut samples = Vec::new();
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until {
                samples.push(skew_ms(&cluster, n).await);
                tokio::time::sleep(Duration::from_millis(7)).await;
            }
            let near_zero = samples.iter().filter(|s| s.abs() < 50.0).count();
            let near_delta = samples.iter().filter(|s| (*s - delta).abs() < 50.0).count();
            assert!(
                near_zero > 0 && near_delta > 0,
                "{name}: {n} never flipped: {samples:?}"
            );
            effect = format!(
                "{n}: {near_zero} samples at true time, {near_delta} at +{delta} ms, of {}",
                samples.len()
            );
        } else if name == "loss" {
            let k = &targets[0];
            assert!(cluster
                .loss_rules(k)
                .unwrap()
                .iter()
                .any(|r| r.contains("statistic")));
            tokio::time::sleep(Duration::from_secs(6)).await;
            let dropped = loss_drops(&prefix, k);
            assert!(dropped > 0, "{name}: no packet of {k} was dropped");
            effect = format!(
                "{k}: {} % loss, {dropped} packets dropped in 6 s",
                params["percent"]
            );
        } else if name == "bandwidth" {
            let k = &targets[0];
            let q = cluster.qdiscs(k).unwrap();
            assert_eq!(q.iter().filter(|l| l.contains("tbf")).count(), 2, "{q:?}");
            tokio::time::sleep(Duration::from_secs(6)).await;
            let ns = format!("{prefix}n{}", &k[1..]);
            let stats = run(&[
                "ip", "netns", "exec", &ns, "tc", "-s", "qdisc", "show", "dev", "eth0",
            ]);
            let sent: u64 = stats
                .split_whitespace()
                .skip_while(|w| *w != "Sent")
                .nth(1)
                .and_then(|b| b.parse().ok())
                .unwrap_or(0);
            assert!(
                sent > 0,
                "{name}: nothing went through the tbf of {k}: {stats}"
            );
            effect = format!(
                "{k}: {} kbit/s, {sent} bytes through its tbf in 6 s",
                params["kbit"]
            );
        } else {
            unreachable!("{name}");
        }

        let t1 = Instant::now();
        let c = nemesis.invoke(stop).await;
        assert!(c.error.is_none(), "{name} stop: {c:?}");
        for n in &all {
            assert!(
                cluster.partition_rules(n).unwrap().is_empty(),
                "{name}: rules left on {n}"
            );
            assert!(
                cluster.loss_rules(n).unwrap().is_empty(),
                "{name}: loss left on {n}"
            );
            let q = cluster.qdiscs(n).unwrap();
            assert!(
                !q.iter().any(|l| l.contains("tbf")),
                "{name}: tbf left on {n}: {q:?}"
            );
            assert_eq!(
                cluster.clock_offset(n).unwrap(),
                "+0",
                "{name}: {n}'s clock"
            );
            let s = skew_ms(&cluster, n).await;
            assert!(s.abs() < 50.0, "{name}: {n} still {s:.0} ms off");
        }
        db.wait_ready(Duration::from_secs(120))
            .await
            .unwrap_or_else(|e| panic!("{name}: not healed: {e}"));
        let healed = t1.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        eprintln!(
            "{name} {targets:?} {params}: {effect}\n    healed: all Synced {healed:.1}s after; every node wrote ok again {:?}s after; clients during fault+heal: {}",
            load.all_ok_after(t1).map(|s| (s * 10.0).round() / 10.0),
            load.summary(t0)
        );
    }

    // Everything at once, undone by the database's own heal_all alone (what the runner's
    // final heal and Ctrl-C rely on): a link cut, loss, a bandwidth cap, a skew, a strobe,
    // a paused node and a killed node.
    let p = db.as_partition().unwrap();
    p.partition(&faultline_nemesis::faults::partition::link_grudge(
        &"n1".into(),
        &"n2".into(),
    ))
    .await
    .unwrap();
    let q = db.as_net_quality().unwrap();
    q.set_loss("n2", 20.0).await.unwrap();
    q.set_bandwidth("n3", 512).await.unwrap();
    let c = db.as_clock().unwrap();
    c.set_offset("n1", 400).await.unwrap();
    c.strobe("n3", 900, Duration::from_millis(20))
        .await
        .unwrap();
    let paused = cluster.pid("n1").unwrap();
    db.as_pause().unwrap().pause("n1").await.unwrap();
    db.as_kill().unwrap().kill("n2").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while common::proc_state(paused) != Some('T') && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(common::proc_state(paused), Some('T'));
    assert!(cluster.pid("n2").is_none());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let t = Instant::now();
    db.heal_all().await.unwrap();
    db.wait_ready(Duration::from_secs(120)).await.unwrap();
    for n in &all {
        assert!(
            cluster.partition_rules(n).unwrap().is_empty(),
            "heal_all: rules on {n}"
        );
        assert!(
            cluster.loss_rules(n).unwrap().is_empty(),
            "heal_all: loss on {n}"
        );
        assert!(
            !cluster.qdiscs(n).unwrap().iter().any(|l| l.contains("tbf")),
            "heal_all: tbf on {n}"
        );
        assert_eq!(
            cluster.clock_offset(n).unwrap(),
            "+0",
            "heal_all: {n}'s clock"
        );
        let pid = cluster.pid(n).unwrap();
        assert_ne!(
            common::proc_state(pid),
            Some('T'),
            "heal_all: {n} still stopped"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = skew_ms(&cluster, "n3").await;
    assert!(
        s.abs() < 50.0,
        "heal_all: n3's strobe still runs ({s:.0} ms)"
    );
    eprintln!(
        "heal_all undid 7 simultaneous faults; all Synced {:.1}s after",
        t.elapsed().as_secs_f64()
    );

    load.stop().await;
    nemesis.heal_all().await.unwrap();
    drop(nemesis);
    drop(db);
    drop(
        Arc::try_unwrap(cluster)
            .ok()
            .expect("only the test holds the cluster"),
    );
    let left = leftovers(&prefix, &dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}

async fn futures_skews(cluster: &LocalGalera, nodes: &[String]) -> Vec<f64> {
    let mut v = Vec::new();
    for n in nodes {
        v.push(skew_ms(cluster, n).await);
    }
    v
}

fn spread(v: &[f64]) -> f64 {
    let max = v.iter().cloned().fold(f64::MIN, f64::max);
    let min = v.iter().cloned().fold(f64::MAX, f64::min);
    max - min
}
