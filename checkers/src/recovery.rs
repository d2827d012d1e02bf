//! The recovery checker: how long the system under test took to serve again after each fault.
//!
//! For every fault window (a nemesis `start` and its `stop`, or the final `heal`), it measures
//! from the end of the fault:
//! - per node, the time to the first `ok` client op on that node;
//! - the time until throughput is back: the first one-second window (sliding in 100 ms
//!   steps) with at least 90% of the ok-op rate of the ten seconds before the fault began.
//!
//! A measurement ends where the next fault begins: a node killed again before it served an
//! ok op has no recovery time for the first kill (`None`), rather than one that includes the
//! second fault. `observed_s` says how long the quiet stretch was.
//!
//! This is availability, kept apart from safety: without an SLO the verdict is valid (the
//! figures are information). With `slo`, a recovery that took longer is invalid, and a
//! recovery not seen by the end of the history counts only when the history went on for
//! longer than the SLO after the fault ended (otherwise it is not measured). Faults ended by
//! the run's final heal are reported but not held to the SLO: the workload had stopped, only
//! final reads follow, so there is no load to recover.

use faultline_core::{fault_windows, CheckResult, Checker, FaultWindow, History, Op, Validity};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub struct RecoveryChecker {
    /// Longest acceptable recovery, in seconds.
    pub slo_s: Option<f64>,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct Recovery {
    pub fault: String,
    pub nodes: Value,
    pub start_s: f64,
    pub end_s: f64,
    /// Per node: seconds from the end of the fault to its first ok op (`None`: not seen).
    pub first_ok_s: Vec<(String, Option<f64>)>,
    /// Ok ops per second in the ten seconds before the fault.
    pub baseline_ops_per_s: f64,
    /// Seconds from the end of the fault until throughput was back at 90% (`None`: not seen).
    pub throughput_back_s: Option<f64>,
    /// Seconds of history after the fault ended and before the next fault began (or the
    /// history ended): how long recovery could be watched.
    pub observed_s: f64,
    /// Ended by the final heal, after the workload stopped: not held to the SLO.
    pub ended_by_final_heal: bool,
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Ended fault windows whose start succeeded, as (fault, nodes, start ns, end ns, ended by
/// the final heal).
fn ended(windows: Vec<FaultWindow>) -> Vec<(String, Value, u64, u64, bool)> {
    windows
        .into_iter()
        .filter(|w| w.error.is_none())
        .filter_map(|w| Some((w.fault, w.nodes, w.start, w.end?, w.ended_by_final_heal)))
        .collect()
}

pub fn measure(history: &History) -> Vec<Recovery> {
    let oks: Vec<&Op> = history
        .ops
        .iter()
        .filter(|o| o.is_client() && o.is_ok())
        .collect();
    let times: Vec<u64> = oks.iter().map(|o| o.time).collect();
    let nodes: BTreeSet<&str> = oks.iter().filter_map(|o| o.node.as_deref()).collect();
    let last = history.ops.last().map_or(0, |o| o.time);
    let count = |from: u64, to: u64| {
        times.partition_point(|&t| t < to) - times.partition_point(|&t| t < from)
    };
    // Every fault that began, skipped ones aside (a failed start may have done something).
    let all = fault_windows(history);
    let starts: Vec<u64> = all.iter().map(|w| w.start).collect();
    ended(all)
        .into_iter()
        .map(|(fault, fault_nodes, start, end, ended_by_final_heal)| {
            let horizon = starts
                .iter()
                .copied()
                .filter(|&s| s >= end)
                .min()
                .unwrap_or(last)
                .min(last);
            let base_from = start.saturating_sub(10_000_000_000);
            let base_span = secs(start - base_from);
            let baseline = if base_span >= 1.0 {
                count(base_from, start) as f64 / base_span
            } else {
                0.0
            };
            let first_ok_s = nodes
                .iter()
                .map(|n| {
                    let t = oks.iter().find(|o| {
                        o.time >= end && o.time < horizon && o.node.as_deref() == Some(*n)
                    });
                    (n.to_string(), t.map(|o| secs(o.time - end)))
                })
                .collect();
            let mut throughput_back_s = None;
            if baseline > 0.0 {
                let mut t = end;
                while t + 1_000_000_000 <= horizon {
                    if count(t, t + 1_000_000_000) as f64 >= 0.9 * baseline {
                        throughput_back_s = Some(secs(t - end));
                        break;
                    }
                    t += 100_000_000;
                }
            }
            Recovery {
                fault,
                nodes: fault_nodes,
                start_s: secs(start),
                end_s: secs(end),
                first_ok_s,
                baseline_ops_per_s: baseline,
                throughput_back_s,
                observed_s: secs(horizon.saturating_sub(end)),
                ended_by_final_heal,
            }
        })
        .collect()
}

impl Checker for RecoveryChecker {
    fn name(&self) -> &str {
        "recovery"
    }

    fn check(&self, history: &History) -> CheckResult {
        let recoveries = measure(history);
        let mut slow = Vec::new();
        if let Some(slo) = self.slo_s {
            for r in recoveries.iter().filter(|r| !r.ended_by_final_heal) {
                let observed_long_enough = r.observed_s > slo;
                let late = |t: Option<f64>| t.map_or(observed_long_enough, |t| t > slo);
                for (node, t) in &r.first_ok_s {
                    if late(*t) {
                        slow.push(format!(
                            "{} ending at {:.1}s: {node} served no ok op within {slo}s",
                            r.fault, r.end_s
                        ));
                    }
                }
                if r.baseline_ops_per_s > 0.0 && late(r.throughput_back_s) {
                    slow.push(format!(
                        "{} ending at {:.1}s: throughput not back to 90% within {slo}s",
                        r.fault, r.end_s
                    ));
                }
            }
        }
        let worst = recoveries
            .iter()
            .flat_map(|r| {
                r.first_ok_s
                    .iter()
                    .filter_map(|(_, t)| *t)
                    .chain(r.throughput_back_s)
            })
            .fold(0.0f64, f64::max);
        let (valid, summary) = if recoveries.is_empty() {
            (Validity::Valid, "no fault to recover from".to_string())
        } else if !slow.is_empty() {
            (
                Validity::Invalid,
                format!(
                    "{} recoveries slower than the SLO of {}s",
                    slow.len(),
                    self.slo_s.unwrap_or(0.0)
                ),
            )
        } else {
            (
                Validity::Valid,
                format!(
                    "{} fault(s); slowest measured recovery {worst:.1}s",
                    recoveries.len()
                ),
            )
        };
        CheckResult::new(
            "recovery",
            valid,
            summary,
            json!({ "slo_s": self.slo_s, "recoveries": recoveries, "slow": slow }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_core::{OpType, Process};

    const S: u64 = 1_000_000_000;

    fn op(
        time: u64,
        process: Process,
        kind: OpType,
        f: &str,
        value: Value,
        node: Option<&str>,
    ) -> Op {
        Op {
            index: 0,
            time,
            process,
            kind,
            f: f.into(),
            value,
            node: node.map(str::to_string),
            error: None,
        }
    }

    /// Ok ops every 100 ms on n1 and n2, none during [20 s, 30 s + gap) on n2.
    fn history(gap: u64) -> History {
        let mut ops = Vec::new();
        let fault = json!({"fault": "random_kill", "nodes": ["n2"]});
        for i in 0..600u64 {
            let t = i * S / 10;
            for (p, n) in [(0, "n1"), (1, "n2")] {
                if n == "n2" && t >= 20 * S && t < 30 * S + gap {
                    continue;
                }
                ops.push(op(
                    t,
                    Process::Client(p),
                    OpType::Ok,
                    "read",
                    Value::Null,
                    Some(n),
                ));
            }
            if t == 20 * S {
                ops.push(op(
                    t,
                    Process::Nemesis,
                    OpType::Info,
                    "start",
                    fault.clone(),
                    None,
                ));
            }
            if t == 30 * S {
                ops.push(op(
                    t,
                    Process::Nemesis,
                    OpType::Info,
                    "stop",
                    fault.clone(),
                    None,
                ));
            }
        }
        ops.sort_by_key(|o| o.time);
        History::new(ops)
    }

    #[test]
    fn measures_first_ok_per_node_and_throughput() {
        let r = &measure(&history(4 * S))[0];
        assert_eq!(r.end_s, 30.0);
        let n2 = r
            .first_ok_s
            .iter()
            .find(|(n, _)| n == "n2")
            .unwrap()
            .1
            .unwrap();
        assert!((n2 - 4.0).abs() < 0.01, "{n2}");
        let n1 = r
            .first_ok_s
            .iter()
            .find(|(n, _)| n == "n1")
            .unwrap()
            .1
            .unwrap();
        assert!(n1 < 0.2);
        assert!((r.baseline_ops_per_s - 20.0).abs() < 0.5);
        let back = r.throughput_back_s.unwrap();
        assert!((3.5..=4.1).contains(&back), "{back}");
    }

    #[test]
    fn a_recovery_is_watched_only_until_the_next_fault() {
        // n2 is down 4 s after the stop at 30 s; a second fault starts at 32 s.
        let mut h = history(4 * S);
        let next = json!({"fault": "pause_one", "nodes": ["n1"]});
        h.ops.push(op(
            32 * S,
            Process::Nemesis,
            OpType::Info,
            "start",
            next.clone(),
            None,
        ));
        h.ops.push(op(
            50 * S,
            Process::Nemesis,
            OpType::Info,
            "stop",
            next,
            None,
        ));
        h.ops.sort_by_key(|o| o.time);
        let r = &measure(&h)[0];
        assert!((r.observed_s - 2.0).abs() < 0.01, "{r:?}");
        assert_eq!(
            r.first_ok_s.iter().find(|(n, _)| n == "n2").unwrap().1,
            None
        );
        // Not seen within 2 s of watching: no verdict against a 3 s SLO ...
        let lenient = RecoveryChecker { slo_s: Some(3.0) }.check(&h);
        assert_eq!(lenient.valid, Validity::Valid, "{lenient:?}");
        // ... but late against a 1 s SLO, which the 2 s of watching did cover.
        let strict = RecoveryChecker { slo_s: Some(1.0) }.check(&h);
        assert_eq!(strict.valid, Validity::Invalid, "{strict:?}");
    }

    #[test]
    fn faults_ended_by_the_final_heal_are_not_held_to_the_slo() {
        let mut h = history(4 * S);
        // Turn the stop into the final heal.
        for o in h.ops.iter_mut().filter(|o| o.f == "stop") {
            o.f = "heal".into();
            o.value = json!({"fault": "all"});
        }
        let r = RecoveryChecker { slo_s: Some(2.0) }.check(&h);
        assert_eq!(r.valid, Validity::Valid, "{r:?}");
        assert_eq!(r.details["recoveries"][0]["ended_by_final_heal"], true);
    }

    #[test]
    fn a_slo_turns_slow_recovery_invalid_and_fast_recovery_valid() {
        let slow = RecoveryChecker { slo_s: Some(2.0) }.check(&history(4 * S));
        assert_eq!(
            slow.details["slow"].as_array().unwrap().len(),
            2,
            "{slow:?}"
        );
        assert_eq!(slow.valid, Validity::Invalid, "{slow:?}");
        let fast = RecoveryChecker { slo_s: Some(2.0) }.check(&history(S / 2));
        assert_eq!(fast.valid, Validity::Valid, "{fast:?}");
        let info = RecoveryChecker { slo_s: None }.check(&history(4 * S));
        assert_eq!(info.valid, Validity::Valid);
    }
}
