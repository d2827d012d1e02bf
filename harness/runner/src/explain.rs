//! Each invalid checker's account of itself, for the terminal, results.json and the
//! report's banner: its first anomaly in words (`cause`, unless the checker wrote one of its
//! own, as bank does) and whether the ops involved ran during a fault, after one, or with
//! none active (`faults`), from the history's fault windows. The anomaly is read from the
//! checker's details the way the report reads it ([`report::anomalies::first`]): an Elle
//! result's first forbidden anomaly, a linearizability counterexample's ops that cannot
//! follow, a bank result's first lost update.
//!
//! [`report::anomalies::first`]: crate::report::anomalies::first

use crate::report::timeline;
use faultline_core::{fault_windows, CheckResult, FaultWindow, History, Validity};
use serde_json::{json, Value};

/// The longest cause line kept (the full explanation is in the details and the report).
const MAX_CAUSE: usize = 600;

fn nodes(w: &FaultWindow) -> String {
    w.nodes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

fn secs(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e9)
}

/// What placing ops against the faults needs of a history, computed once per check.
struct Placer<'a> {
    history: &'a History,
    pairs: Vec<Option<usize>>,
    /// The fault windows whose start succeeded.
    windows: Vec<FaultWindow>,
}

impl<'a> Placer<'a> {
    fn new(history: &'a History) -> Self {
        Placer {
            history,
            pairs: history.pairs(),
            windows: fault_windows(history)
                .into_iter()
                .filter(|w| w.error.is_none())
                .collect(),
        }
    }

    /// Where the ops `indexes` (history indexes of either end of each op) ran against the
    /// fault windows, in one line.
    fn place(&self, indexes: &[u64]) -> Option<String> {
        let history = self.history;
        let spans: Vec<(u64, u64)> = indexes
            .iter()
            .filter_map(|&i| timeline::position(history, i))
            .map(|p| timeline::op_span(history, &self.pairs, p))
            .collect();
        let (t0, t1) = (
            spans.iter().map(|s| s.0).min()?,
            spans.iter().map(|s| s.1).max()?,
        );
        let shown: Vec<String> = indexes.iter().take(6).map(u64::to_string).collect();
        let ops = format!(
            "op{} {}{}",
            if indexes.len() > 1 { "s" } else { "" },
            shown.join(", "),
            if indexes.len() > 6 { ", ..." } else { "" }
        );
        let during: Vec<String> = self
            .windows
            .iter()
            .filter(|w| {
                spans
                    .iter()
                    .any(|&(a, b)| w.start < b && w.end.is_none_or(|e| e > a))
            })
            .take(3)
            .map(|w| {
                format!(
                    "{} {} ({}–{} s)",
                    w.fault,
                    nodes(w),
                    secs(w.start),
                    w.end.map_or("end".into(), secs)
                )
            })
            .collect();
        if !during.is_empty() {
            return Some(format!("{ops} ran during {}", during.join("; ")));
        }
        let before = self
            .windows
            .iter()
            .filter_map(|w| Some((w, w.end.filter(|&e| e <= t0)?)))
            .max_by_key(|(_, e)| *e);
        Some(match before {
            Some((w, e)) => format!(
                "{ops} ran with no fault active, {} s after {} {} ended",
                secs(t0 - e),
                w.fault,
                nodes(w)
            ),
            None if self.windows.iter().any(|w| w.start >= t1) => {
                format!("{ops} ran with no fault active, before the first fault")
            }
            None => format!("{ops} ran with no fault active (the run had none)"),
        })
    }
}

/// Where the ops `indexes` (history indexes of either end of each op) ran against the
/// history's fault windows, in one line.
pub fn fault_context(history: &History, indexes: &[u64]) -> Option<String> {
    Placer::new(history).place(indexes)
}

/// Adds `cause` (when missing) and `faults` to the details of every invalid result.
pub fn annotate(history: &History, results: &mut [CheckResult]) {
    if results.iter().all(|r| r.valid != Validity::Invalid) {
        return;
    }
    let placer = Placer::new(history);
    for r in results.iter_mut().filter(|r| r.valid == Validity::Invalid) {
        let Some((title, sentences, ops)) = crate::report::anomalies::first(&r.details) else {
            continue;
        };
        let Some(d) = r.details.as_object_mut() else {
            continue;
        };
        if d.get("cause").is_none_or(Value::is_null) {
            let text = sentences.join("; ");
            // A summary that already says it (the linearizable checker's) is not repeated.
            if !text.is_empty() && !r.summary.contains(&text) {
                let mut cause = format!("{title}: {text}");
                if cause.len() > MAX_CAUSE {
                    let cut = (0..=MAX_CAUSE).rev().find(|&i| cause.is_char_boundary(i));
                    cause.truncate(cut.unwrap_or(0));
                    cause.push_str(" ...");
                }
                d.insert("cause".into(), json!(cause));
            }
        }
        if let Some(f) = placer.place(&ops) {
            d.insert("faults".into(), json!(f));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history: a partition of n1 from 1 s to 3 s, one op inside it (1.5–1.6 s), one
    /// after it (4–4.1 s).
    fn history() -> History {
        let rows = [
            json!({"index": 0, "time": 1_000_000_000u64, "process": "nemesis", "type": "info", "f": "start", "value": {"fault": "partition_one", "nodes": ["n1"]}}),
            json!({"index": 1, "time": 1_500_000_000u64, "process": 0, "type": "invoke", "f": "read", "value": null}),
            json!({"index": 2, "time": 1_600_000_000u64, "process": 0, "type": "ok", "f": "read", "value": 3}),
            json!({"index": 3, "time": 3_000_000_000u64, "process": "nemesis", "type": "info", "f": "stop", "value": {"fault": "partition_one", "nodes": ["n1"]}}),
            json!({"index": 4, "time": 4_000_000_000u64, "process": 1, "type": "invoke", "f": "read", "value": null}),
            json!({"index": 5, "time": 4_100_000_000u64, "process": 1, "type": "ok", "f": "read", "value": 4}),
        ];
        let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
        History::parse_str(&text).unwrap()
    }

    #[test]
    fn ops_are_placed_during_after_or_without_faults() {
        let h = history();
        let during = fault_context(&h, &[2]).unwrap();
        assert_eq!(during, "op 2 ran during partition_one n1 (1.0–3.0 s)");
        let after = fault_context(&h, &[4]).unwrap();
        assert_eq!(
            after,
            "op 4 ran with no fault active, 1.0 s after partition_one n1 ended"
        );
        let both = fault_context(&h, &[1, 5]).unwrap();
        assert!(
            both.starts_with("ops 1, 5 ran during partition_one"),
            "{both}"
        );
        let quiet = History::parse_str(
            &[
                json!({"index": 0, "time": 5, "process": 0, "type": "invoke", "f": "read", "value": null}),
                json!({"index": 1, "time": 9, "process": 0, "type": "ok", "f": "read", "value": 1}),
            ]
            .iter()
            .map(|r| format!("{r}\n"))
            .collect::<String>(),
        )
        .unwrap();
        assert_eq!(
            fault_context(&quiet, &[1]).unwrap(),
            "op 1 ran with no fault active (the run had none)"
        );
        assert!(fault_context(&h, &[99]).is_none(), "no such op");
    }

    #[test]
    fn an_invalid_elle_result_gets_its_first_forbidden_anomaly_as_cause() {
        let h = history();
        let anomaly = |class: &str, txn: u64| {
            json!({"class": class, "explanation": [format!("{class} explained")],
                   "txns": [{"index": txn, "name": format!("T{txn}")}]})
        };
        let mut results = vec![
            CheckResult::new(
                "elle",
                Validity::Invalid,
                "forbidden: G-single x1",
                json!({"forbidden": ["G-single"], "anomalies": {
                    "G-nonadjacent-process": [anomaly("G-nonadjacent-process", 2)],
                    "G-single": [anomaly("G-single", 5)]}}),
            ),
            CheckResult::new("other", Validity::Valid, "fine", json!({})),
        ];
        annotate(&h, &mut results);
        let d = &results[0].details;
        assert_eq!(d["cause"], "G-single: G-single explained");
        assert_eq!(
            d["faults"],
            "op 5 ran with no fault active, 1.0 s after partition_one n1 ended"
        );
        assert!(
            results[1].details.get("faults").is_none(),
            "valid results are left alone"
        );
    }
}
