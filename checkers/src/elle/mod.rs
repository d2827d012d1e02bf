//! Elle-style transactional isolation checker for list-append and rw-register histories.
//!
//! # History convention
//! Transactions are ops with `f = "txn"` whose `value` is a JSON array of micro-ops with
//! integer keys and values:
//! - list-append: `["append", k, v]` and `["r", k, null]` on the invocation, the read filled
//!   in on `ok`: `["r", k, [1, 2, 3]]` (`null` on an ok read means the empty list);
//! - rw-register: `["w", k, v]` and `["r", k, v]`, `null` for the initial state.
//!
//! Written values must be unique per key (a precondition, checked first). `fail` means the
//! transaction did not happen, `info` that it may have; an invocation without completion is
//! `info`. Transactions are named `T<index>` after their completion op.
//! Jepsen histories (EDN or elle-cli's JSON; keyword, string or integer keys; ops without
//! `:process`) are converted to this convention by [`import::jepsen_history`].
//!
//! # Pipeline
//! [`history`] pairs ops into typed transactions (large history files are read by
//! `reader`, in blocks parsed on worker threads by [`fastline`], list reads stored shared
//! per key by [`list`]); [`append`] or [`register`] infers version orders, finds non-cycle
//! anomalies and the ww/wr/rw edges; [`graph`] adds process and realtime edges; [`scc`]
//! finds strongly connected components iteratively; [`cycles`] searches each for every
//! cycle class and its -process/-realtime variants (skipping classes a found one
//! implies, as Elle does); [`exists`] proves per model that *some* forbidden cycle exists
//! in a component (Elle's `cycle-exists`), which stands when the search runs out of
//! budget; [`explain`] writes a sentence per edge and a dot text per cycle; [`models`]
//! decides which found anomalies the chosen consistency model forbids. Only a forbidden
//! anomaly is `Invalid`; a violated precondition, a search that ran out of budget on a
//! forbidden class with no existence proof, or a graph with no edge at all (Elle's
//! `empty-transaction-graph`) is `Unknown`. Anomalies found but allowed by the model are
//! reported, not held against it.
//!
//! Elle's test suite is ported in `tests/elle_suite_*.rs` and `tests/elle_histories.rs`;
//! where we report more than Elle, those tests say why.

pub mod anomalies;
pub mod append;
pub mod cycles;
mod de;
pub mod exists;
pub mod explain;
pub mod fastline;
pub mod fx;
pub mod gen;
pub mod graph;
pub mod history;
pub mod import;
pub mod infer;
pub mod list;
pub mod models;
mod reader;
pub mod register;
pub mod scc;
pub mod written;

mod check;

pub use check::{Analysis, ElleChecker, Options, MAX_MOPS_PER_TXN};
pub use history::{read_jsonl, Txns};

use std::fmt;
use std::str::FromStr;

/// Which workload produced the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    Append,
    RwRegister,
}

impl FromStr for Workload {
    type Err = ElleError;
    fn from_str(s: &str) -> Result<Self, ElleError> {
        match s {
            "append" | "list-append" => Ok(Workload::Append),
            "rw-register" | "wr-register" => Ok(Workload::RwRegister),
            _ => Err(ElleError::UnknownWorkload(s.to_string())),
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Workload::Append => "append",
            Workload::RwRegister => "rw-register",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ElleError {
    #[error("unknown consistency model {0:?}; known models: {1}")]
    UnknownModel(String, String),
    #[error("unknown workload {0:?}; expected append or rw-register")]
    UnknownWorkload(String),
    #[error("EDN history line {line}: {message}")]
    Import { line: usize, message: String },
    #[error(transparent)]
    History(#[from] faultline_core::HistoryError),
}
