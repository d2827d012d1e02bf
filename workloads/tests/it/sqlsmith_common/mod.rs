//! Shared by the sqlsmith real-server tests: start a plain MariaDB, build loop options.

#![allow(dead_code)]

use faultline_cluster::{GaleraOptions, LocalGalera};
use faultline_sqlsmith::Config;
use faultline_workloads::sqlsmith::exec::SqlDb;
use faultline_workloads::sqlsmith::runloop::{LoopOptions, Oracles};
use std::path::PathBuf;
use std::time::Duration;

/// One standalone mariadbd (`local-mariadb`) with extra [mysqld] options, its data in
/// memory (`--data-in-memory`: these tests do not test durability).
pub async fn mariadb(options: &[(&str, &str)]) -> LocalGalera {
    let opts = GaleraOptions {
        nodes: 1,
        galera: false,
        data_in_memory: true,
        server_options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    LocalGalera::start(opts)
        .await
        .expect("local-mariadb starts")
}

pub fn db(server: &LocalGalera, label: &str, database: &str) -> SqlDb {
    SqlDb::new(
        label,
        server.endpoints()[0].clone(),
        database,
        Duration::from_secs(30),
    )
}

pub fn options(seed: u64, statements: usize, oracles: Oracles, repro_dir: PathBuf) -> LoopOptions {
    LoopOptions {
        seed,
        statements,
        smith: Config::default(),
        oracles,
        snapshot_every: 100,
        oracle_every: 3,
        max_failures: 3,
        reduce: 0,
        reduce_tests: 300,
        reduce_timeout: Duration::from_secs(40),
        repro_dir,
        tlp_rule: Default::default(),
        plan_change: None,
    }
}

pub fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("fl-sqlsmith-{name}-{}", std::process::id()))
}

/// The records of a sqllogictest file: (is it an oracle query, its SQL).
pub fn slt_records(text: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let oracle = block.contains("# oracle query");
        let lines: Vec<&str> = block
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        if lines.len() >= 2 && (lines[0].starts_with("statement") || lines[0].starts_with("query"))
        {
            out.push((oracle, lines[1].to_string()));
        }
    }
    out
}

/// Replays a metamorphic finding's reproducer (its setup statements, then its oracle
/// queries) on `server`, a fresh fault-free database, and re-runs the oracle's check: Err
/// with the oracle's complaint when the finding reproduces there (so it is the server's
/// bug, not an artefact of a fault), Ok(()) when it does not. Only the oracles whose file
/// alone decides are replayed (norec, plan, tlp); any other is reported as not reproduced.
pub async fn replay_oracle_finding(
    server: &LocalGalera,
    oracle: &str,
    reproducer: &str,
) -> Result<(), String> {
    use faultline_sqlsmith::metamorphic::norec_check;
    let records = slt_records(reproducer);
    let setup: Vec<&String> = records.iter().filter(|r| !r.0).map(|r| &r.1).collect();
    let queries: Vec<&String> = records.iter().filter(|r| r.0).map(|r| &r.1).collect();
    let mut x = db(server, "healthy-replay", "sqlsmith_healthy");
    x.recreate_database()
        .await
        .expect("a fresh replay database");
    for sql in &setup {
        x.run(sql).await;
    }
    let mut rows = Vec::new();
    for q in &queries {
        match x.run(q).await.rows() {
            Some(r) => rows.push(r.to_vec()),
            None => return Ok(()),
        }
    }
    match (oracle, rows.as_slice()) {
        ("norec", [a, b]) => norec_check(a, b),
        ("plan", [a, b]) => faultline_sqlsmith::plan::plan_check(a, b),
        ("tlp", [whole, p, q, r]) => {
            let union: Vec<_> = [p, q, r].into_iter().flatten().cloned().collect();
            if queries[0].starts_with("SELECT DISTINCT") {
                let a: std::collections::BTreeSet<_> = whole.iter().collect();
                let b: std::collections::BTreeSet<_> = union.iter().collect();
                if a == b {
                    Ok(())
                } else {
                    Err(format!("{} distinct row(s) vs {}", a.len(), b.len()))
                }
            } else {
                match faultline_sqlsmith::compare::compare_rows(whole, &union, false) {
                    None => Ok(()),
                    Some(d) => Err(format!("original vs union of partitions: {}", d.what)),
                }
            }
        }
        _ => Ok(()),
    }
}
