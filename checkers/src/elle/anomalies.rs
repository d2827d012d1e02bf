//! Anomaly records and the sink that counts every occurrence per class but keeps only the
//! first few of each (with their explanations), so reports stay small on huge histories.

use super::history::{Status, Txn};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A transaction as shown in a report.
#[derive(Clone, Debug, Serialize)]
pub struct TxnRef {
    /// `T<index>`, the index of its completion op.
    pub name: String,
    pub index: u64,
    pub process: String,
    pub status: Status,
    pub value: Value,
}

impl TxnRef {
    pub fn of(t: &Txn) -> TxnRef {
        TxnRef {
            name: t.name(),
            index: t.index,
            process: t.process().to_string(),
            status: t.status,
            value: t.mops_json(),
        }
    }
}

/// One explained anomaly.
#[derive(Clone, Debug, Serialize)]
pub struct Anomaly {
    pub class: String,
    /// The transactions involved; for a cycle, in cycle order.
    pub txns: Vec<TxnRef>,
    /// One sentence per edge of a cycle, or the evidence of a non-cycle anomaly.
    pub explanation: Vec<String>,
    /// Graphviz text of the cycle (cycles only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dot: Option<String>,
}

/// Collects anomalies: every one counted, the first `limit` per class kept.
#[derive(Clone, Debug)]
pub struct Sink {
    pub limit: usize,
    pub counts: BTreeMap<String, usize>,
    pub kept: BTreeMap<String, Vec<Anomaly>>,
}

impl Sink {
    pub fn new(limit: usize) -> Sink {
        Sink {
            limit,
            counts: BTreeMap::new(),
            kept: BTreeMap::new(),
        }
    }

    /// Counts one anomaly of `class`, building its record only if it will be kept.
    pub fn add(&mut self, class: &str, make: impl FnOnce() -> Anomaly) {
        *self.counts.entry(class.to_string()).or_default() += 1;
        let kept = self.kept.entry(class.to_string()).or_default();
        if kept.len() < self.limit {
            kept.push(make());
        }
    }

    /// A non-cycle anomaly about `txns`, with one sentence of evidence.
    pub fn simple(&mut self, class: &str, txns: &[&Txn], sentence: impl FnOnce() -> String) {
        self.add(class, || Anomaly {
            class: class.to_string(),
            txns: txns.iter().map(|t| TxnRef::of(t)).collect(),
            explanation: vec![sentence()],
            dot: None,
        })
    }

    pub fn classes(&self) -> impl Iterator<Item = &str> {
        self.counts.keys().map(String::as_str)
    }
}

/// Formats a list of integers as in our history JSON: `[1,2,3]`.
pub fn list(xs: &[i64]) -> String {
    let mut s = String::from("[");
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&x.to_string());
    }
    s.push(']');
    s
}
