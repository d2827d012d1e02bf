//! `--db local-galera` (N MariaDB Galera nodes in network namespaces the harness makes) and
//! `--db local-mariadb` (one plain mariadbd): one recipe, two names. Options:
//! `--server-option name=value` (repeatable) for every node's `[mysqld]`. Data dirs go on a
//! FUSE passthrough only when a fault needs the Disk capability.

use async_trait::async_trait;
use faultline_cluster::{GaleraOptions, LocalGalera};
use faultline_core::db::Capability;
use faultline_harness::options::parse_server_options;
use faultline_harness::{BadArgs, Plan, Recipe, Sut, SystemArgs};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The local MariaDB recipe: `galera` true is `local-galera`, false `local-mariadb`.
pub struct LocalMariadb {
    pub galera: bool,
}

impl Recipe for LocalMariadb {
    fn name(&self) -> &'static str {
        if self.galera {
            "local-galera"
        } else {
            "local-mariadb"
        }
    }
    fn about(&self) -> &'static str {
        if self.galera {
            "N MariaDB Galera nodes (--nodes), each in its own network namespace; every fault"
        } else {
            "one plain mariadbd in a network namespace (kill, pause, clocks, disks)"
        }
    }
    fn augment(&self, cmd: clap::Command) -> clap::Command {
        // Shared by both names: added once.
        if cmd.get_arguments().any(|a| a.get_id() == "server_options") {
            return cmd;
        }
        cmd.arg(
            clap::Arg::new("server_options")
                .long("server-option")
                .value_name("NAME=VALUE")
                .action(clap::ArgAction::Append)
                .help("local-galera / local-mariadb: put NAME=VALUE into every node's [mysqld] (repeatable)"),
        )
        .arg(
            clap::Arg::new("data_in_memory")
                .long("data-in-memory")
                .action(clap::ArgAction::SetTrue)
                .help("local-galera / local-mariadb: data dirs on /dev/shm (tmpfs), no disk I/O; for runs that do not test durability (SQL hunting)"),
        )
    }
    fn plan(
        &self,
        args: &SystemArgs,
        matches: &clap::ArgMatches,
    ) -> Result<Box<dyn Plan>, BadArgs> {
        let raw: Vec<String> = matches
            .try_get_many::<String>("server_options")
            .ok()
            .flatten()
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        let server_options = parse_server_options("--server-option", &raw)?;
        let nodes = if self.galera { args.nodes } else { 1 };
        if nodes == 0 || nodes > 9 {
            return Err(BadArgs(format!("--nodes {}: give 1 to 9", args.nodes)));
        }
        Ok(Box::new(LocalPlan {
            opts: GaleraOptions {
                nodes,
                galera: self.galera,
                server_options,
                data_in_memory: matches
                    .try_get_one::<bool>("data_in_memory")
                    .ok()
                    .flatten()
                    .copied()
                    .unwrap_or(false),
                ..Default::default()
            },
        }))
    }
}

struct LocalPlan {
    opts: GaleraOptions,
}

#[async_trait]
impl Plan for LocalPlan {
    fn nodes(&self) -> usize {
        self.opts.nodes
    }
    fn options(&self) -> Value {
        json!({
            "galera": self.opts.galera,
            "server_options": self.opts.server_options,
            "data_in_memory": self.opts.data_in_memory,
        })
    }
    fn preflight(&self) -> anyhow::Result<()> {
        Ok(faultline_cluster::preflight::check(self.opts.galera)?)
    }
    async fn start(&self, needs: &BTreeSet<Capability>) -> anyhow::Result<Sut> {
        let mut opts = self.opts.clone();
        // Data dirs on FUSE only when a disk fault is asked for (and can be had: otherwise
        // the fault's own check refuses the run before it starts, saying what to do).
        opts.disk_faults =
            needs.contains(&Capability::Disk) && faultline_cluster::disk::available().is_ok();
        let cluster = Arc::new(LocalGalera::start(opts).await?);
        Ok(Sut::new(cluster.clone(), cluster.endpoints()))
    }
}
