//! Checkers: history in, verdict out.
//!
//! [`Validity`] is three-valued. Only a proven anomaly is `Invalid`; a checker that cannot
//! decide (no information, an error, a time or memory budget ran out) says `Unknown`.
//! Results of several checkers [`merge`](Validity::merge) with Invalid > Unknown > Valid.

use crate::history::History;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validity {
    Valid,
    Unknown,
    Invalid,
}

impl Validity {
    /// Combines two verdicts: any invalid makes the whole invalid; otherwise any unknown
    /// makes it unknown.
    pub fn merge(self, other: Validity) -> Validity {
        self.max(other)
    }

    /// The process exit code of a run or an analysis with this verdict.
    pub fn exit_code(self) -> i32 {
        match self {
            Validity::Valid => 0,
            Validity::Invalid => 1,
            Validity::Unknown => 2,
        }
    }

    fn rank(self) -> u8 {
        match self {
            Validity::Valid => 0,
            Validity::Unknown => 1,
            Validity::Invalid => 2,
        }
    }
}

impl PartialOrd for Validity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Validity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Validity::Valid => "valid",
            Validity::Unknown => "unknown",
            Validity::Invalid => "invalid",
        })
    }
}

/// One checker's verdict with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub checker: String,
    pub valid: Validity,
    /// A one-line summary a person reads first.
    pub summary: String,
    /// Checker-specific evidence (anomalies, counts, counterexamples), rendered in reports.
    #[serde(default)]
    pub details: Value,
}

impl CheckResult {
    pub fn new(checker: &str, valid: Validity, summary: impl Into<String>, details: Value) -> Self {
        CheckResult {
            checker: checker.to_string(),
            valid,
            summary: summary.into(),
            details,
        }
    }

    /// The merged verdict of several results; no results at all is `Unknown`.
    pub fn merged(results: &[CheckResult]) -> Validity {
        results
            .iter()
            .map(|r| r.valid)
            .reduce(Validity::merge)
            .unwrap_or(Validity::Unknown)
    }
}

/// Jepsen's Checker protocol: a pure function of the history. Checkers must not panic on odd
/// histories; the runner still catches a panic and turns it into `Unknown`.
pub trait Checker: Send + Sync {
    fn name(&self) -> &str;
    fn check(&self, history: &History) -> CheckResult;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_prefers_invalid_then_unknown() {
        use Validity::*;
        assert_eq!(Valid.merge(Valid), Valid);
        assert_eq!(Valid.merge(Unknown), Unknown);
        assert_eq!(Unknown.merge(Valid), Unknown);
        assert_eq!(Unknown.merge(Invalid), Invalid);
        assert_eq!(Invalid.merge(Valid), Invalid);
        assert_eq!(CheckResult::merged(&[]), Unknown);
    }

    #[test]
    fn exit_codes_follow_jepsen() {
        assert_eq!(Validity::Valid.exit_code(), 0);
        assert_eq!(Validity::Invalid.exit_code(), 1);
        assert_eq!(Validity::Unknown.exit_code(), 2);
    }
}
