//! Shared by the sqlsmith real-server tests: start a plain MariaDB, build loop options.

#![allow(dead_code)]

use faultline_cluster::{GaleraOptions, LocalGalera};
use faultline_sqlsmith::Config;
use faultline_workloads::sqlsmith::exec::SqlDb;
use faultline_workloads::sqlsmith::runloop::{LoopOptions, Oracles};
use std::path::PathBuf;
use std::time::Duration;

/// One standalone mariadbd (`local-mariadb`) with extra [mysqld] options.
pub async fn mariadb(options: &[(&str, &str)]) -> LocalGalera {
    let opts = GaleraOptions {
        nodes: 1,
        galera: false,
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
