//! Process crashes and restarts: kill -9 of one node, a minority, a majority or every node
//! (a coordinated crash), and a clean shutdown. Each fault ends by starting the nodes again
//! (the database recovers each node's position first; after `all_kill` it recovers the whole
//! cluster and keeps its history).

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::Capability;
use faultline_core::db::{Db, DbError, DbResult, Kill, NodeId};
use rand_chacha::ChaCha8Rng;

fn kill_capability(db: &dyn Db) -> DbResult<&dyn Kill> {
    db.as_kill().ok_or_else(|| {
        DbError::new(
            db.lacks(Capability::Kill)
                .unwrap_or_else(|| format!("{} cannot kill nodes", db.name())),
        )
    })
}

async fn kill_all(db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
    let kill = kill_capability(db)?;
    for n in targets {
        kill.kill(n).await?;
    }
    Ok(())
}

async fn start_all(db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
    kill_capability(db)?.start_all(targets).await
}

/// Defines a kill fault: name, description, how many of `n` nodes it hits.
macro_rules! kill_fault {
    ($ty:ident, $name:literal, $desc:literal, $count:expr) => {
        pub struct $ty;

        #[async_trait]
        impl Fault for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn description(&self) -> &'static str {
                $desc
            }
            fn needs(&self) -> &'static [Capability] {
                &[Capability::Kill]
            }
            fn unsupported(&self, db: &dyn Db) -> Option<String> {
                kill_capability(db).err().map(|e| e.to_string())
            }
            fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
                let count: fn(usize) -> usize = $count;
                super::random_nodes(nodes, count(nodes.len()), rng)
            }
            async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
                kill_all(db, targets).await
            }
            async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
                start_all(db, targets).await
            }
        }
    };
}

kill_fault!(
    RandomKill,
    "random_kill",
    "kill -9 one random node, restart it (recovering its position) when the fault ends",
    |_| 1
);
kill_fault!(
    MinorKill,
    "minor_kill",
    "kill -9 a random minority of the nodes, restart them (IST rejoin) when the fault ends",
    super::minority
);
kill_fault!(
    MajorKill,
    "major_kill",
    "kill -9 a random majority of the nodes (quorum is lost), restart them when the fault ends",
    super::majority
);
kill_fault!(
    AllKill,
    "all_kill",
    "kill -9 every node within a second (coordinated crash), then recover the whole cluster keeping its history",
    |n| n
);

/// Clean shutdown of one node (SIGTERM, wait for exit), started again when the fault ends.
pub struct RestartOne;

#[async_trait]
impl Fault for RestartOne {
    fn name(&self) -> &'static str {
        "restart_one"
    }
    fn description(&self) -> &'static str {
        "shut one random node down cleanly (SIGTERM), start it again when the fault ends"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Kill]
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
            kill.shutdown(n).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        start_all(db, targets).await
    }
}
