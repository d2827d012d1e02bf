//! `--db memkv`: the recipe that starts a memkv cluster for a run (or for `faultline
//! cluster start`). Its own option: `--memkv-lose-writes` (the planted bug).

use crate::server::MemKv;
use faultline::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;

pub struct MemKvRecipe;

impl Recipe for MemKvRecipe {
    fn name(&self) -> &'static str {
        "memkv"
    }
    fn about(&self) -> &'static str {
        "the memkv example: N in-process TCP key-value nodes on loopback (kill, pause, partition)"
    }
    fn augment(&self, cmd: faultline::clap::Command) -> faultline::clap::Command {
        cmd.arg(
            faultline::clap::Arg::new("memkv_lose_writes")
                .long("memkv-lose-writes")
                .action(faultline::clap::ArgAction::SetTrue)
                .help("memkv: a killed node loses its last acknowledged write (a planted bug)"),
        )
    }
    fn plan(
        &self,
        args: &SystemArgs,
        matches: &faultline::clap::ArgMatches,
    ) -> Result<Box<dyn Plan>, BadArgs> {
        if args.nodes == 0 || args.nodes > 99 {
            return Err(BadArgs(format!("--nodes {}: give 1 to 99", args.nodes)));
        }
        Ok(Box::new(MemKvPlan {
            nodes: args.nodes,
            lose_writes: matches.get_flag("memkv_lose_writes"),
        }))
    }
}

struct MemKvPlan {
    nodes: usize,
    lose_writes: bool,
}

#[async_trait]
impl Plan for MemKvPlan {
    fn nodes(&self) -> usize {
        self.nodes
    }
    fn options(&self) -> Value {
        json!({ "lose_writes": self.lose_writes })
    }
    async fn start(&self, _needs: &BTreeSet<Capability>) -> faultline::anyhow::Result<Sut> {
        let kv = Arc::new(MemKv::start(self.nodes, self.lose_writes).await?);
        Ok(Sut::new(kv.clone(), kv.endpoints()))
    }
}
