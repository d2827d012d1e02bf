//! Process freezes: SIGSTOP one node or every node, SIGCONT when the fault ends.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::Capability;
use faultline_core::db::{Db, DbError, DbResult, NodeId, Pause};
use rand_chacha::ChaCha8Rng;

fn pause_capability(db: &dyn Db) -> DbResult<&dyn Pause> {
    db.as_pause().ok_or_else(|| {
        DbError::new(
            db.lacks(Capability::Pause)
                .unwrap_or_else(|| format!("{} cannot pause nodes", db.name())),
        )
    })
}

async fn pause(db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
    let p = pause_capability(db)?;
    for n in targets {
        p.pause(n).await?;
    }
    Ok(())
}

async fn resume(db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
    let p = pause_capability(db)?;
    let mut first_err = None;
    for n in targets {
        if let Err(e) = p.resume(n).await {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// SIGSTOP one random node.
pub struct PauseOne;

#[async_trait]
impl Fault for PauseOne {
    fn name(&self) -> &'static str {
        "pause_one"
    }
    fn description(&self) -> &'static str {
        "freeze one random node (SIGSTOP), thaw it (SIGCONT) when the fault ends"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Pause]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        pause_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        pause(db, targets).await
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        resume(db, targets).await
    }
}

/// SIGSTOP every node.
pub struct PauseAll;

#[async_trait]
impl Fault for PauseAll {
    fn name(&self) -> &'static str {
        "pause_all"
    }
    fn description(&self) -> &'static str {
        "freeze every node (SIGSTOP), thaw them all (SIGCONT) when the fault ends"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Pause]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        pause_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], _rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        nodes.to_vec()
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        pause(db, targets).await
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        resume(db, targets).await
    }
}
