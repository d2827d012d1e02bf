//! TiDB-specific faults: kill -9 the PD leader, as PD itself names it
//! (`GET /pd/api/v1/leader`), and restart it when the fault ends.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::Capability;
use faultline_core::db::{Db, DbError, DbResult, Kill, Leader, NodeId};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

fn capabilities(db: &dyn Db) -> DbResult<(&dyn Leader, &dyn Kill)> {
    match (db.as_leader(), db.as_kill()) {
        (Some(l), Some(k)) => Ok((l, k)),
        _ => Err(DbError::new(format!(
            "{} has no PD leader to ask: kill_pd_leader needs --db tidb-playground",
            db.name()
        ))),
    }
}

/// The PD members among `nodes` (`pd-0`, `pd-1`, ...; on Kubernetes the operator's pods
/// `NAME-pd-0`, ...).
fn pd_nodes(nodes: &[NodeId]) -> Vec<NodeId> {
    nodes
        .iter()
        .filter(|n| n.starts_with("pd-") || n.contains("-pd-"))
        .cloned()
        .collect()
}

/// kill -9 the PD leader; restart every PD member that is down when the fault ends.
pub struct KillPdLeader;

#[async_trait]
impl Fault for KillPdLeader {
    fn name(&self) -> &'static str {
        "kill_pd_leader"
    }
    fn description(&self) -> &'static str {
        "kill -9 the PD leader (asked from PD's HTTP API at the time), restart it when the fault ends"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Leader, Capability::Kill]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        capabilities(db).err().map(|e| e.to_string())
    }
    /// The candidates: every PD member (the leader is only known when the fault starts).
    /// Without PD members (another database) every node, so the op still names something.
    fn targets(&self, nodes: &[NodeId], _rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        let pds = pd_nodes(nodes);
        if pds.is_empty() {
            nodes.to_vec()
        } else {
            pds
        }
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_hitting(db, targets, &Value::Null)
            .await
            .map(|_| ())
    }
    /// Records the member it killed as `hit`: the leader is only known now.
    async fn start_hitting(
        &self,
        db: &dyn Db,
        _targets: &[NodeId],
        _params: &Value,
    ) -> DbResult<Option<Vec<NodeId>>> {
        let (leader, kill) = capabilities(db)?;
        let node = leader.leader("pd").await?;
        tracing::info!(node = %node, "kill_pd_leader: PD names {node} its leader; killing it");
        kill.kill(&node).await?;
        Ok(Some(vec![node]))
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        let (_, kill) = capabilities(db)?;
        kill.start_all(&pd_nodes(targets)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::time::Duration;

    /// A fake database with no capabilities at all: a unit test of the refusal logic only,
    /// no server in it. The fault itself is tested against stand-in PD processes in
    /// cluster/tests/tidb_playground.rs.
    struct NoLeader;

    #[async_trait]
    impl Db for NoLeader {
        fn name(&self) -> &str {
            "local-galera"
        }
        fn nodes(&self) -> Vec<NodeId> {
            vec!["n1".into()]
        }
        async fn heal_all(&self) -> DbResult<()> {
            Ok(())
        }
        async fn wait_ready(&self, _: Duration) -> DbResult<()> {
            Ok(())
        }
        async fn teardown(&self) -> DbResult<()> {
            Ok(())
        }
    }

    #[test]
    fn refused_with_one_line_on_a_database_without_a_leader() {
        let why = KillPdLeader.unsupported(&NoLeader).unwrap();
        assert!(
            why.contains("--db tidb-playground") && !why.contains('\n'),
            "{why}"
        );
    }

    #[test]
    fn targets_are_the_pd_members() {
        use rand::SeedableRng;
        let nodes: Vec<NodeId> = ["pd-0", "pd-1", "tikv-0", "tidb-0"]
            .map(String::from)
            .to_vec();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(KillPdLeader.targets(&nodes, &mut rng), vec!["pd-0", "pd-1"]);
    }
}
