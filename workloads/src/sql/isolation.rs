//! Transaction isolation levels and read locks, shared by the transactional SQL workloads
//! (bank, append, rw-register): the `--isolation` and `--read-lock` options.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// A session's transaction isolation level (`SET SESSION TRANSACTION ISOLATION LEVEL ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl Isolation {
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "READ UNCOMMITTED",
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }

    /// The statement that sets this level for every transaction of a session.
    pub fn session_statement(self) -> String {
        format!("SET SESSION TRANSACTION ISOLATION LEVEL {}", self.sql())
    }
}

/// Whether reads inside a transaction lock the rows they read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadLock {
    None,
    ForUpdate,
}

impl ReadLock {
    /// The clause appended to a SELECT.
    pub fn clause(self) -> &'static str {
        match self {
            ReadLock::None => "",
            ReadLock::ForUpdate => " FOR UPDATE",
        }
    }
}
