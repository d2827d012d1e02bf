//! What to look for in a node's logs: patterns a system declares (with its recipe, through
//! [`crate::Db::log_patterns`]), recorded in test.json so a run's logs are scanned offline
//! the same way by `faultline analyze`.

use serde::{Deserialize, Serialize};

/// How bad a matching line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The process died or aborted (a signal, an assertion, a panic): a finding unless a
    /// fault on that node explains it.
    Crash,
    /// An error the server logged.
    Error,
    /// Worth knowing (e.g. crash recovery after a kill), not a problem by itself.
    Note,
}

/// A substring that marks a log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPattern {
    /// A short name for reports and counts, e.g. `signal`, `assertion`, `[ERROR]`.
    pub name: String,
    /// The substring a line must contain.
    pub needle: String,
    pub severity: Severity,
}

impl LogPattern {
    pub fn new(name: &str, needle: &str, severity: Severity) -> LogPattern {
        LogPattern {
            name: name.into(),
            needle: needle.into(),
            severity,
        }
    }
}

/// Patterns for a system that declares none: signals, assertions, panics, error lines.
pub fn generic_patterns() -> Vec<LogPattern> {
    use Severity::*;
    vec![
        LogPattern::new("signal", "got signal", Crash),
        LogPattern::new("segfault", "Segmentation fault", Crash),
        LogPattern::new("assertion", "Assertion failure", Crash),
        LogPattern::new("assertion", "assertion failed", Crash),
        LogPattern::new("panic", "panic:", Crash),
        LogPattern::new("[ERROR]", "[ERROR]", Error),
    ]
}
