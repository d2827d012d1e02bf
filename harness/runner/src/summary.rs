//! What happened in a history, in numbers: op counts per function and outcome, the fault
//! windows, and ops per second for the report's plot.

use faultline_core::{fault_windows, History, OpType};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Counts {
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Invoked but never completed (the run ended first).
    pub open: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FaultWindow {
    pub fault: String,
    pub nodes: Value,
    pub start_s: f64,
    /// `None` while the fault was never stopped in the history (the final heal ended it).
    pub stop_s: Option<f64>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub ops: usize,
    pub by_f: BTreeMap<String, Counts>,
    pub faults: Vec<FaultWindow>,
    /// Client completions per second: (ok, fail, info).
    pub per_second: Vec<(u32, u32, u32)>,
    pub duration_s: f64,
}

pub fn summarize(history: &History) -> Summary {
    let mut s = Summary {
        ops: history.len(),
        ..Default::default()
    };
    for op in &history.ops {
        let t = op.time as f64 / 1e9;
        s.duration_s = s.duration_s.max(t);
        if op.process.is_nemesis() {
            continue;
        }
        let c = s.by_f.entry(op.f.clone()).or_default();
        match op.kind {
            OpType::Invoke => c.open += 1,
            OpType::Ok => {
                c.open = c.open.saturating_sub(1);
                c.ok += 1;
            }
            OpType::Fail => {
                c.open = c.open.saturating_sub(1);
                c.fail += 1;
            }
            OpType::Info => {
                c.open = c.open.saturating_sub(1);
                c.info += 1;
            }
        }
        if op.kind.is_completion() {
            let sec = t as usize;
            if s.per_second.len() <= sec {
                s.per_second.resize(sec + 1, (0, 0, 0));
            }
            let b = &mut s.per_second[sec];
            match op.kind {
                OpType::Ok => b.0 += 1,
                OpType::Fail => b.1 += 1,
                _ => b.2 += 1,
            }
        }
    }
    s.faults = fault_windows(history)
        .into_iter()
        .map(|w| FaultWindow {
            fault: w.fault,
            nodes: w.nodes,
            start_s: w.start as f64 / 1e9,
            stop_s: w.end.map(|t| t as f64 / 1e9),
            error: w.error,
        })
        .collect();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outcomes_and_pairs_fault_windows() {
        let text = r#"{"index":0,"time":0,"process":0,"type":"invoke","f":"read"}
{"index":1,"time":1000000000,"process":"nemesis","type":"info","f":"start","value":{"fault":"random_kill","nodes":["n2"]}}
{"index":2,"time":1500000000,"process":0,"type":"ok","f":"read"}
{"index":3,"time":1600000000,"process":1,"type":"invoke","f":"transfer"}
{"index":4,"time":2600000000,"process":1,"type":"info","f":"transfer"}
{"index":5,"time":3000000000,"process":"nemesis","type":"info","f":"stop","value":{"fault":"random_kill","nodes":["n2"]}}
{"index":6,"time":3100000000,"process":2,"type":"invoke","f":"transfer"}
"#;
        let h: History = History::parse_str(text).unwrap();
        let s = summarize(&h);
        assert_eq!(
            s.by_f["read"],
            Counts {
                ok: 1,
                fail: 0,
                info: 0,
                open: 0
            }
        );
        assert_eq!(
            s.by_f["transfer"],
            Counts {
                ok: 0,
                fail: 0,
                info: 1,
                open: 1
            }
        );
        assert_eq!(s.faults.len(), 1);
        assert_eq!(s.faults[0].start_s, 1.0);
        assert_eq!(s.faults[0].stop_s, Some(3.0));
        assert_eq!(s.per_second[1], (1, 0, 0));
        assert_eq!(s.per_second[2], (0, 0, 1));
    }
}
