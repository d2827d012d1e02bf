//! A real three-node Galera cluster, started by the test: it comes up Synced, a killed node
//! rejoins by IST with the cluster's history intact, a partitioned node leaves the primary
//! component and returns after the heal, and teardown leaves nothing behind.

use faultline_cluster::{GaleraOptions, LocalGalera};
use faultline_core::db::{grudge_isolating, Db};
use std::time::{Duration, Instant};

fn our_namespaces() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

async fn wait_for(
    cluster: &LocalGalera,
    node: &str,
    what: &str,
    f: impl Fn(&faultline_cluster::galera::NodeStatus) -> bool,
) -> f64 {
    let start = Instant::now();
    loop {
        let statuses = cluster.statuses().await;
        let s = &statuses.iter().find(|(n, _)| n == node).unwrap().1;
        if f(s) {
            return start.elapsed().as_secs_f64();
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{node} never became {what}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn galera_cluster_survives_kill_and_partition_and_cleans_up() {
    let cluster = LocalGalera::start(GaleraOptions::default())
        .await
        .expect("cluster starts");
    let nodes = cluster.nodes();
    assert_eq!(nodes, vec!["n1", "n2", "n3"]);
    // Only this cluster's lab: other tests and runs may have clusters up at the same time.
    let facts = cluster.facts();
    let prefix = facts["lab_prefix"].as_str().unwrap().to_string();
    let temp_dir = std::path::PathBuf::from(facts["temp_dir"].as_str().unwrap());
    let mine: Vec<String> = our_namespaces()
        .into_iter()
        .filter(|n| n.strip_prefix(&prefix).is_some_and(|r| r.starts_with('n')))
        .collect();
    assert_eq!(mine.len(), 3, "namespaces: {mine:?}");
    let before = cluster.statuses().await;
    for (n, s) in &before {
        assert!(s.is_synced(3), "{n}: {s:?}");
    }
    let uuid = before[0].1.cluster_state_uuid.clone();

    // Write something so the killed node has a position to recover.
    cluster
        .admin_sql(
            "n1",
            &[
                "CREATE TABLE IF NOT EXISTS jepsen.t (id INT PRIMARY KEY)",
                "INSERT INTO jepsen.t VALUES (1),(2),(3)",
            ],
        )
        .await
        .unwrap();

    // kill -9 n3, restart: it rejoins with the same cluster state UUID (IST, not a new history).
    let pid = cluster.pid("n3").unwrap();
    cluster.as_kill().unwrap().kill("n3").await.unwrap();
    assert!(cluster.pid("n3").is_none());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}/status")).exists() || {
            let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            s.contains("zombie")
        }
    );
    wait_for(&cluster, "n1", "size 2", |s| s.cluster_size == 2).await;
    cluster
        .admin_sql("n1", &["INSERT INTO jepsen.t VALUES (4)"])
        .await
        .unwrap();
    cluster.as_kill().unwrap().start("n3").await.unwrap();
    let t = wait_for(&cluster, "n3", "Synced", |s| s.is_synced(3)).await;
    eprintln!("n3 Synced {t:.1}s after restart");
    let log = read_error_log(&cluster, "n3");
    assert!(log.contains("IST"), "n3 should rejoin by IST");
    let after = cluster.statuses().await;
    assert_eq!(
        after[2].1.cluster_state_uuid, uuid,
        "the cluster's history survives"
    );

    // Partition n3 from its peers: it leaves the primary component; heal brings it back.
    let p = cluster.as_partition().unwrap();
    p.partition(&grudge_isolating(&nodes, &["n3".to_string()]))
        .await
        .unwrap();
    assert!(!cluster.partition_rules("n3").unwrap().is_empty());
    let t = wait_for(&cluster, "n3", "non-Primary", |s| {
        s.cluster_status != "Primary"
    })
    .await;
    eprintln!("n3 non-Primary {t:.1}s after the partition");
    wait_for(&cluster, "n1", "size 2", |s| s.cluster_size == 2).await;
    cluster.heal_all().await.unwrap();
    assert!(cluster.partition_rules("n3").unwrap().is_empty());
    cluster.wait_ready(Duration::from_secs(90)).await.unwrap();

    // Pause and resume.
    cluster.as_pause().unwrap().pause("n2").await.unwrap();
    let pid = cluster.pid("n2").unwrap();
    // SIGSTOP takes effect asynchronously: poll the state for a moment.
    assert!(state_becomes(pid, true).await, "n2 never stopped");
    cluster.heal_all().await.unwrap();
    assert!(
        state_becomes(pid, false).await,
        "n2 still stopped after the heal"
    );

    let pids: Vec<u32> = nodes.iter().filter_map(|n| cluster.pid(n)).collect();
    drop(cluster);
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "mariadbd {pid} survived teardown"
        );
    }
    let left = faultline_cluster::leftovers::leftovers(&prefix, &temp_dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Waits up to 5 s for `pid` to be stopped (`T`) or not, as asked.
async fn state_becomes(pid: u32, stopped: bool) -> bool {
    for _ in 0..50 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.contains(") T ") == stopped {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// `node`'s error.log as `collect_logs` keeps it (the copy is removed after reading).
fn read_error_log(cluster: &LocalGalera, node: &str) -> String {
    let dir = std::env::temp_dir().join(format!("fl-test-logs-{}", std::process::id()));
    faultline_core::db::Db::collect_logs(cluster, &dir).unwrap();
    let log = std::fs::read_to_string(dir.join(node).join("error.log")).unwrap_or_default();
    std::fs::remove_dir_all(&dir).ok();
    log
}
