//! Run options shared by every test binary, in two stages (after ripgrep): [`RunArgs`] is
//! what clap parsed, [`RunSpec`] the resolved, serialisable description of the run that goes
//! into test.json (concrete concurrency, the seed, the expanded nemesis list, the system's
//! own options as its recipe planned them). System-specific options belong to recipes
//! ([`crate::recipe`]), workload options to workloads.

use crate::recipe::{Plan, SystemArgs};
use clap::Args;
use faultline_nemesis::Mode;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// System under test: a name of `faultline list systems` (the default is the
    /// registry's first system), or a URL a system accepts.
    #[arg(long)]
    pub db: String,
    /// Number of nodes, for systems the harness starts itself.
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
    /// Aim every fault at the first client node only (the node a single client uses)
    /// instead of the fault's own choice among all nodes.
    #[arg(long)]
    pub nemesis_client_node: bool,
    /// Mean milliseconds between client ops, over all workers (stagger); 0: as fast as the
    /// system answers.
    #[arg(long, default_value_t = 10)]
    pub op_interval_ms: u64,
    /// Seconds before an op without an answer is abandoned (info, or fail for reads).
    #[arg(long, default_value_t = 5)]
    pub op_timeout: u64,
    /// Where runs are kept.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
    /// Seconds to wait, after healing, for every node to serve queries again.
    #[arg(long, default_value_t = 120)]
    pub recovery_timeout: u64,
    /// Longest acceptable recovery after a fault (seconds to the first ok op on every node
    /// and to 90% of the throughput before the fault); slower is an invalid verdict of its
    /// own (availability, kept apart from safety).
    #[arg(long)]
    pub recovery_slo: Option<f64>,
    /// Post a Slack incoming-webhook message here when the run ends invalid or unknown
    /// (verdict, anomaly, seed, replay command, report). Never stored: the URL is a secret.
    #[arg(long)]
    pub notify: Option<String>,
    /// When the run ends invalid or unknown, leave its cluster up (faults healed) and print
    /// how to reach it and how to remove it (`faultline cluster clean`); a system that
    /// cannot outlive the run says why and is torn down.
    #[arg(long)]
    pub keep_on_failure: bool,
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
    /// Faults aim at the first client node only.
    pub nemesis_client_node: bool,
    pub op_interval_ms: u64,
    pub op_timeout_s: u64,
    pub recovery_timeout_s: u64,
    pub recovery_slo_s: Option<f64>,
    /// Leave the cluster of a failed run up.
    pub keep_on_failure: bool,
    pub store: PathBuf,
    /// The recipe's own options (`Plan::options`).
    pub system: serde_json::Value,
    /// The command that replays the run (`faultline run <test> -- ... --seed N`, passwords
    /// masked, no `--notify`), when it was started from a command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadArgs(pub String);

fn masked<S: serde::Serializer>(db: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&faultline_core::mask_url_passwords(db))
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
    /// The options a recipe may read.
    pub fn system_args(&self) -> SystemArgs {
        SystemArgs {
            db: self.db.clone(),
            nodes: self.nodes,
        }
    }

    /// Validates and resolves the arguments of test `test` against the system `plan`.
    pub fn resolve(&self, test: &str, plan: &dyn Plan) -> Result<RunSpec, BadArgs> {
        let nodes = plan.nodes();
        faultline_nemesis::lookup(&self.nemesis).map_err(|e| BadArgs(e.to_string()))?;
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
            nemesis_client_node: self.nemesis_client_node,
            op_interval_ms: self.op_interval_ms,
            op_timeout_s: self.op_timeout.max(1),
            recovery_timeout_s: self.recovery_timeout,
            recovery_slo_s: self.recovery_slo,
            keep_on_failure: self.keep_on_failure,
            store: self.store.clone(),
            system: plan.options(),
            replay: None,
        })
    }
}

impl RunSpec {
    /// The database argument with any password masked, for logs.
    pub fn db_masked(&self) -> String {
        faultline_core::mask_url_passwords(&self.db)
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
    fn durations_are_seconds_or_ranges() {
        assert_eq!(parse_duration_range("15").unwrap(), (15, 15));
        assert_eq!(parse_duration_range("10-30").unwrap(), (10, 30));
        assert!(parse_duration_range("30-10").is_err());
    }
}
