//! Bank through the harness against a bare mysql_async loop, on one local Galera cluster.
//!
//! `cargo bench -p faultline-workloads --bench bank_throughput -- [--seconds 20]
//! [--rounds 2] [--concurrency 6] [--nodes 3]` starts one local Galera cluster and, in each
//! round, runs for `--seconds`:
//! - the bare loop: `--concurrency` tasks, task i on node i mod N, each with one
//!   connection opened as the bank client opens it (same options, same session statements),
//!   sending the bank client's statements (a read: START TRANSACTION, SELECT all balances,
//!   COMMIT; a transfer: START TRANSACTION, SELECT the two balances, two UPDATEs, COMMIT, or
//!   ROLLBACK when it would overdraw), reads and transfers half and half;
//! - the `bank` test binary itself with `--db mysql://...` (the same cluster, no faults),
//!   `--concurrency` the same and the workload's default pacing (run unpaced by default),
//!   counting the ops its history completed within `--seconds`.
//!
//! It prints ops/s of each and the ratio harness / bare per round.
//!
//! `-- --first-anomaly 10 [--pacing 0,10] [--time-limit 60]` instead runs `bank` with its
//! defaults (no faults) for seeds 1..=10 at each `--op-interval-ms` of `--pacing`, against
//! the same cluster, and prints when each run's first bad read happened (or that it had
//! none).

use clap::Parser;
use faultline_cluster::{GaleraOptions, LocalGalera};
use faultline_core::Endpoint;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Seconds per phase.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    #[arg(long, default_value_t = 6)]
    concurrency: usize,
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Time to the first anomaly over this many seeds instead of throughput.
    #[arg(long)]
    first_anomaly: Option<u64>,
    /// `--op-interval-ms` values for --first-anomaly (empty: the workload's default only).
    #[arg(long, value_delimiter = ',')]
    pacing: Vec<u64>,
    /// `--time-limit` of each --first-anomaly run.
    #[arg(long, default_value_t = 60)]
    time_limit: u64,
    /// cargo bench passes --bench.
    #[arg(long, hide = true)]
    bench: bool,
}

const ACCOUNTS: i64 = 5;
const TOTAL: i64 = 100;
const MAX_TRANSFER: i64 = 5;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let cluster = rt.block_on(LocalGalera::start(GaleraOptions {
        nodes: args.nodes,
        galera: true,
        ..Default::default()
    }))?;
    let endpoints = cluster.endpoints();
    let url = external_url(&endpoints);
    let store = std::env::temp_dir().join(format!("fl-bench-bank-{}", std::process::id()));
    let result = match args.first_anomaly {
        Some(seeds) => first_anomaly(&args, &cluster, &url, &store, seeds),
        None => throughput(&args, &rt, &endpoints, &url, &store),
    };
    let _ = std::fs::remove_dir_all(&store);
    drop(cluster);
    result
}

fn throughput(
    args: &Args,
    rt: &tokio::runtime::Runtime,
    endpoints: &[Endpoint],
    url: &str,
    store: &Path,
) -> anyhow::Result<()> {
    println!(
        "bank, {} connections over {} Galera nodes, {} s per phase",
        args.concurrency, args.nodes, args.seconds
    );
    println!("round  bare ops/s (ok/fail)       harness ops/s (ok/fail)    harness/bare");
    let mut ratios = Vec::new();
    for round in 1..=args.rounds {
        let bare = rt.block_on(bare_loop(endpoints, args.concurrency, args.seconds, round))?;
        let run = harness_run(args, url, store, round as u64)?;
        let ratio = run.per_s(args.seconds) / bare.per_s(args.seconds);
        ratios.push(ratio);
        println!(
            "{round:<6} {:>8.0} ({:>6}/{:<6})      {:>8.0} ({:>6}/{:<6})     {:.3}",
            bare.per_s(args.seconds),
            bare.ok,
            bare.fail,
            run.per_s(args.seconds),
            run.ok,
            run.fail,
            ratio
        );
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    println!("mean harness/bare: {mean:.3}");
    Ok(())
}

#[derive(Default)]
struct Count {
    ok: u64,
    fail: u64,
}

impl Count {
    fn per_s(&self, seconds: u64) -> f64 {
        (self.ok + self.fail) as f64 / seconds as f64
    }
}

fn external_url(endpoints: &[Endpoint]) -> String {
    let e = &endpoints[0];
    let hosts: Vec<String> = endpoints
        .iter()
        .map(|e| format!("{}:{}", e.host, e.port))
        .collect();
    format!(
        "mysql://{}:{}@{}/{}",
        e.user,
        e.password,
        hosts.join(","),
        e.database
    )
}

async fn connect(endpoint: &Endpoint) -> anyhow::Result<Conn> {
    // As the workloads' SqlConn opens a connection (no session statements: the server's
    // default isolation).
    let opts = OptsBuilder::from_opts(Opts::from_url(&endpoint.url_with_secret())?)
        .stmt_cache_size(0)
        .tcp_nodelay(true);
    Ok(Conn::new(opts).await?)
}

async fn bare_loop(
    endpoints: &[Endpoint],
    concurrency: usize,
    seconds: u64,
    seed: usize,
) -> anyhow::Result<Count> {
    let mut setup = connect(&endpoints[0]).await?;
    setup
        .query_drop(
            "CREATE TABLE IF NOT EXISTS accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)",
        )
        .await?;
    setup.query_drop("DELETE FROM accounts").await?;
    let each = TOTAL / ACCOUNTS;
    let values: Vec<String> = (0..ACCOUNTS).map(|i| format!("({i}, {each})")).collect();
    setup
        .query_drop(format!("INSERT INTO accounts VALUES {}", values.join(",")))
        .await?;
    drop(setup);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..concurrency {
        let endpoint = endpoints[i % endpoints.len()].clone();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64((seed * 1000 + i) as u64);
        tasks.push(tokio::spawn(async move {
            let mut count = Count::default();
            let mut conn = connect(&endpoint).await?;
            while Instant::now() < deadline {
                let ok = if rng.random_bool(0.5) {
                    read(&mut conn).await
                } else {
                    let from = rng.random_range(0..ACCOUNTS);
                    let mut to = rng.random_range(0..ACCOUNTS - 1);
                    if to >= from {
                        to += 1;
                    }
                    transfer(&mut conn, from, to, rng.random_range(1..=MAX_TRANSFER)).await
                };
                match ok {
                    Ok(true) => count.ok += 1,
                    Ok(false) => count.fail += 1,
                    Err(_) => {
                        count.fail += 1;
                        let _ = conn.query_drop("ROLLBACK").await;
                    }
                }
            }
            anyhow::Ok(count)
        }));
    }
    let mut total = Count::default();
    for t in tasks {
        let c = t.await??;
        total.ok += c.ok;
        total.fail += c.fail;
    }
    Ok(total)
}

async fn read(conn: &mut Conn) -> Result<bool, mysql_async::Error> {
    conn.query_drop("START TRANSACTION").await?;
    let rows: Vec<(i64, i64)> = conn.query("SELECT id, balance FROM accounts").await?;
    conn.query_drop("COMMIT").await?;
    Ok(rows.len() as i64 == ACCOUNTS)
}

async fn transfer(
    conn: &mut Conn,
    from: i64,
    to: i64,
    amount: i64,
) -> Result<bool, mysql_async::Error> {
    conn.query_drop("START TRANSACTION").await?;
    let rows: Vec<(i64, i64)> = conn
        .query(format!(
            "SELECT id, balance FROM accounts WHERE id IN ({from}, {to})"
        ))
        .await?;
    let balance = |id| rows.iter().find(|(i, _)| *i == id).map(|(_, b)| *b);
    let (Some(b_from), Some(b_to)) = (balance(from), balance(to)) else {
        conn.query_drop("ROLLBACK").await?;
        return Ok(false);
    };
    if b_from - amount < 0 {
        conn.query_drop("ROLLBACK").await?;
        return Ok(false);
    }
    for (id, b) in [(from, b_from - amount), (to, b_to + amount)] {
        conn.query_drop(format!("UPDATE accounts SET balance = {b} WHERE id = {id}"))
            .await?;
    }
    conn.query_drop("COMMIT").await?;
    Ok(true)
}

/// Runs the `bank` binary against the cluster; returns the run folder and its exit code.
fn bank(url: &str, store: &Path, extra: &[String]) -> anyhow::Result<(PathBuf, Option<i32>)> {
    let _ = std::fs::remove_dir_all(store);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["--db", url, "--store"])
        .arg(store)
        .args(extra)
        .env("FAULTLINE_PROGRESS", "0")
        .output()?;
    let dir = find_file(store, "history.jsonl")
        .and_then(|h| h.parent().map(Path::to_path_buf))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "bank left no history: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    Ok((dir, out.status.code()))
}

fn harness_run(args: &Args, url: &str, store: &Path, seed: u64) -> anyhow::Result<Count> {
    let extra: Vec<String> = [
        "--concurrency".to_string(),
        args.concurrency.to_string(),
        "--time-limit".into(),
        args.seconds.to_string(),
        "--seed".into(),
        seed.to_string(),
    ]
    .into();
    let (dir, _) = bank(url, store, &extra)?;
    let history = std::fs::read_to_string(dir.join("history.jsonl"))?;
    let limit = args.seconds * 1_000_000_000;
    let mut count = Count::default();
    for line in history.lines() {
        let Ok(op) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if op["process"].as_str() == Some("nemesis") || op["time"].as_u64().unwrap_or(0) > limit {
            continue;
        }
        match op["type"].as_str() {
            Some("ok") => count.ok += 1,
            Some("fail") | Some("info") => count.fail += 1,
            _ => {}
        }
    }
    Ok(count)
}

/// Fails with the tail of its error log when a node of `cluster` is down.
fn all_nodes_up(cluster: &LocalGalera, nodes: usize) -> anyhow::Result<()> {
    for k in 1..=nodes {
        let node = format!("n{k}");
        if cluster.pid(&node).is_none() {
            let log = cluster.error_log(&node).unwrap_or_default();
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            anyhow::bail!(
                "{node} is down; the end of {}:\n{}",
                log.display(),
                tail.join("\n")
            );
        }
    }
    Ok(())
}

fn first_anomaly(
    args: &Args,
    cluster: &LocalGalera,
    url: &str,
    store: &Path,
    seeds: u64,
) -> anyhow::Result<()> {
    let pacings: Vec<Option<u64>> = if args.pacing.is_empty() {
        vec![None]
    } else {
        args.pacing.iter().copied().map(Some).collect()
    };
    println!(
        "bank, defaults, no faults, --time-limit {} against {} Galera nodes",
        args.time_limit, args.nodes
    );
    println!("op-interval-ms  seed  verdict   ops     first bad read (s)");
    for pacing in pacings {
        let mut found = Vec::new();
        for seed in 1..=seeds {
            let mut extra = vec![
                "--seed".to_string(),
                seed.to_string(),
                "--time-limit".into(),
                args.time_limit.to_string(),
            ];
            if let Some(p) = pacing {
                extra.extend(["--op-interval-ms".to_string(), p.to_string()]);
            }
            all_nodes_up(cluster, args.nodes)?;
            let (dir, _) = bank(url, store, &extra)?;
            let results: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("results.json"))?)?;
            let bank = results["results"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["checker"] == "bank"))
                .cloned()
                .unwrap_or(Value::Null);
            let first = bank["details"]["first_bad_reads"][0]["time_s"].as_f64();
            let ops = results["ops"].as_u64().unwrap_or(0);
            let pacing = pacing.map_or("default".to_string(), |p| p.to_string());
            println!(
                "{pacing:<15} {seed:<5} {:<9} {ops:<7} {}",
                bank["valid"].as_str().unwrap_or("?"),
                first.map_or("none".to_string(), |t| format!("{t:.3}"))
            );
            if let Some(t) = first {
                found.push(t);
            }
        }
        found.sort_by(f64::total_cmp);
        let median = found.get(found.len() / 2).copied();
        println!(
            "  found in {} of {seeds} runs; median {}, slowest {}",
            found.len(),
            median.map_or("-".into(), |t| format!("{t:.3} s")),
            found.last().map_or("-".into(), |t| format!("{t:.3} s"))
        );
    }
    Ok(())
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}
