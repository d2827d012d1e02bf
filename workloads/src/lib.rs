//! faultline-workloads: what the tests do to a database, and the binaries users run.
//!
//! What lives here: the SQL plumbing every MySQL-protocol workload shares ([`sql`]: one
//! connection per client, the error classification table), the workloads ([`bank`],
//! [`register`], [`append`], [`rw_register`] with their shared transaction client [`txn`],
//! [`sqlsmith`]), the checkers every run gets ([`standard`]), the registry that maps a stored
//! run back to its checkers ([`registry`]), imports of other tools' histories ([`import`]) and
//! the command-line front ends ([`cli`], [`cluster_cli`]) behind the binaries `bank`,
//! `register`, `append`, `rw-register`, `sqlsmith` and `faultline`.
//!
//! What does not: the runner, the store and reports (faultline-harness), the systems under
//! test (faultline-cluster), faults (faultline-nemesis), checker logic (faultline-checkers).

pub mod append;
pub mod bank;
pub mod cli;
pub mod cluster_cli;
pub mod import;
pub mod register;
pub mod registry;
pub mod rw_register;
pub mod sql;
pub mod sqlsmith;
pub mod standard;
pub mod txn;
