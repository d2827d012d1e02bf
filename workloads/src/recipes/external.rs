//! `--db mysql://user:password@host:port,host:port/database`: an existing MySQL-protocol
//! cluster, one node per address, checked node by node before the run; no faults (nothing
//! here can reach its processes). The password is masked everywhere it is shown.

use async_trait::async_trait;
use faultline_cluster::external::External;
use faultline_core::db::Capability;
use faultline_harness::{BadArgs, Plan, Recipe, Sut, SystemArgs};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

pub struct ExternalMysql;

impl Recipe for ExternalMysql {
    fn name(&self) -> &'static str {
        "mysql://"
    }
    fn about(&self) -> &'static str {
        "an existing cluster: mysql://user:password@host:port,host:port/database (no faults)"
    }
    fn accepts(&self, db: &str) -> bool {
        db.starts_with("mysql://")
    }
    fn plan(
        &self,
        args: &SystemArgs,
        _matches: &clap::ArgMatches,
    ) -> Result<Box<dyn Plan>, BadArgs> {
        let external = External::parse(&args.db).map_err(|e| BadArgs(e.to_string()))?;
        Ok(Box::new(ExternalPlan {
            url: args.db.clone(),
            nodes: external.endpoints().len(),
        }))
    }
}

struct ExternalPlan {
    /// With its password: never shown unmasked.
    url: String,
    nodes: usize,
}

#[async_trait]
impl Plan for ExternalPlan {
    fn nodes(&self) -> usize {
        self.nodes
    }
    fn options(&self) -> Value {
        json!({ "url": faultline_core::mask_url_passwords(&self.url) })
    }
    async fn start(&self, _needs: &BTreeSet<Capability>) -> anyhow::Result<Sut> {
        let external = External::parse(&self.url)?;
        external.check().await?;
        let endpoints = external.endpoints();
        Ok(Sut::new(Arc::new(external), endpoints))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_external_db_counts_its_nodes_and_is_recorded_without_its_password() {
        let args = SystemArgs {
            db: "mysql://u:hunter2@a:1,b:2/x".into(),
            nodes: 3,
        };
        let m = clap::Command::new("t").get_matches_from(["t"]);
        let plan = ExternalMysql.plan(&args, &m).unwrap();
        assert_eq!(plan.nodes(), 2);
        let json = plan.options().to_string();
        assert!(
            !json.contains("hunter2") && json.contains("u:***@a:1,b:2/x"),
            "{json}"
        );
        assert!(!ExternalMysql.accepts("oracle"));
    }
}
