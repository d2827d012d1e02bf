//! Helpers shared by the real-cluster fault tests: the schedule's own ops for a list of
//! faults, a light write load that records what clients saw, and waiting on wsrep status.

#![allow(dead_code)]

use faultline_cluster::galera::NodeStatus;
use faultline_cluster::LocalGalera;
use faultline_core::generator::{Ctx, Generator, Next};
use faultline_core::{Invocation, Process};
use faultline_nemesis::{schedule, Mode, ScheduleOptions};
use mysql_async::prelude::Queryable;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The start/stop ops the round-robin schedule produces for `names`, in order (one pair
/// per fault), from seed `seed`.
pub fn schedule_ops(names: &[&str], seed: u64) -> Vec<Invocation> {
    let faults = Arc::new(
        faultline_nemesis::lookup(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap(),
    );
    let mut g = schedule(
        faults,
        ScheduleOptions {
            interval: Duration::ZERO,
            duration_min: Duration::ZERO,
            duration_max: Duration::ZERO,
            mode: Mode::RoundRobin,
            candidates: None,
        },
    );
    let nodes: Vec<String> = vec!["n1".into(), "n2".into(), "n3".into()];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut t = 0;
    while out.len() < names.len() * 2 {
        let mut ctx = Ctx {
            time: Duration::from_millis(t),
            process: Process::Nemesis,
            thread: 0,
            nodes: &nodes,
            in_flight: 0,
            rng: &mut rng,
        };
        if let Next::Op(op) = g.next(&mut ctx) {
            out.push(op);
        }
        t += 1;
    }
    out
}

/// One write attempt: when, on which node, and the error (None: ok).
#[derive(Clone, Debug)]
pub struct Attempt {
    pub at: Instant,
    pub node: String,
    pub error: Option<String>,
}

/// One autocommit INSERT every 100 ms on each node, 3 s timeout, reconnect after errors.
pub struct Load {
    stop: Arc<AtomicBool>,
    pub attempts: Arc<Mutex<Vec<Attempt>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn short(e: &str) -> String {
    // "Server error: `ERROR 08S01 (1047): WSREP has not yet ...`" -> "1047 WSREP has not yet"
    let code = e
        .split('(')
        .nth(1)
        .and_then(|r| r.split(')').next())
        .filter(|c| c.chars().all(|x| x.is_ascii_digit()));
    let text: String = e.chars().take(60).collect();
    match code {
        Some(c) => format!(
            "{c} {}",
            e.split("): ")
                .nth(1)
                .unwrap_or(&text)
                .chars()
                .take(45)
                .collect::<String>()
        ),
        None => text,
    }
}

impl Load {
    pub async fn start(cluster: &LocalGalera) -> Load {
        cluster
            .admin_sql(
                "n1",
                &["CREATE TABLE IF NOT EXISTS jepsen.load (id BIGINT AUTO_INCREMENT PRIMARY KEY, node VARCHAR(8))"],
            )
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for e in cluster.endpoints() {
            let (stop, attempts) = (stop.clone(), attempts.clone());
            tasks.push(tokio::spawn(async move {
                let opts = mysql_async::Opts::from_url(&e.url_with_secret()).unwrap();
                let mut conn: Option<mysql_async::Conn> = None;
                while !stop.load(Ordering::Relaxed) {
                    let at = Instant::now();
                    let r = tokio::time::timeout(Duration::from_secs(3), async {
                        if conn.is_none() {
                            conn = Some(mysql_async::Conn::new(opts.clone()).await?);
                        }
                        let c = conn.as_mut().unwrap();
                        c.query_drop(format!(
                            "INSERT INTO jepsen.load (node) VALUES ('{}')",
                            e.node
                        ))
                        .await
                    })
                    .await;
                    let error = match r {
                        Ok(Ok(())) => None,
                        Ok(Err(err)) => Some(short(&err.to_string())),
                        Err(_) => Some("timeout (3 s)".to_string()),
                    };
                    if error.is_some() {
                        conn = None;
                    }
                    attempts.lock().unwrap().push(Attempt {
                        at,
                        node: e.node.clone(),
                        error,
                    });
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
        }
        Load {
            stop,
            attempts,
            tasks,
        }
    }

    /// What clients saw since `from`: ok count and error counts, for the record.
    pub fn summary(&self, from: Instant) -> String {
        let a = self.attempts.lock().unwrap();
        let mut ok = 0;
        let mut errors: BTreeMap<String, usize> = BTreeMap::new();
        for x in a.iter().filter(|x| x.at >= from) {
            match &x.error {
                None => ok += 1,
                Some(e) => *errors.entry(e.clone()).or_default() += 1,
            }
        }
        format!("{ok} ok, errors {errors:?}")
    }

    /// Seconds from `from` until every node had an ok write again (None: not yet).
    pub fn all_ok_after(&self, from: Instant) -> Option<f64> {
        let a = self.attempts.lock().unwrap();
        let mut worst: f64 = 0.0;
        for n in ["n1", "n2", "n3"] {
            let first = a
                .iter()
                .filter(|x| x.node == n && x.at >= from && x.error.is_none())
                .map(|x| x.at.duration_since(from).as_secs_f64())
                .next()?;
            worst = worst.max(first);
        }
        Some(worst)
    }

    pub async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Polls until `f` holds for `node`'s status; returns the seconds it took. Panics after 90 s.
pub async fn wait_for(
    cluster: &LocalGalera,
    node: &str,
    what: &str,
    f: impl Fn(&NodeStatus) -> bool,
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

/// The one-letter state of a process in /proc (R, S, T, Z, ...), or None when gone.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(") ").next()?.chars().next()
}

/// The lab prefix and temp dir of a cluster, for the leftovers check after it is dropped.
pub fn identity(cluster: &LocalGalera) -> (String, std::path::PathBuf) {
    let facts = faultline_core::db::Db::facts(cluster);
    (
        facts["lab_prefix"].as_str().unwrap().to_string(),
        facts["temp_dir"].as_str().unwrap().into(),
    )
}

/// The executor for the faults `names` against `db`, once `db` is known to support each.
pub fn executor_for(
    names: &[&str],
    db: &Arc<dyn faultline_core::db::Db>,
) -> faultline_nemesis::NemesisExecutor {
    let faults = Arc::new(
        faultline_nemesis::lookup(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap(),
    );
    faultline_nemesis::check_supported(&faults, db.as_ref()).unwrap();
    faultline_nemesis::NemesisExecutor::new(db.clone(), faults)
}
