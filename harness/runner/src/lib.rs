//! faultline-harness: runs a test and keeps its evidence, for any system.
//!
//! What lives here: the [`Registry`] of what a build can run ([`recipe`]s: systems behind
//! the [`Recipe`] / [`Plan`] traits, and workloads behind [`WorkloadDef`]), the [`Workload`]
//! trait (client + generators + after-run hook), the shared run options ([`options`]:
//! `--db`, `--concurrency 3n`, `--nemesis a,b`, `--seed`, ...), the command line every test
//! binary shares ([`cli`]: `Registry::main`), the tokio [`interpreter`] (one coordinator
//! owns the generator, the seeded random stream and the history; workers only execute ops,
//! each under a timeout), the [`store`] (one folder per run), [`summary`] (op counts, fault
//! windows), the self-contained HTML [`report`], the orchestration of a whole run ([`run`]:
//! start the system, run, heal, final phase, check, tear down, on every exit path),
//! [`analyze`] (check a history: results.json, report.html, junit.xml via [`junit`],
//! graphs/*.dot; each invalid checker's cause and fault context via [`explain`]), [`control`] (the daemon behind `faultline cluster`: a running system
//! driven over a unix socket) and [`testkit`] (an in-process system and clients for tests
//! that need no server).
//!
//! What does not: no system is named here (recipes live with the systems, registered by the
//! binaries), no workload specifics (faultline-workloads), fault mechanics
//! (faultline-nemesis and the systems), checker logic (faultline-checkers).

pub mod analyze;
pub mod cli;
pub mod control;
pub mod explain;
pub mod interpreter;
pub mod junit;
pub mod logging;
pub mod logscan;
pub mod notify;
pub mod options;
pub mod progress;
pub mod recipe;
pub mod registry;
pub mod report;
pub mod run;
pub mod store;
pub mod summary;
pub mod testkit;
mod workload;

pub use options::{BadArgs, RunArgs, RunSpec};
pub use recipe::{Plan, Recipe, Sut, SystemArgs};
pub use registry::{Defaults, Registry, WorkloadDef, WorkloadEntry};
pub use run::{run_test, Outcome, RunPlan};
pub use store::RunDir;
pub use workload::Workload;

/// Exit code for bad arguments (Jepsen's).
pub const EXIT_BAD_ARGS: i32 = 254;
/// Exit code when the harness itself failed.
pub const EXIT_HARNESS_FAILURE: i32 = 255;
