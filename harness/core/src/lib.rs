//! faultline-core: the vocabulary every other crate speaks.
//!
//! What lives here: the history model ([`op`]: [`Op`], [`OpType`], [`Process`]) and its JSON
//! Lines encoding ([`history`]) and its fault windows ([`fault_window`]); pure, seeded
//! generators and their combinators, which learn each completion ([`generator`]); the
//! narrow traits a test is made of ([`Client`], [`Db`] and its capabilities, named by
//! [`Capability`], [`Nemesis`], [`Checker`]), how a client reaches a node ([`Endpoint`],
//! passwords masked) and the three-valued [`Validity`].
//!
//! What does not: no tokio runtime, no database drivers, no process or network control. The
//! runner (faultline-harness) interprets these types; checkers depend on this crate alone so
//! they can run offline on a stored history.

pub mod checker;
pub mod db;
pub mod endpoint;
pub mod fault_window;
pub mod generator;
pub mod history;
pub mod log_pattern;
pub mod op;

pub use checker::{CheckResult, Checker, Validity};
pub use db::{Capability, Client, Completion, Db, Grudge, Kill, Nemesis, NodeId, Partition, Pause};
pub use endpoint::{mask_url_passwords, Endpoint};
pub use fault_window::{fault_windows, FaultWindow};
pub use generator::{Ctx, Gen, Generator, Next};
pub use history::{History, HistoryError, HistoryReader, HistoryWriter};
pub use log_pattern::{LogPattern, Severity};
pub use op::{Invocation, Op, OpType, Process};
