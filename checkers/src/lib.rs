//! faultline-checkers: history in, verdict out.
//!
//! What lives here: the bank checker ([`bank`]) and its import of Jepsen bank histories
//! ([`bank_import`]), the linearizability checker with its models
//! and Porcupine imports ([`linearizable`]), the Elle-style transactional isolation checker
//! for list-append and rw-register ([`elle`]), recovery times after faults ([`recovery`]:
//! availability, kept apart from safety), Jepsen's set and set-full checkers with their import
//! ([`set`]), and a reader for Jepsen's EDN histories
//! ([`edn`]). Every checker depends on faultline-core alone, so it runs offline on a stored
//! or imported history.
//!
//! What does not: no database, no tokio, no process control.

pub mod bank;
pub mod bank_import;
pub mod edn;
pub mod elle;
#[doc(hidden)]
pub mod fuzz_targets;
mod jepsen_op;
pub mod linearizable;
pub mod recovery;
pub mod set;
