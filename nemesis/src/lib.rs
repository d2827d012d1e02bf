//! faultline-nemesis: the fault catalogue and the schedules that inject it.
//!
//! What lives here: the [`Fault`] trait (one file per fault under [`faults`], one line in
//! [`catalogue`] to register it), target selection, the schedule generator ([`schedule`]:
//! `--nemesis a,b`, interval, duration, random or round-robin), and [`NemesisExecutor`], the
//! core `Nemesis` that runs start/stop invocations against a database's capabilities and
//! heals everything at the end.
//!
//! Every choice a fault makes comes from the run's one seeded stream: its targets
//! ([`Fault::targets`]) and anything else, such as a clock offset or a loss rate
//! ([`Fault::params`]); the schedule records both in the op's value
//! (`{"fault", "nodes", "params"}`), so the history says exactly what was done and `--seed`
//! replays it. `faultline list nemeses` prints [`catalogue`]'s names and descriptions.
//!
//! What does not: how a fault is done to a process or a network (faultline-cluster
//! implements the capabilities), workloads, checkers. Every fault declares the
//! capabilities it needs ([`Fault::needs`]); a run hands their union ([`needs`]) to the
//! system's recipe before it starts, so e.g. the local cluster puts its data dirs on FUSE
//! only when a disk fault (io_delay, io_error, disk_hang, disk_full, in [`faults::disk`])
//! is asked for.
//! `delay` runs on the local cluster through the cluster's userspace NFQUEUE delay line
//! (this kernel has no netem).

mod executor;
pub mod faults;
mod schedule;

pub use executor::NemesisExecutor;
pub use schedule::{schedule, Mode, ScheduleOptions};

use async_trait::async_trait;
use faultline_core::db::{Capability, Db, DbResult, NodeId};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// One kind of fault: how to pick its targets, start it and end it.
#[async_trait]
pub trait Fault: Send + Sync {
    /// The name users type after `--nemesis` (TiPocket's where it has one).
    fn name(&self) -> &'static str;
    /// One line on what it does, for `faultline list nemeses`.
    fn description(&self) -> &'static str;
    /// The capabilities of the database this fault works through. A run collects them from
    /// its faults and hands them to the recipe before the system starts (a system may have
    /// to be started differently to offer one, e.g. data dirs on FUSE for `Disk`).
    fn needs(&self) -> &'static [Capability];
    /// Why this database cannot suffer this fault, if it cannot.
    fn unsupported(&self, db: &dyn Db) -> Option<String>;
    /// Chooses the nodes to hit, from the run's one seeded random stream. Where the order
    /// matters (a ring, a bridge) it is the order of the returned nodes.
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId>;
    /// Anything else the fault chooses (a clock offset, a loss rate), drawn from the same
    /// stream right after [`Fault::targets`]; recorded in the op's value as `params`.
    /// `Null` (the default) for faults that need nothing more.
    fn params(&self, _targets: &[NodeId], _rng: &mut ChaCha8Rng) -> Value {
        Value::Null
    }
    /// Starts the fault with default parameters.
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()>;
    /// Starts the fault with the parameters chosen by [`Fault::params`].
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], _params: &Value) -> DbResult<()> {
        self.start(db, targets).await
    }
    /// Starts the fault and says which nodes it hit when only the start itself can know
    /// (the PD leader of the moment); the executor records them as `hit` in the completion.
    /// Default: [`Fault::start_with`], hitting its targets.
    async fn start_hitting(
        &self,
        db: &dyn Db,
        targets: &[NodeId],
        params: &Value,
    ) -> DbResult<Option<Vec<NodeId>>> {
        self.start_with(db, targets, params).await.map(|_| None)
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()>;
}

/// Every fault, by name. Adding a fault is one file in `faults/` and one line here.
pub fn catalogue() -> Vec<Box<dyn Fault>> {
    use faults::{clock, disk, kill, net, partition, pause, stress, tidb};
    vec![
        Box::new(kill::RandomKill),
        Box::new(kill::MinorKill),
        Box::new(kill::MajorKill),
        Box::new(kill::AllKill),
        Box::new(kill::RestartOne),
        Box::new(pause::PauseOne),
        Box::new(pause::PauseAll),
        Box::new(partition::PartitionOne),
        Box::new(partition::PartitionMajority),
        Box::new(partition::PartitionRing),
        Box::new(partition::PartitionBridge),
        Box::new(partition::PartitionRandom),
        Box::new(partition::PartitionLink),
        Box::new(clock::SMALL_SKEWS),
        Box::new(clock::SUBCRITICAL_SKEWS),
        Box::new(clock::CRITICAL_SKEWS),
        Box::new(clock::BIG_SKEWS),
        Box::new(clock::HUGE_SKEWS),
        Box::new(clock::StrobeSkews),
        Box::new(net::Loss),
        Box::new(net::Bandwidth),
        Box::new(net::Delay),
        Box::new(disk::IO_DELAY),
        Box::new(disk::IO_ERROR),
        Box::new(disk::DISK_HANG),
        Box::new(disk::DISK_FULL),
        Box::new(stress::STRESS_CPU),
        Box::new(stress::STRESS_MEMORY),
        Box::new(tidb::KillPdLeader),
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    #[error("unknown nemesis {name:?}: choose from {known} (see `faultline list nemeses`)")]
    Unknown { name: String, known: String },
    #[error("nemesis {name} cannot run against {db}: {why}")]
    Unsupported {
        name: String,
        db: String,
        why: String,
    },
}

/// Looks up faults by name, e.g. from `--nemesis random_kill,partition_one`. `none` and an
/// empty list mean no faults.
pub fn lookup(names: &[String]) -> Result<Vec<Box<dyn Fault>>, NemesisError> {
    let mut out: Vec<Box<dyn Fault>> = Vec::new();
    for name in names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty() && *n != "none")
    {
        let fault = catalogue()
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| NemesisError::Unknown {
                name: name.to_string(),
                known: catalogue()
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !out.iter().any(|f| f.name() == fault.name()) {
            out.push(fault);
        }
    }
    Ok(out)
}

/// Every capability the faults need, for the recipe that starts the system.
pub fn needs(faults: &[Box<dyn Fault>]) -> std::collections::BTreeSet<Capability> {
    faults
        .iter()
        .flat_map(|f| f.needs().iter().copied())
        .collect()
}

/// Refuses faults the database cannot do, before the run starts.
pub fn check_supported(faults: &[Box<dyn Fault>], db: &dyn Db) -> Result<(), NemesisError> {
    for f in faults {
        if let Some(why) = f.unsupported(db) {
            return Err(NemesisError::Unsupported {
                name: f.name().into(),
                db: db.name().into(),
                why,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_refused_with_the_list_of_known_ones() {
        let err = lookup(&["random_kill".into(), "partition_everything".into()])
            .err()
            .unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains("partition_everything") && msg.contains("partition_one"),
            "{msg}"
        );
        assert_eq!(lookup(&["none".into()]).unwrap().len(), 0);
        assert_eq!(
            lookup(&["random_kill".into(), "random_kill".into()])
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn catalogue_names_are_unique() {
        let mut names: Vec<_> = catalogue().iter().map(|f| f.name()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
