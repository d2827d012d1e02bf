//! faultline: the one crate a test author depends on.
//!
//! What lives here: nothing of its own but the front door. [`prelude`] has what a workload
//! file or a system recipe needs (ops and completions, generators, the `Client` / `Db` /
//! capability traits, `Workload` and `WorkloadDef`, `Recipe` and `Plan`, checkers and
//! verdicts, the `Registry` whose `main` runs a test binary); [`builtin`] is every system
//! and workload faultline ships (local Galera, local MariaDB, TiDB playground, mysql://;
//! bank, register, append, rw-register, sqlsmith); [`sql`] is the kit MySQL-protocol
//! workloads share (one connection per client, the error table), with its driver
//! [`sql::mysql_async`]. The crates behind it are re-exported whole under their room's
//! name ([`core`], [`harness`], [`nemesis`], [`checkers`], [`cluster`], [`workloads`]) for
//! what the prelude leaves out, and so are the crates a workload file uses in its types
//! ([`clap`], [`serde`], [`serde_json`], [`async_trait`], [`anyhow`], [`tokio`], [`rand`],
//! [`tracing`]).
//!
//! What does not: any logic. A user's test binary's `main` is one line:
//!
//! ```no_run
//! faultline::builtin().main("bank")
//! ```
//!
//! and a new workload is one file implementing [`WorkloadDef`](prelude::WorkloadDef) plus
//! one `.workload(...)` line (see examples/set).

pub use faultline_checkers as checkers;
pub use faultline_cluster as cluster;
pub use faultline_core as core;
pub use faultline_harness as harness;
pub use faultline_nemesis as nemesis;
pub use faultline_workloads as workloads;

pub use ::async_trait;
pub use anyhow;
pub use clap;
pub use rand;
pub use serde;
pub use serde_json;
pub use tokio;
pub use tracing;

/// Every system and workload faultline ships; add yours with `.recipe(...)` and
/// `.workload(...)`, then call `.main("name")`.
pub fn builtin() -> faultline_harness::Registry {
    faultline_workloads::builtin()
}

/// The kit MySQL-protocol workloads share, and their driver.
pub mod sql {
    pub use faultline_workloads::sql::*;
    pub use mysql_async;
}

/// What a workload file or a system recipe needs, in one `use faultline::prelude::*`.
pub mod prelude {
    pub use ::async_trait::async_trait;
    pub use faultline_checkers::linearizable::{LinearizableChecker, ModelKind};
    pub use faultline_core::db::{
        Capability, Clock, DbError, DbResult, Disk, DiskFault, Grudge, Kill, Leader, NetQuality,
        Partition, Pause,
    };
    pub use faultline_core::generator::{
        clients_nemesis, delay, from_fn, limit, map, mix, once, phases, repeat, seq, sleep,
        stagger, time_limit, Ctx, Gen, Generator, Next,
    };
    pub use faultline_core::{
        CheckResult, Checker, Client, Completion, Db, Endpoint, History, Invocation, NodeId, Op,
        OpType, Process, Validity,
    };
    pub use faultline_harness::{
        BadArgs, Defaults, Plan, Recipe, Registry, RunDir, RunSpec, Sut, SystemArgs, Workload,
        WorkloadDef,
    };
    // In scope for `#[derive(clap::Args)]`, whose expansion names `clap::`.
    pub use ::clap;
    pub use rand::Rng;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{json, Value};
}
