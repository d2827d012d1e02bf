//! Network partitions, as grudges handed to the database's Partition capability.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::{grudge_isolating, Db, DbError, DbResult, NodeId};
use rand_chacha::ChaCha8Rng;

fn partition_capability(db: &dyn Db) -> DbResult<&dyn faultline_core::db::Partition> {
    db.as_partition()
        .ok_or_else(|| DbError::new(format!("{} cannot partition its nodes", db.name())))
}

/// Cuts one random node off from every other node (both directions); clients still reach it.
pub struct PartitionOne;

#[async_trait]
impl Fault for PartitionOne {
    fn name(&self) -> &'static str {
        "partition_one"
    }
    fn description(&self) -> &'static str {
        "isolate one random node from the other nodes (clients still reach it), heal at the end"
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        if db.nodes().len() < 2 {
            return Some("a partition needs at least two nodes".into());
        }
        partition_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        partition_capability(db)?
            .partition(&grudge_isolating(&db.nodes(), targets))
            .await
    }
    async fn stop(&self, db: &dyn Db, _targets: &[NodeId]) -> DbResult<()> {
        partition_capability(db)?.heal_network().await
    }
}
