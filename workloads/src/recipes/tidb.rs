//! `--db tidb-playground`: PD, TiKV and TiDB on loopback the way `tiup playground` starts
//! them, every peer address behind a proxy of the harness (unverified against real TiDB:
//! tested with stand-in programs). Options: `--pd.path --tikv.path --tidb.path` (binaries,
//! a path or a name on PATH) and `--pd.count --tikv.count --tidb.count` (1 to 7 each).

use async_trait::async_trait;
use clap::{Args, FromArgMatches};
use faultline_cluster::{TidbOptions, TidbPlayground};
use faultline_core::db::Capability;
use faultline_harness::{BadArgs, Plan, Recipe, Sut, SystemArgs};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// The playground's binaries and component counts.
#[derive(Args, Clone, Debug, Serialize)]
pub struct TidbArgs {
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

impl TidbArgs {
    pub fn options(&self) -> TidbOptions {
        TidbOptions {
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

pub struct TidbPlaygroundRecipe;

impl Recipe for TidbPlaygroundRecipe {
    fn name(&self) -> &'static str {
        "tidb-playground"
    }
    fn about(&self) -> &'static str {
        "PD, TiKV and TiDB on loopback behind proxies (--pd.path ...; unverified against real TiDB)"
    }
    fn augment(&self, cmd: clap::Command) -> clap::Command {
        TidbArgs::augment_args(cmd)
    }
    fn plan(
        &self,
        _args: &SystemArgs,
        matches: &clap::ArgMatches,
    ) -> Result<Box<dyn Plan>, BadArgs> {
        let t = TidbArgs::from_arg_matches(matches).map_err(|e| BadArgs(e.to_string()))?;
        for (flag, n) in [
            ("--pd.count", t.pd_count),
            ("--tikv.count", t.tikv_count),
            ("--tidb.count", t.tidb_count),
        ] {
            if n == 0 || n > 7 {
                return Err(BadArgs(format!("{flag} {n}: give 1 to 7")));
            }
        }
        t.options()
            .check_binaries()
            .map_err(|e| BadArgs(e.to_string()))?;
        Ok(Box::new(TidbPlan(t)))
    }
}

struct TidbPlan(TidbArgs);

#[async_trait]
impl Plan for TidbPlan {
    fn nodes(&self) -> usize {
        self.0.pd_count + self.0.tikv_count + self.0.tidb_count
    }
    fn options(&self) -> Value {
        serde_json::to_value(&self.0).unwrap_or(Value::Null)
    }
    async fn start(&self, _needs: &BTreeSet<Capability>) -> anyhow::Result<Sut> {
        let cluster = Arc::new(TidbPlayground::start(self.0.options()).await?);
        Ok(Sut::new(cluster.clone(), cluster.endpoints()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(argv: &[&str]) -> Result<Box<dyn Plan>, BadArgs> {
        let cmd = TidbPlaygroundRecipe.augment(clap::Command::new("t"));
        let m = cmd.get_matches_from(std::iter::once("t").chain(argv.iter().copied()));
        let args = SystemArgs {
            db: "tidb-playground".into(),
            nodes: 3,
        };
        TidbPlaygroundRecipe.plan(&args, &m)
    }

    #[test]
    fn tidb_playground_counts_every_component_and_names_the_missing_binary() {
        // /bin/sh stands in for the TiDB binaries: only their existence is checked here.
        let p = plan(&[
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
        ])
        .unwrap();
        assert_eq!(p.nodes(), 7);
        assert_eq!(p.options()["pd_count"], 3);
        let err = plan(&[
            "--pd.path",
            "/bin/sh",
            "--tikv.path",
            "/nonexistent/tikv-server",
            "--tidb.path",
            "/bin/sh",
        ])
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("--tikv.path") && !err.contains('\n'), "{err}");
        let err = plan(&["--pd.count", "0"]).err().unwrap().to_string();
        assert!(err.contains("--pd.count"), "{err}");
    }
}
