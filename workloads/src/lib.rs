//! faultline-workloads: what the tests do to a database, the systems they run against, and
//! the binaries users run.
//!
//! What lives here: the SQL kit every MySQL-protocol workload shares ([`sql`]: one
//! connection per client, session set-up, the error classification table, isolation
//! levels), the workloads ([`bank`], [`register`], [`append`], [`rw_register`] with their
//! shared transaction client [`txn`], [`sqlsmith`]), the recipes of the systems they test
//! ([`recipes`]: local-galera, local-mariadb, tidb-playground, mysql://), the one list of
//! both ([`builtin`]), imports of other tools' histories ([`import`]) and the `faultline`
//! command's parts ([`cluster_cli`]) behind the binaries `bank`, `register`, `append`,
//! `rw-register`, `sqlsmith` and `faultline`.
//!
//! What does not: the runner, the store and reports (faultline-harness), how the systems
//! are controlled (faultline-cluster), faults (faultline-nemesis), checker logic
//! (faultline-checkers).

pub mod append;
pub mod bank;
pub mod cluster_cli;
pub mod import;
pub mod recipes;
pub mod register;
pub mod rw_register;
pub mod sql;
pub mod sqlsmith;
pub mod txn;

use faultline_harness::Registry;

/// Every system and workload of this build: the one list the binaries, `faultline run`,
/// `faultline analyze` and `faultline list` read. Adding a workload adds one line here.
/// The first system is the default `--db`.
pub fn builtin() -> Registry {
    Registry::new()
        .recipe(recipes::LocalMariadb { galera: true })
        .recipe(recipes::LocalMariadb { galera: false })
        .recipe(recipes::TidbPlaygroundRecipe)
        .recipe(recipes::ExternalMysql)
        .workload(bank::Bank)
        .workload(register::Register)
        .workload(append::Append)
        .workload(rw_register::RwRegister)
        .workload(sqlsmith::Sqlsmith)
}

/// The `main` of the test binary for `workload` (`bank`, ...): never returns.
pub fn main(workload: &str) -> ! {
    builtin().main(workload)
}
