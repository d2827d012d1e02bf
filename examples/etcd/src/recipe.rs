//! `--db etcd`: the recipe that starts an etcd cluster for a run (or for `faultline cluster
//! start --db etcd`): `--nodes` members (default 3), each in its own network namespace.
//! Its own options: `--etcd-election-ms` and `--etcd-heartbeat-ms` (raft timing).

use crate::cluster::{preflight, EtcdCluster, EtcdOptions};
use faultline::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

pub struct EtcdRecipe;

impl Recipe for EtcdRecipe {
    fn name(&self) -> &'static str {
        "etcd"
    }
    fn about(&self) -> &'static str {
        "N etcd members (etcd-server), one network namespace each (kill, pause, partition, link and disk faults)"
    }
    fn augment(&self, cmd: faultline::clap::Command) -> faultline::clap::Command {
        use faultline::clap::{value_parser, Arg};
        cmd.arg(
            Arg::new("etcd_election_ms")
                .long("etcd-election-ms")
                .value_parser(value_parser!(u64).range(10..))
                .default_value("1000")
                .help("etcd: raft election timeout in ms (etcd's --election-timeout)"),
        )
        .arg(
            Arg::new("etcd_heartbeat_ms")
                .long("etcd-heartbeat-ms")
                .value_parser(value_parser!(u64).range(1..))
                .default_value("100")
                .help("etcd: raft heartbeat interval in ms (etcd's --heartbeat-interval)"),
        )
    }
    fn plan(
        &self,
        args: &SystemArgs,
        matches: &faultline::clap::ArgMatches,
    ) -> Result<Box<dyn Plan>, BadArgs> {
        if args.nodes == 0 || args.nodes > 9 {
            return Err(BadArgs(format!(
                "--nodes {}: an etcd cluster here has 1 to 9 members",
                args.nodes
            )));
        }
        let get = |id: &str, default: u64| {
            matches
                .try_get_one::<u64>(id)
                .ok()
                .flatten()
                .copied()
                .unwrap_or(default)
        };
        let opts = EtcdOptions {
            nodes: args.nodes,
            election_ms: get("etcd_election_ms", 1000),
            heartbeat_ms: get("etcd_heartbeat_ms", 100),
            ..EtcdOptions::default()
        };
        if opts.election_ms < 5 * opts.heartbeat_ms {
            return Err(BadArgs(format!(
                "--etcd-election-ms {} must be at least 5 x --etcd-heartbeat-ms ({}), as etcd requires",
                opts.election_ms, opts.heartbeat_ms
            )));
        }
        Ok(Box::new(EtcdPlan(opts)))
    }
}

struct EtcdPlan(EtcdOptions);

#[async_trait]
impl Plan for EtcdPlan {
    fn nodes(&self) -> usize {
        self.0.nodes
    }
    fn options(&self) -> Value {
        json!({ "election_ms": self.0.election_ms, "heartbeat_ms": self.0.heartbeat_ms })
    }
    fn preflight(&self) -> faultline::anyhow::Result<()> {
        preflight()?;
        for tool in ["ip", "iptables"] {
            if std::process::Command::new(tool).arg("-V").output().is_err() {
                faultline::anyhow::bail!(
                    "{tool} is not installed: apt-get install -y iproute2 iptables"
                );
            }
        }
        Ok(())
    }
    async fn start(&self, needs: &BTreeSet<Capability>) -> faultline::anyhow::Result<Sut> {
        let mut opts = self.0.clone();
        opts.start_timeout = Duration::from_secs(60);
        opts.disk_faults = needs.contains(&Capability::Disk);
        let cluster = Arc::new(EtcdCluster::start(opts).await?);
        Ok(Sut {
            db: cluster.clone(),
            endpoints: cluster.endpoints(),
            local: Some(cluster),
        })
    }
}
