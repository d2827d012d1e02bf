//! Fault windows: the nemesis ops of a history paired into (fault, nodes, start, end).
//!
//! A window opens at a `start` completion (process `nemesis`, type `info`) and closes at the
//! `stop` completion with the same fault and nodes, or at the run's final `heal`, which ends
//! every window still open. A start that failed (it has an `error`) still opens a window:
//! part of the fault may have been done, and the heal ends it. A start marked
//! `"skipped": true` (refused by the per-fault admission check) did nothing and opens none.

use crate::history::History;
use crate::op::OpType;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    pub fault: String,
    pub nodes: Value,
    /// Nanoseconds since the run started.
    pub start: u64,
    /// When the fault ended; `None` if nothing in the history ended it.
    pub end: Option<u64>,
    /// Ended by the final heal rather than by its own stop.
    pub ended_by_final_heal: bool,
    /// Why the start failed, if it did.
    pub error: Option<String>,
}

/// Every fault window of `history`, in the order the faults started.
pub fn fault_windows(history: &History) -> Vec<FaultWindow> {
    let mut windows: Vec<FaultWindow> = Vec::new();
    for op in history
        .ops
        .iter()
        .filter(|o| o.process.is_nemesis() && o.kind == OpType::Info)
    {
        let fault = op.value.get("fault").and_then(Value::as_str).unwrap_or("");
        let nodes = op.value.get("nodes").cloned().unwrap_or(Value::Null);
        if op.value.get("skipped").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        match op.f.as_str() {
            "start" => windows.push(FaultWindow {
                fault: fault.to_string(),
                nodes,
                start: op.time,
                end: None,
                ended_by_final_heal: false,
                error: op.error.clone(),
            }),
            "stop" => {
                if let Some(w) = windows
                    .iter_mut()
                    .find(|w| w.end.is_none() && w.fault == fault && w.nodes == nodes)
                {
                    w.end = Some(op.time);
                }
            }
            "heal" => {
                for w in windows.iter_mut().filter(|w| w.end.is_none()) {
                    w.end = Some(op.time);
                    w.ended_by_final_heal = true;
                }
            }
            _ => {}
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_pair_with_their_stop_and_the_heal_ends_the_rest() {
        let text = r#"{"index":0,"time":1,"process":"nemesis","type":"info","f":"start","value":{"fault":"random_kill","nodes":["n2"]}}
{"index":1,"time":2,"process":"nemesis","type":"info","f":"start","value":{"fault":"random_kill","nodes":["n3"]}}
{"index":2,"time":3,"process":"nemesis","type":"info","f":"stop","value":{"fault":"random_kill","nodes":["n3"]}}
{"index":3,"time":4,"process":"nemesis","type":"invoke","f":"heal","value":{"fault":"all"}}
{"index":4,"time":5,"process":"nemesis","type":"info","f":"heal","value":{"fault":"all"}}
"#;
        let w = fault_windows(&History::parse_str(text).unwrap());
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].end, w[0].ended_by_final_heal), (Some(5), true));
        assert_eq!((w[1].end, w[1].ended_by_final_heal), (Some(3), false));
    }

    #[test]
    fn a_skipped_start_opens_no_window() {
        let text = r#"{"index":0,"time":1,"process":"nemesis","type":"info","f":"start","value":{"fault":"random_kill","nodes":["n2"],"skipped":true},"error":"not injected"}
{"index":1,"time":2,"process":"nemesis","type":"info","f":"stop","value":{"fault":"random_kill","nodes":["n2"],"skipped":true}}
{"index":2,"time":3,"process":"nemesis","type":"info","f":"start","value":{"fault":"random_kill","nodes":["n2"]}}
{"index":3,"time":4,"process":"nemesis","type":"info","f":"stop","value":{"fault":"random_kill","nodes":["n2"]}}
"#;
        let w = fault_windows(&History::parse_str(text).unwrap());
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].start, w[0].end), (3, Some(4)));
    }
}
