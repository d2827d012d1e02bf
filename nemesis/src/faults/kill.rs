//! Process crashes: kill -9, and a restart (position recovered first) at the end.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::{Db, DbError, DbResult, NodeId};
use rand_chacha::ChaCha8Rng;

fn kill_capability(db: &dyn Db) -> DbResult<&dyn faultline_core::db::Kill> {
    db.as_kill()
        .ok_or_else(|| DbError::new(format!("{} cannot kill nodes", db.name())))
}

/// kill -9 one random node; restart it when the fault ends.
pub struct RandomKill;

#[async_trait]
impl Fault for RandomKill {
    fn name(&self) -> &'static str {
        "random_kill"
    }
    fn description(&self) -> &'static str {
        "kill -9 one random node, restart it (recovering its position) when the fault ends"
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        kill_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        let kill = kill_capability(db)?;
        for n in targets {
            kill.kill(n).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        let kill = kill_capability(db)?;
        for n in targets {
            kill.start(n).await?;
        }
        Ok(())
    }
}
