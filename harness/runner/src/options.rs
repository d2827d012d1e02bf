//! Run options shared by every test binary, in two stages (after ripgrep): [`RunArgs`] is
//! what clap parsed, [`RunSpec`] the resolved, serialisable description of the run that goes
//! into test.json (concrete concurrency, the seed, the expanded nemesis list).

use clap::Args;
use faultline_nemesis::Mode;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// System under test: local-galera (N MariaDB Galera nodes the harness starts),
    /// local-mariadb (one plain server), tidb-playground (PD, TiKV and TiDB from --pd.path
    /// etc., unverified against real TiDB), or an existing cluster as
    /// mysql://user:password@host:port,host:port/database (no faults).
    #[arg(long, default_value = "local-galera")]
    pub db: String,
    /// Number of nodes (local-galera).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Client workers: a number, or `3n` for three per node.
    #[arg(long, default_value = "2n")]
    pub concurrency: String,
    /// Seconds of workload (faults included); then heal, recover and final reads.
    #[arg(long, default_value_t = 60)]
    pub time_limit: u64,
    /// Seed of the one random stream every choice comes from (random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Faults, comma separated (`faultline list nemeses`), or `none`.
    #[arg(long, value_delimiter = ',', default_value = "none")]
    pub nemesis: Vec<String>,
    /// Seconds of quiet before each fault.
    #[arg(long, default_value_t = 10)]
    pub nemesis_interval: u64,
    /// How long each fault lasts: seconds, or a range `MIN-MAX` chosen at random.
    #[arg(long, default_value = "10-30")]
    pub nemesis_duration: String,
    /// How the next fault is picked from the list.
    #[arg(long, default_value = "random", value_parser = ["random", "round-robin"])]
    pub nemesis_mode: String,
    /// When the cluster must be healthy (every node ready, full membership) for a fault to
    /// be injected: before the `first` fault only (faults compound, as in Jepsen), or before
    /// `each` fault (one that finds the cluster unhealthy within --recovery-timeout is
    /// skipped, and recorded as skipped).
    #[arg(long, default_value = "first", value_parser = ["first", "each"])]
    pub nemesis_admission: String,
    /// Mean milliseconds between client ops, over all workers (stagger).
    #[arg(long, default_value_t = 10)]
    pub op_interval_ms: u64,
    /// Seconds before an op without an answer is abandoned (info, or fail for reads).
    #[arg(long, default_value_t = 5)]
    pub op_timeout: u64,
    /// Where runs are kept.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// `name=value` put into every node's [mysqld] configuration (repeatable).
    #[arg(long = "server-option")]
    pub server_options: Vec<String>,
    /// Seconds to wait, after healing, for every node to serve queries again.
    #[arg(long, default_value_t = 120)]
    pub recovery_timeout: u64,
    /// Longest acceptable recovery after a fault (seconds to the first ok op on every node
    /// and to 90% of the throughput before the fault); slower is an invalid verdict of its
    /// own (availability, kept apart from safety).
    #[arg(long)]
    pub recovery_slo: Option<f64>,
    /// tidb-playground: the pd-server binary (a path, or a name looked up on PATH).
    #[arg(long = "pd.path", default_value = "pd-server")]
    pub pd_path: PathBuf,
    /// tidb-playground: the tikv-server binary.
    #[arg(long = "tikv.path", default_value = "tikv-server")]
    pub tikv_path: PathBuf,
    /// tidb-playground: the tidb-server binary.
    #[arg(long = "tidb.path", default_value = "tidb-server")]
    pub tidb_path: PathBuf,
    /// tidb-playground: number of PD servers.
    #[arg(long = "pd.count", default_value_t = 1)]
    pub pd_count: usize,
    /// tidb-playground: number of TiKV servers.
    #[arg(long = "tikv.count", default_value_t = 1)]
    pub tikv_count: usize,
    /// tidb-playground: number of TiDB servers (the client endpoints).
    #[arg(long = "tidb.count", default_value_t = 1)]
    pub tidb_count: usize,
}

/// The TiDB playground's binaries and component counts (`--db tidb-playground`).
#[derive(Clone, Debug, Serialize)]
pub struct TidbSpec {
    pub pd_path: PathBuf,
    pub tikv_path: PathBuf,
    pub tidb_path: PathBuf,
    pub pd_count: usize,
    pub tikv_count: usize,
    pub tidb_count: usize,
}

impl TidbSpec {
    pub fn options(&self) -> faultline_cluster::TidbOptions {
        faultline_cluster::TidbOptions {
            pd_path: self.pd_path.clone(),
            tikv_path: self.tikv_path.clone(),
            tidb_path: self.tidb_path.clone(),
            pd_count: self.pd_count,
            tikv_count: self.tikv_count,
            tidb_count: self.tidb_count,
            ..Default::default()
        }
    }
}

/// The resolved run description written to test.json.
#[derive(Clone, Debug, Serialize)]
pub struct RunSpec {
    pub test: String,
    /// Recorded with its password masked.
    #[serde(serialize_with = "masked")]
    pub db: String,
    pub nodes: usize,
    pub concurrency: usize,
    pub time_limit_s: u64,
    pub seed: u64,
    pub nemesis: Vec<String>,
    pub nemesis_interval_s: u64,
    pub nemesis_duration_s: (u64, u64),
    pub nemesis_mode: Mode,
    /// Every fault passes the admission check, not only the first.
    pub nemesis_admit_each: bool,
    pub op_interval_ms: u64,
    pub op_timeout_s: u64,
    pub recovery_timeout_s: u64,
    pub recovery_slo_s: Option<f64>,
    pub store: PathBuf,
    pub server_options: Vec<(String, String)>,
    /// Only for `--db tidb-playground`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tidb: Option<TidbSpec>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadArgs(pub String);

fn masked<S: serde::Serializer>(db: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&faultline_cluster::endpoint::mask_url_passwords(db))
}

/// `name=value` settings for a server's configuration, as given to `flag`.
pub fn parse_server_options(
    flag: &str,
    items: &[String],
) -> Result<Vec<(String, String)>, BadArgs> {
    items
        .iter()
        .map(|o| match o.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
            None => Err(BadArgs(format!(
                "{flag} {o:?}: give name=value, e.g. wsrep_sync_wait=1"
            ))),
        })
        .collect()
}

/// `8` -> 8; `3n` with 3 nodes -> 9.
pub fn parse_concurrency(s: &str, nodes: usize) -> Result<usize, BadArgs> {
    let bad = || {
        BadArgs(format!(
            "--concurrency {s:?}: give a number like 6, or 2n for two per node"
        ))
    };
    let n = match s.strip_suffix('n') {
        Some("") => nodes,
        Some(k) => k.parse::<usize>().map_err(|_| bad())? * nodes,
        None => s.parse::<usize>().map_err(|_| bad())?,
    };
    if n == 0 {
        return Err(bad());
    }
    Ok(n)
}

fn parse_duration_range(s: &str) -> Result<(u64, u64), BadArgs> {
    let bad = || {
        BadArgs(format!(
            "--nemesis-duration {s:?}: give seconds like 15, or a range like 10-30"
        ))
    };
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        ),
        None => {
            let v = s.trim().parse().map_err(|_| bad())?;
            (v, v)
        }
    };
    if lo > hi || hi == 0 {
        return Err(bad());
    }
    Ok((lo, hi))
}

impl RunArgs {
    /// Validates and resolves the arguments of test `test`.
    pub fn resolve(&self, test: &str) -> Result<RunSpec, BadArgs> {
        let tidb = (self.db == "tidb-playground")
            .then(|| self.tidb_spec())
            .transpose()?;
        let nodes = match self.db.as_str() {
            "local-galera" => self.nodes,
            "tidb-playground" => self.pd_count + self.tikv_count + self.tidb_count,
            "local-mariadb" => 1,
            url if url.starts_with("mysql://") => faultline_cluster::external::External::parse(url)
                .map_err(|e| BadArgs(e.to_string()))?
                .endpoints()
                .len(),
            other => {
                return Err(BadArgs(format!(
                    "--db {:?} is not known: use local-galera, local-mariadb, tidb-playground or mysql://user:password@host:port,...",
                    faultline_cluster::endpoint::mask_url_passwords(other)
                )))
            }
        };
        if tidb.is_none() && (nodes == 0 || nodes > 9) {
            return Err(BadArgs(format!("--nodes {}: give 1 to 9", self.nodes)));
        }
        faultline_nemesis::lookup(&self.nemesis).map_err(|e| BadArgs(e.to_string()))?;
        let server_options = parse_server_options("--server-option", &self.server_options)?;
        if self.time_limit == 0 {
            return Err(BadArgs("--time-limit must be at least 1 second".into()));
        }
        Ok(RunSpec {
            test: test.to_string(),
            db: self.db.clone(),
            nodes,
            concurrency: parse_concurrency(&self.concurrency, nodes)?,
            time_limit_s: self.time_limit,
            seed: self.seed.unwrap_or_else(rand::random),
            nemesis: self
                .nemesis
                .iter()
                .filter(|n| n.as_str() != "none")
                .cloned()
                .collect(),
            nemesis_interval_s: self.nemesis_interval,
            nemesis_duration_s: parse_duration_range(&self.nemesis_duration)?,
            nemesis_mode: if self.nemesis_mode == "round-robin" {
                Mode::RoundRobin
            } else {
                Mode::Random
            },
            nemesis_admit_each: self.nemesis_admission == "each",
            op_interval_ms: self.op_interval_ms,
            op_timeout_s: self.op_timeout.max(1),
            recovery_timeout_s: self.recovery_timeout,
            recovery_slo_s: self.recovery_slo,
            store: self.store.clone(),
            server_options,
            tidb,
        })
    }

    /// The playground's counts (1 to 7 each) and binaries, which must exist.
    fn tidb_spec(&self) -> Result<TidbSpec, BadArgs> {
        for (flag, n) in [
            ("--pd.count", self.pd_count),
            ("--tikv.count", self.tikv_count),
            ("--tidb.count", self.tidb_count),
        ] {
            if n == 0 || n > 7 {
                return Err(BadArgs(format!("{flag} {n}: give 1 to 7")));
            }
        }
        let spec = TidbSpec {
            pd_path: self.pd_path.clone(),
            tikv_path: self.tikv_path.clone(),
            tidb_path: self.tidb_path.clone(),
            pd_count: self.pd_count,
            tikv_count: self.tikv_count,
            tidb_count: self.tidb_count,
        };
        spec.options()
            .check_binaries()
            .map_err(|e| BadArgs(e.to_string()))?;
        Ok(spec)
    }
}

impl RunSpec {
    /// The database argument with any password masked, for logs.
    pub fn db_masked(&self) -> String {
        faultline_cluster::endpoint::mask_url_passwords(&self.db)
    }

    pub fn op_timeout(&self) -> Duration {
        Duration::from_secs(self.op_timeout_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_is_a_number_or_per_node() {
        assert_eq!(parse_concurrency("5", 3).unwrap(), 5);
        assert_eq!(parse_concurrency("3n", 3).unwrap(), 9);
        assert_eq!(parse_concurrency("n", 4).unwrap(), 4);
        assert!(parse_concurrency("x", 3).is_err());
        assert!(parse_concurrency("0", 3).is_err());
    }

    #[test]
    fn an_external_db_counts_its_nodes_and_is_recorded_without_its_password() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunArgs,
        }
        let cli = Cli::parse_from(["t", "--db", "mysql://u:hunter2@a:1,b:2/x"]);
        let spec = cli.run.resolve("bank").unwrap();
        assert_eq!(spec.nodes, 2);
        let json = serde_json::to_string(&spec).unwrap();
        assert!(
            !json.contains("hunter2") && json.contains("u:***@a:1,b:2/x"),
            "{json}"
        );
        let cli = Cli::parse_from(["t", "--db", "oracle"]);
        assert!(cli.run.resolve("bank").is_err());
    }

    #[test]
    fn tidb_playground_counts_every_component_and_names_the_missing_binary() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunArgs,
        }
        // /bin/sh stands in for the TiDB binaries: only their existence is checked here.
        let cli = Cli::parse_from([
            "t",
            "--db",
            "tidb-playground",
            "--pd.path",
            "/bin/sh",
            "--tikv.path",
            "/bin/sh",
            "--tidb.path",
            "/bin/sh",
            "--pd.count",
            "3",
            "--tikv.count",
            "3",
        ]);
        let spec = cli.run.resolve("bank").unwrap();
        assert_eq!(spec.nodes, 7);
        assert_eq!(spec.tidb.as_ref().unwrap().pd_count, 3);
        let cli = Cli::parse_from([
            "t",
            "--db",
            "tidb-playground",
            "--pd.path",
            "/bin/sh",
            "--tikv.path",
            "/nonexistent/tikv-server",
            "--tidb.path",
            "/bin/sh",
        ]);
        let err = cli.run.resolve("bank").unwrap_err().to_string();
        assert!(err.contains("--tikv.path") && !err.contains('\n'), "{err}");
        let cli = Cli::parse_from(["t", "--db", "tidb-playground", "--pd.count", "0"]);
        assert!(cli
            .run
            .resolve("bank")
            .unwrap_err()
            .to_string()
            .contains("--pd.count"));
    }

    #[test]
    fn durations_are_seconds_or_ranges() {
        assert_eq!(parse_duration_range("15").unwrap(), (15, 15));
        assert_eq!(parse_duration_range("10-30").unwrap(), (10, 30));
        assert!(parse_duration_range("30-10").is_err());
    }
}
