//! Linearizability checker: Wing-Gong-Lowe search with memoisation, per key, in parallel.
//!
//! A history is linearizable when every op can be given one instant between its call and
//! its return such that the ops, in that order, are legal for a sequential model. The
//! search (`wgl.rs`, Lowe's improvement of Wing & Gong as in Porcupine) memoises visited
//! `(linearized set, model state)` configurations; keys are independent
//! (P-compositionality) and are checked in parallel. Models: register, cas-register and a
//! key-value map ([`ModelKind`]). A key whose ops never overlap has one order to check: it
//! is walked in that order, and a kv key is replayed on its values without building the
//! model (`replay.rs`).
//!
//! # Semantics
//! - `ok`: happened between call and return.
//! - `fail`: did not happen; dropped.
//! - `info` (or no completion): may or may not have happened; if it did, at any time after
//!   its call (its return is at +infinity).
//! - A read without an `ok` result constrains nothing; dropped.
//! - Positions in the history are the time line (the op order of `history.jsonl`).
//! - The initial value (`--initial-value`) defaults to nil: nothing written yet; a read of
//!   `null` matches it.
//!
//! # History values (the register workload and imports)
//! `f` is `read`, `write` or `cas` (models register, cas-register) or `get`, `put`,
//! `append` (model kv). `value` is `{"key": k, "value": v}`:
//! - read: `v` is `null` on invoke and the value read on `ok` (`null` = nil);
//! - write: `v` is the value written;
//! - cas: `v` is `[old, new]`; `ok` means it swapped, `fail` that it did not happen. An `ok`
//!   completion whose value has `"swapped": false` records a compare seen to fail (the value
//!   was not `old`; Porcupine's etcd semantics, produced by the etcd import);
//! - get/put/append: string values; a get of a missing key returns `""` (or `null`).
//!
//! Ops without `"key"` (or a bare `value`, as in Jepsen's EDN) all belong to a single key.
//!
//! # Verdicts and budgets
//! Valid: every key linearizable. Invalid: some key is not, with a bounded
//! [`Counterexample`] (the longest linearizable prefix and the ops that cannot follow it),
//! drawn by [`render_counterexample_html`]. Unknown: the time budget
//! ([`LinearizableOptions::timeout`]) or the memory budget of the memo
//! ([`LinearizableOptions::memory_budget`]) ran out, reporting keys done and left, or the
//! history does not fit the model ([`LinearizabilityReport::error`]).
//!
//! # Entry points
//! [`check`] (typed report), [`LinearizableChecker`] (a `faultline_core::Checker`), and the
//! imports in [`import`]: Porcupine's etcd and kv logs and Jepsen's EDN register histories.

mod cache;
mod check;
mod counterexample;
pub mod import;
mod kv;
mod model;
mod prepare;
mod render;
mod replay;
mod wgl;

pub use check::{
    check, LinearizabilityReport, LinearizableChecker, LinearizableOptions, DEFAULT_MEMORY_BUDGET,
};
pub use counterexample::{Counterexample, CounterexampleOp, OpRole, MAX_OPS_SHOWN};
pub use prepare::PrepareError;
pub use render::{render_counterexample_html, render_details_html};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The sequential specification to check against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// read / write.
    Register,
    /// read / write / cas.
    CasRegister,
    /// get / put / append on string values, checked per key.
    Kv,
    /// The same map checked as one object (Porcupine's unpartitioned variant; slow).
    KvUnpartitioned,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::KvUnpartitioned => "kv-unpartitioned",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "register" => Ok(ModelKind::Register),
            "cas-register" | "cas_register" => Ok(ModelKind::CasRegister),
            "kv" | "map" => Ok(ModelKind::Kv),
            "kv-unpartitioned" => Ok(ModelKind::KvUnpartitioned),
            other => Err(format!(
                "unknown linearizability model {other:?} (register, cas-register, kv, kv-unpartitioned)"
            )),
        }
    }
}
