//! Disk faults on one real three-node Galera cluster whose data dirs are FUSE passthroughs:
//! io_delay, io_error, disk_hang and disk_full, driven through the schedule's own ops and the
//! NemesisExecutor. Asserted: the cluster starts and replicates on FUSE; io_delay makes a
//! commit on the target slower and the heal restores it; a write on a hung node does not
//! complete while hung and the node serves again after the heal; io_error (at 100%) and
//! disk_full show up as client errors or the node aborting (what happened is printed); after
//! each heal (restart included) the cluster is whole; after teardown nothing is mounted.

use crate::common::{executor_for, identity, schedule_ops};
use faultline_cluster::{disk::mounts_under, leftovers::leftovers, GaleraOptions, LocalGalera};
use faultline_core::db::{Db, DiskFault};
use faultline_core::Nemesis;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FAULTS: &[&str] = &["io_delay", "disk_hang", "io_error", "disk_full"];

/// Seconds one autocommit INSERT on `node` takes (median of `n`), and its error if any.
async fn commit_time(cluster: &LocalGalera, node: &str, n: usize) -> f64 {
    let mut times = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        cluster
            .admin_sql(node, &[&insert(node, 10)])
            .await
            .unwrap_or_else(|e| panic!("insert on {node}: {e}"));
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[n / 2]
}

fn insert(node: &str, pad: usize) -> String {
    format!("INSERT INTO jepsen.disk (node, pad) VALUES ('{node}', REPEAT('x', {pad}))")
}

async fn count(cluster: &LocalGalera, node: &str) -> Option<u64> {
    let v = cluster
        .query_value(node, "SELECT COUNT(*) FROM jepsen.disk")
        .await
        .ok()??;
    v.parse().ok()
}

/// Heals everything, waits for all three Synced, writes on every node and waits until the
/// three agree on the row count.
async fn assert_whole(cluster: &LocalGalera, label: &str) {
    let t = Instant::now();
    // One heal suffices: a node restarted after io_error may die once more (the kernel keeps
    // a failed writeback's EIO for the file's next fsync/msync, even by a new process), and
    // LocalGalera's heal starts such a node again by itself.
    let healed = match cluster.heal_all().await {
        Ok(()) => cluster.wait_ready(Duration::from_secs(240)).await,
        Err(e) => Err(e),
    };
    if let Err(e) = healed {
        let dir = identity(cluster).1;
        for n in ["n1", "n2", "n3"] {
            if cluster.pid(n).is_some() {
                continue;
            }
            let log = std::fs::read_to_string(dir.join(n).join("error.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "{label}: {n} error.log, last lines:\n{}",
                lines[lines.len().saturating_sub(12)..].join("\n")
            );
        }
        panic!("{label}: not whole after the heal: {e}");
    }
    for n in ["n1", "n2", "n3"] {
        cluster
            .admin_sql(n, &[&insert(n, 10)])
            .await
            .unwrap_or_else(|e| panic!("{label}: write on {n} after heal: {e}"));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c: Vec<Option<u64>> = [
            count(cluster, "n1").await,
            count(cluster, "n2").await,
            count(cluster, "n3").await,
        ]
        .to_vec();
        if c[0].is_some() && c.iter().all(|x| *x == c[0]) {
            eprintln!(
                "{label}: whole again after {:.1}s, {} rows on every node",
                t.elapsed().as_secs_f64(),
                c[0].unwrap()
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{label}: row counts differ: {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The last `n` lines of a node's error log that mention InnoDB or WSREP errors.
fn log_tail(dir: &std::path::Path, node: &str, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(node).join("error.log")).unwrap_or_default();
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("Aborting") || l.contains("signal"))
        .map(|l| l.chars().take(200).collect())
        .collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_faults_take_effect_and_heal() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let opts = GaleraOptions {
        disk_faults: true,
        ..Default::default()
    };
    let cluster = Arc::new(
        LocalGalera::start(opts)
            .await
            .expect("cluster starts on FUSE"),
    );
    let (prefix, dir) = identity(&cluster);
    assert_eq!(cluster.disk_mounts().len(), 3, "one FUSE data dir per node");
    let cnf = std::fs::read_to_string(dir.join("n1/my.cnf")).unwrap();
    assert!(cnf.contains("innodb_flush_method=fsync"), "{cnf}");
    let db: Arc<dyn Db> = cluster.clone();
    let nemesis = executor_for(FAULTS, &db);

    cluster
        .admin_sql(
            "n1",
            &["CREATE TABLE jepsen.disk (id BIGINT AUTO_INCREMENT PRIMARY KEY, node VARCHAR(8), pad LONGTEXT)"],
        )
        .await
        .unwrap();
    assert_whole(&cluster, "start").await;

    for pair in schedule_ops(FAULTS, 11).chunks(2) {
        let (mut start, stop) = (pair[0].clone(), &pair[1]);
        let name = start.value["fault"].as_str().unwrap().to_string();
        let target = start.value["nodes"][0].as_str().unwrap().to_string();
        if name == "io_error" {
            // Every write and fsync fails, so the outcome does not depend on luck.
            start.value["params"]["percent"] = 100.into();
        }
        let params = start.value["params"].clone();
        let before = if name == "io_delay" {
            commit_time(&cluster, &target, 5).await
        } else {
            0.0
        };
        let c = nemesis.invoke(&start).await;
        assert!(c.error.is_none(), "{name} start: {c:?}");
        let pid = cluster.pid(&target);
        match name.as_str() {
            "io_delay" => {
                let ms = params["delay_ms"].as_u64().unwrap();
                assert_eq!(cluster.disk_fault(&target), DiskFault::Delay { ms });
                let during = commit_time(&cluster, &target, 5).await;
                let c = nemesis.invoke(stop).await;
                assert!(c.error.is_none(), "{name} stop: {c:?}");
                let after = commit_time(&cluster, &target, 5).await;
                eprintln!(
                    "io_delay {ms} ms on {target}: commit {:.0} ms before, {:.0} ms during, {:.0} ms after",
                    before * 1e3,
                    during * 1e3,
                    after * 1e3
                );
                assert!(during * 1e3 >= ms as f64, "a commit fsyncs at least once");
                assert!(after < during, "the heal restores commit time");
            }
            "disk_hang" => {
                let (c2, t2) = (cluster.clone(), target.clone());
                let write = tokio::spawn(async move {
                    let t = Instant::now();
                    let r = c2.admin_sql(&t2, &[&insert(&t2, 10)]).await;
                    (t.elapsed(), r)
                });
                tokio::time::sleep(Duration::from_secs(5)).await;
                assert!(
                    !write.is_finished(),
                    "a write on a hung disk must not complete"
                );
                // For the record: does the rest of the cluster still commit meanwhile?
                let other = if target == "n1" { "n2" } else { "n1" };
                let t = Instant::now();
                let r = tokio::time::timeout(
                    Duration::from_secs(5),
                    cluster.admin_sql(other, &[&insert(other, 10)]),
                )
                .await;
                let seen = cluster.statuses().await;
                eprintln!(
                    "disk_hang on {target}: a write on {other} meanwhile took {:.2}s: {r:?}; wsrep: {:?}",
                    t.elapsed().as_secs_f64(),
                    seen.iter()
                        .map(|(n, s)| format!("{n} {} {}", s.cluster_status, s.cluster_size))
                        .collect::<Vec<_>>()
                );
                let healed = Instant::now();
                let c = nemesis.invoke(stop).await;
                assert!(c.error.is_none(), "{name} stop: {c:?}");
                let (took, r) = tokio::time::timeout(Duration::from_secs(60), write)
                    .await
                    .expect("the hung write ends after the heal")
                    .unwrap();
                eprintln!(
                    "disk_hang on {target}: write blocked {:.1}s, ended {:.1}s after the heal: {r:?}; mariadbd alive: {}",
                    took.as_secs_f64(),
                    healed.elapsed().as_secs_f64(),
                    cluster.pid(&target).is_some()
                );
            }
            _ => {
                // io_error and disk_full: writes that must touch the disk, then CREATE TABLE.
                let mut errors = Vec::new();
                let mut ok = 0;
                for i in 0..20 {
                    let sql = if i == 19 {
                        format!("CREATE TABLE jepsen.probe_{name} (id INT PRIMARY KEY)")
                    } else {
                        insert(&target, 200_000)
                    };
                    let r = tokio::time::timeout(
                        Duration::from_secs(10),
                        cluster.admin_sql(&target, &[&sql]),
                    )
                    .await;
                    match r {
                        Ok(Ok(())) => ok += 1,
                        Ok(Err(e)) => {
                            errors.push(e.to_string().chars().take(120).collect::<String>())
                        }
                        Err(_) => errors.push("timeout (10 s)".into()),
                    }
                    if cluster.pid(&target).is_none() {
                        break;
                    }
                }
                // An aborting mariadbd takes a while to go (stack trace, core file): wait.
                let deadline = Instant::now() + Duration::from_secs(15);
                while !errors.is_empty() && cluster.pid(&target) == pid && Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                let died = cluster.pid(&target) != pid;
                errors.dedup();
                eprintln!(
                    "{name} ({params}) on {target}: {ok} ok, errors {errors:?}; mariadbd died: {died}; log: {:#?}",
                    log_tail(&dir, &target, 6)
                );
                assert!(
                    !errors.is_empty() || died,
                    "{name}: the client saw no error and the node did not die"
                );
                let c = nemesis.invoke(stop).await;
                assert!(c.error.is_none(), "{name} stop: {c:?}");
            }
        }
        assert_eq!(
            cluster.disk_fault(&target),
            DiskFault::None,
            "{name} healed"
        );
        assert_whole(&cluster, &name).await;
    }

    drop(nemesis);
    drop(db);
    let cluster = Arc::try_unwrap(cluster).ok().expect("sole owner");
    drop(cluster);
    assert!(
        mounts_under(&dir).is_empty(),
        "FUSE mounts left: {:?}",
        mounts_under(&dir)
    );
    let left = leftovers(&prefix, &dir);
    assert!(left.is_empty(), "left behind: {left:?}");
}
