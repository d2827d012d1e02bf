//! The MySQL / MariaDB (and Galera) error classification table, in one place.
//!
//! A wrong `fail` creates false alarms (the op did happen, the checker thinks it did not); a
//! wrong `ok` hides bugs. So only errors that prove the transaction did not commit are
//! `fail`; everything else after a write or a COMMIT was sent is `info` (unknown).
//!
//! | stage                                  | error                                   | outcome |
//! |----------------------------------------|-----------------------------------------|---------|
//! | connect (nothing sent yet)             | any                                     | fail    |
//! | read-only op                           | any                                     | fail    |
//! | statement inside a transaction, before COMMIT | server error (the harness rolls back) | fail |
//! | statement inside a transaction, before COMMIT | connection lost / IO                  | fail    |
//! | COMMIT or autocommit write             | 1213 deadlock / certification failure   | fail    |
//! | COMMIT or autocommit write             | 1205 lock wait timeout                  | fail    |
//! | COMMIT or autocommit write             | 1047 WSREP not prepared (non-Primary)   | info    |
//! | COMMIT or autocommit write             | 1180 error during COMMIT                | info    |
//! | COMMIT or autocommit write             | any other server error                  | info    |
//! | COMMIT or autocommit write             | 2013 / 2006 / IO error / EOF            | info    |
//!
//! Why 1047 on COMMIT is info: Galera raises it when the node lost the primary component,
//! which can happen after the write set was already delivered to the others.
//! Before COMMIT nothing can have committed: a connection lost then rolls the transaction
//! back with it.

use faultline_core::OpType;
use mysql_async::Error;

/// Where in an op the error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Opening the connection or setting up the session: nothing was sent.
    Connect,
    /// The op only reads.
    ReadOnly,
    /// A statement of an explicit transaction before its COMMIT.
    BeforeCommit,
    /// The COMMIT itself, or a write in autocommit mode.
    Commit,
}

/// Server error codes that prove a COMMIT (or autocommit write) did not take effect.
pub const DEFINITELY_ABORTED_ON_COMMIT: &[u16] = &[
    1213, // ER_LOCK_DEADLOCK: deadlock, or Galera certification failure / brute-force abort
    1205, // ER_LOCK_WAIT_TIMEOUT (the harness rolls back the transaction)
];

/// Server error numbers that are the fault's doing, not the statement's (sqlsmith's rule):
/// on the system under test they mean "outcome unknown", never a divergence between
/// servers. 1205 and 1213 are here too: on COMMIT they prove an abort (the table above),
/// but which statements a deadlock or a certification failure hits depends on timing, so a
/// statement-by-statement comparison cannot hold them against the database.
pub const FAULT_CODES: &[u16] = &[
    1047, // WSREP has not yet prepared node for application use
    1180, // error during COMMIT
    1205, // lock wait timeout
    1213, // deadlock / Galera certification failure
    1927, // connection was killed
    1969, // statement timeout
    2006, // server has gone away
    2013, // lost connection during query
    4031, // client disconnected for inactivity
];

/// Syntax errors: ER_PARSE_ERROR and ER_SYNTAX_ERROR (a generator bug, never the server's).
pub const SYNTAX_CODES: &[u16] = &[1064, 1149];

/// The server error code, when the server sent one.
pub fn server_code(e: &Error) -> Option<u16> {
    match e {
        Error::Server(s) => Some(s.code),
        _ => None,
    }
}

/// Classifies an error at `stage` as `Fail` (did not happen) or `Info` (unknown).
pub fn classify(e: &Error, stage: Stage) -> OpType {
    classify_code(server_code(e), stage)
}

/// The table above, on a server code (`None`: no server answer, e.g. IO error or timeout).
pub fn classify_code(code: Option<u16>, stage: Stage) -> OpType {
    match stage {
        Stage::Connect | Stage::ReadOnly | Stage::BeforeCommit => OpType::Fail,
        Stage::Commit => match code {
            Some(c) if DEFINITELY_ABORTED_ON_COMMIT.contains(&c) => OpType::Fail,
            _ => OpType::Info,
        },
    }
}

/// A short description for the history's `error` field.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Server(s) => format!("{} {}", s.code, s.message),
        Error::Io(io) => format!("io: {io}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OpType::{Fail, Info};

    #[test]
    fn connect_errors_fail() {
        assert_eq!(classify_code(None, Stage::Connect), Fail);
        assert_eq!(classify_code(Some(1045), Stage::Connect), Fail);
    }

    #[test]
    fn read_only_errors_fail() {
        assert_eq!(classify_code(None, Stage::ReadOnly), Fail);
        assert_eq!(classify_code(Some(1047), Stage::ReadOnly), Fail);
    }

    #[test]
    fn server_errors_before_commit_fail() {
        assert_eq!(classify_code(Some(1213), Stage::BeforeCommit), Fail);
        assert_eq!(classify_code(Some(1047), Stage::BeforeCommit), Fail);
    }

    #[test]
    fn lost_connections_before_commit_fail() {
        assert_eq!(classify_code(None, Stage::BeforeCommit), Fail);
    }

    #[test]
    fn deadlock_on_commit_fails() {
        assert_eq!(classify_code(Some(1213), Stage::Commit), Fail);
    }

    #[test]
    fn lock_wait_timeout_on_commit_fails() {
        assert_eq!(classify_code(Some(1205), Stage::Commit), Fail);
    }

    #[test]
    fn not_primary_on_commit_is_unknown() {
        assert_eq!(classify_code(Some(1047), Stage::Commit), Info);
    }

    #[test]
    fn error_during_commit_is_unknown() {
        assert_eq!(classify_code(Some(1180), Stage::Commit), Info);
    }

    #[test]
    fn other_server_errors_on_commit_are_unknown() {
        assert_eq!(classify_code(Some(1064), Stage::Commit), Info);
    }

    #[test]
    fn lost_connections_on_commit_are_unknown() {
        assert_eq!(classify_code(None, Stage::Commit), Info);
        let io = Error::Io(mysql_async::IoError::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert_eq!(classify(&io, Stage::Commit), Info);
    }
}
