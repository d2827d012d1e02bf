//! faultline-harness: runs a test and keeps its evidence.
//!
//! What lives here: the [`Workload`] trait (client + generators + checkers), the shared run
//! options ([`options`]: `--db`, `--concurrency 3n`, `--nemesis a,b`, `--seed`, ...), the tokio
//! [`interpreter`] (one coordinator owns the generator, the seeded random stream and the
//! history; workers only execute ops, each under a timeout), the [`store`] (one folder per
//! run), [`summary`] (op counts, fault windows), the self-contained HTML [`report`], the
//! orchestration of a whole run ([`run`]: start the cluster, run, heal, final reads, check,
//! tear down, on every exit path), [`analyze`] (check a history: results.json, report.html,
//! junit.xml via [`junit`], graphs/*.dot) and [`control`] (the daemon behind
//! `faultline cluster`: a local cluster driven over a unix socket).
//!
//! What does not: workload specifics (faultline-workloads), fault mechanics
//! (faultline-nemesis, faultline-cluster), checker logic (faultline-checkers).

pub mod analyze;
pub mod control;
pub mod interpreter;
pub mod junit;
pub mod logging;
pub mod options;
pub mod report;
pub mod run;
pub mod store;
pub mod summary;
mod workload;

pub use options::{RunArgs, RunSpec};
pub use run::{run_test, Outcome};
pub use workload::Workload;

/// Exit code for bad arguments (Jepsen's).
pub const EXIT_BAD_ARGS: i32 = 254;
/// Exit code when the harness itself failed.
pub const EXIT_HARNESS_FAILURE: i32 = 255;
