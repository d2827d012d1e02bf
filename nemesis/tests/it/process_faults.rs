//! Kills, restarts and pauses on one real three-node Galera cluster, driven through the
//! schedule's own ops and the NemesisExecutor: minor_kill, major_kill, restart_one,
//! pause_one, pause_all and all_kill (whole-cluster recovery keeping the state UUID and
//! seqno). Each fault's effect is asserted (process gone or stopped, membership, primary
//! component), then its heal (all Synced again, history kept), under a light write load
//! whose errors are printed for the record. Nothing of ours is left afterwards.

use crate::common::{executor_for, identity, proc_state, schedule_ops, wait_for, Load};
use faultline_cluster::{leftovers::leftovers, GaleraOptions, LocalGalera};
use faultline_core::db::Db;
use faultline_core::Nemesis;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FAULTS: &[&str] = &[
    "minor_kill",
    "major_kill",
    "restart_one",
    "pause_one",
    "pause_all",
    "all_kill",
];

fn nodes_of(v: &serde_json::Value) -> Vec<String> {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn count_in_log(dir: &std::path::Path, node: &str, needle: &str) -> usize {
    std::fs::read_to_string(dir.join(node).join("error.log"))
        .unwrap_or_default()
        .matches(needle)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_restarts_and_pauses_take_effect_and_heal() {
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
    tokio::time::sleep(Duration::from_secs(2)).await;
    let uuid = cluster.statuses().await[0].1.cluster_state_uuid.clone();
    let all = cluster.nodes();

    for pair in schedule_ops(FAULTS, 11).chunks(2) {
        let (start, stop) = (&pair[0], &pair[1]);
        let name = start.value["fault"].as_str().unwrap().to_string();
        let targets = nodes_of(&start.value);
        let others: Vec<String> = all
            .iter()
            .filter(|n| !targets.contains(n))
            .cloned()
            .collect();
        let pids: Vec<u32> = targets.iter().map(|n| cluster.pid(n).unwrap()).collect();
        let shutdowns: Vec<usize> = targets
            .iter()
            .map(|n| count_in_log(&dir, n, "mariadbd: Shutdown complete"))
            .collect();
        let committed_before = cluster.statuses().await[0].1.last_committed;
        let t0 = Instant::now();
        let c = nemesis.invoke(start).await;
        let start_took = t0.elapsed();
        assert!(c.error.is_none(), "{name} start: {c:?}");

        match name.as_str() {
            "minor_kill" | "major_kill" | "all_kill" | "restart_one" => {
                for n in &targets {
                    assert!(cluster.pid(n).is_none(), "{name}: {n} still runs");
                }
                for pid in &pids {
                    assert!(
                        matches!(proc_state(*pid), None | Some('Z')),
                        "{name}: pid {pid} alive"
                    );
                }
            }
            "pause_one" | "pause_all" => {
                // SIGSTOP reaches every thread of the process shortly after kill() returns.
                for pid in &pids {
                    let deadline = Instant::now() + Duration::from_secs(2);
                    while proc_state(*pid) != Some('T') && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    assert_eq!(proc_state(*pid), Some('T'), "{name}: pid {pid} not stopped");
                }
            }
            _ => unreachable!(),
        }
        match name.as_str() {
            "minor_kill" | "restart_one" => {
                assert_eq!(targets.len(), 1);
                let t = wait_for(&cluster, &others[0], "size 2", |s| s.is_synced(2)).await;
                eprintln!("{name} {targets:?}: survivors at size 2 after {t:.1}s");
            }
            "major_kill" => {
                assert_eq!(targets.len(), 2);
                let t = wait_for(&cluster, &others[0], "non-Primary", |s| {
                    s.reachable && s.cluster_status != "Primary"
                })
                .await;
                eprintln!(
                    "{name} {targets:?}: survivor {} non-Primary after {t:.1}s",
                    others[0]
                );
            }
            "all_kill" => {
                assert_eq!(targets.len(), 3);
                assert!(
                    start_took < Duration::from_secs(1),
                    "all_kill took {start_took:?}"
                );
                eprintln!(
                    "{name}: all 3 killed within {:.0} ms",
                    start_took.as_secs_f64() * 1000.0
                );
            }
            "pause_all" => assert_eq!(targets.len(), 3),
            _ => assert_eq!(targets.len(), 1),
        }
        tokio::time::sleep(Duration::from_secs(4)).await;

        let t1 = Instant::now();
        let c = nemesis.invoke(stop).await;
        assert!(c.error.is_none(), "{name} stop: {c:?}");
        db.wait_ready(Duration::from_secs(120))
            .await
            .unwrap_or_else(|e| panic!("{name}: not healed: {e}"));
        let healed = t1.elapsed().as_secs_f64();
        for n in &all {
            let pid = cluster
                .pid(n)
                .unwrap_or_else(|| panic!("{name}: {n} not running"));
            assert_ne!(proc_state(pid), Some('T'), "{name}: {n} still stopped");
        }
        let statuses = cluster.statuses().await;
        for (n, s) in &statuses {
            assert_eq!(
                s.cluster_state_uuid, uuid,
                "{name}: {n} lost the cluster's history"
            );
            assert!(s.is_synced(3), "{name}: {n}: {s:?}");
        }
        assert!(
            statuses[0].1.last_committed >= committed_before,
            "{name}: seqno went back from {committed_before} to {}",
            statuses[0].1.last_committed
        );
        if name == "restart_one" {
            let n = &targets[0];
            assert_eq!(
                count_in_log(&dir, n, "mariadbd: Shutdown complete"),
                shutdowns[0] + 1,
                "{n} did not shut down cleanly"
            );
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        eprintln!(
            "{name} {targets:?}: all Synced {healed:.1}s after the heal; every node wrote ok again {:?}s after it; clients during fault+heal: {}",
            load.all_ok_after(t1).map(|s| (s * 10.0).round() / 10.0),
            load.summary(t0)
        );
    }

    // A coordinated crash undone by the database's own heal_all (the runner's final heal):
    // whole-cluster recovery, history kept.
    let before = cluster.statuses().await[0].1.last_committed;
    for n in &all {
        db.as_kill().unwrap().kill(n).await.unwrap();
    }
    let t = Instant::now();
    db.heal_all().await.unwrap();
    db.wait_ready(Duration::from_secs(120)).await.unwrap();
    for (n, s) in cluster.statuses().await {
        assert_eq!(
            s.cluster_state_uuid, uuid,
            "heal_all after a crash: {n} lost the history"
        );
        assert!(
            s.last_committed >= before,
            "heal_all after a crash: {n}: {s:?}"
        );
    }
    eprintln!(
        "heal_all recovered the whole cluster in {:.1}s",
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
