//! The bank checker: money is neither created nor destroyed.
//!
//! Every `ok` read must list every account, its balances must sum to the initial total, and
//! no balance may be negative. Each bad read is reported with its op index, time, node, the
//! balances it saw and the faults active at that moment (from the nemesis ops of the same
//! history). A history without any ok read proves nothing: the verdict is unknown.
//!
//! History convention (the bank workload writes it): `f` is `read` or `transfer`; an ok read's
//! value is `{"balances": {"<account>": <balance>, ...}}`; a transfer's value is
//! `{"from": a, "to": b, "amount": n}`. Nemesis ops are `start`/`stop` with
//! `{"fault": name, "nodes": [...]}`.
//!
//! To help find the cause, the first violation comes with its context: the last good read
//! before it and every transfer that completed (ok or info) between the two reads. A lost
//! update shows there as two ok transfers into the same account that both read the same
//! old balance; [`diagnosis`] finds those pairs from the balances transfers record and
//! puts the likely cause and a hint in the result's details (`cause`, `hint`).

pub mod diagnosis;
pub use diagnosis::BankSettings;

use faultline_core::{CheckResult, Checker, History, Op, Validity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Checks bank reads against a fixed set of accounts and their total.
pub struct BankChecker {
    pub accounts: Vec<u64>,
    pub total: i64,
    /// The workload's isolation and read lock, named in the diagnosis.
    pub settings: BankSettings,
}

/// How many bad reads are listed in full; the rest are only counted.
const MAX_REPORTED: usize = 20;

impl Checker for BankChecker {
    fn name(&self) -> &str {
        "bank"
    }

    fn check(&self, history: &History) -> CheckResult {
        self.check_with(history, false)
    }
}

impl BankChecker {
    /// Checks `history`; with `negative_balances` (Jepsen's `:negative-balances?`), a
    /// negative balance is allowed and only the total and the accounts are checked.
    pub fn check_with(&self, history: &History, negative_balances: bool) -> CheckResult {
        let mut faults = ActiveFaults::default();
        let mut reads = 0usize;
        let mut bad = Vec::new();
        let mut bad_count = 0usize;
        let mut last_good: Option<&Op> = None;
        let mut first_violation = Value::Null;
        let mut bad_times = Vec::new();
        for op in &history.ops {
            if op.process.is_nemesis() {
                faults.apply(op);
                continue;
            }
            if !(op.is_ok() && op.f == "read") {
                continue;
            }
            reads += 1;
            let problems = self.problems(&op.value, negative_balances);
            if problems.is_empty() {
                last_good = Some(op);
            } else {
                if bad_count == 0 {
                    first_violation = violation_context(history, last_good, op);
                }
                bad_count += 1;
                bad_times.push((op.time, !faults.active.is_empty()));
                if bad.len() < MAX_REPORTED {
                    bad.push(json!({
                        "index": op.index,
                        "time_s": op.time as f64 / 1e9,
                        "process": op.process.to_string(),
                        "node": op.node,
                        "balances": op.value.get("balances"),
                        "problems": problems,
                        "active_faults": faults.describe(),
                    }));
                }
            }
        }
        let diagnosis = diagnosis::diagnose(history, &bad_times, &self.settings);
        let details = json!({
            "cause": diagnosis.cause,
            "hint": diagnosis.hint,
            "diagnosis": diagnosis.details,
            "ok_reads": reads,
            "bad_reads": bad_count,
            "total": self.total,
            "accounts": self.accounts.len(),
            "first_bad_reads": bad,
            "first_violation": first_violation,
        });
        if bad_count > 0 {
            CheckResult::new(
                "bank",
                Validity::Invalid,
                format!(
                    "{bad_count} of {reads} reads broke the bank invariant (total {})",
                    self.total
                ),
                details,
            )
        } else if reads == 0 {
            CheckResult::new(
                "bank",
                Validity::Unknown,
                "no read succeeded, nothing to check",
                details,
            )
        } else {
            let negative = if negative_balances {
                " (negative balances allowed)"
            } else {
                " with no negative balance"
            };
            CheckResult::new(
                "bank",
                Validity::Valid,
                format!("all {reads} reads summed to {}{negative}", self.total),
                details,
            )
        }
    }

    fn problems(&self, value: &Value, negative_balances: bool) -> Vec<String> {
        let Some(balances) = value.get("balances").and_then(Value::as_object) else {
            return vec!["the read has no balances".into()];
        };
        let mut problems = Vec::new();
        let mut sum: i64 = 0;
        for account in &self.accounts {
            match balances.get(&account.to_string()).and_then(Value::as_i64) {
                Some(b) => {
                    sum += b;
                    if b < 0 && !negative_balances {
                        problems.push(format!("account {account} is negative: {b}"));
                    }
                }
                None => problems.push(format!("account {account} is missing")),
            }
        }
        for key in balances.keys() {
            if !key.parse::<u64>().is_ok_and(|k| self.accounts.contains(&k)) {
                problems.push(format!("unexpected account {key}"));
            }
        }
        if sum != self.total {
            problems.push(format!("balances sum to {sum}, expected {}", self.total));
        }
        problems
    }
}

/// The last good read, the first bad one, and the transfers that completed between them.
fn violation_context(history: &History, good: Option<&Op>, bad: &Op) -> Value {
    let from = good.map_or(0, |g| g.time);
    let pairs = history.pairs();
    let transfers: Vec<Value> = history
        .ops
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.f == "transfer" && (o.is_ok() || o.is_info()) && o.time >= from && o.time <= bad.time
        })
        .take(50)
        .map(|(i, o)| {
            let invoked = pairs[i].map(|j| history.ops[j].time as f64 / 1e9);
            json!({
                "index": o.index, "type": o.kind, "node": o.node, "process": o.process.to_string(),
                "value": o.value, "invoked_s": invoked, "completed_s": o.time as f64 / 1e9,
            })
        })
        .collect();
    json!({
        "last_good_read": good.map(|g| json!({"index": g.index, "node": g.node, "time_s": g.time as f64 / 1e9, "balances": g.value.get("balances")})),
        "first_bad_read": {"index": bad.index, "node": bad.node, "time_s": bad.time as f64 / 1e9, "balances": bad.value.get("balances")},
        "transfers_between": transfers,
    })
}

/// Faults in force at a point of the history, from nemesis start/stop ops.
#[derive(Default)]
pub struct ActiveFaults {
    pub active: BTreeMap<String, Value>,
}

impl ActiveFaults {
    pub fn apply(&mut self, op: &Op) {
        let Some(fault) = op.value.get("fault").and_then(Value::as_str) else {
            return;
        };
        match op.f.as_str() {
            "start" if (op.is_info() || op.is_ok()) && op.error.is_none() => {
                self.active.insert(
                    fault.to_string(),
                    op.value.get("nodes").cloned().unwrap_or(Value::Null),
                );
            }
            "stop" => {
                self.active.remove(fault);
            }
            _ => {}
        }
    }

    pub fn describe(&self) -> Vec<String> {
        self.active
            .iter()
            .map(|(f, nodes)| format!("{f} {nodes}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_core::{OpType, Process};

    fn op(index: u64, process: Process, kind: OpType, f: &str, value: Value) -> Op {
        Op {
            index,
            time: index * 1_000_000,
            process,
            kind,
            f: f.into(),
            value,
            node: Some("n1".into()),
            error: None,
        }
    }

    fn read(index: u64, balances: Value) -> Vec<Op> {
        vec![
            op(
                index,
                Process::Client(0),
                OpType::Invoke,
                "read",
                Value::Null,
            ),
            op(
                index + 1,
                Process::Client(0),
                OpType::Ok,
                "read",
                json!({ "balances": balances }),
            ),
        ]
    }

    fn checker() -> BankChecker {
        BankChecker {
            accounts: vec![0, 1, 2],
            total: 30,
            settings: BankSettings::default(),
        }
    }

    #[test]
    fn consistent_reads_are_valid() {
        let mut ops = read(0, json!({"0": 10, "1": 10, "2": 10}));
        ops.extend(read(2, json!({"0": 0, "1": 25, "2": 5})));
        let r = checker().check(&History::new(ops));
        assert_eq!(r.valid, Validity::Valid, "{r:?}");
        assert_eq!(r.details["ok_reads"], 2);
    }

    #[test]
    fn a_wrong_total_is_invalid_and_names_the_read_and_the_fault() {
        let mut ops = vec![op(
            0,
            Process::Nemesis,
            OpType::Info,
            "start",
            json!({"fault": "partition_one", "nodes": ["n3"]}),
        )];
        ops.extend(read(1, json!({"0": 10, "1": 10, "2": 11})));
        let r = checker().check(&History::new(ops));
        assert_eq!(r.valid, Validity::Invalid);
        let bad = &r.details["first_bad_reads"][0];
        assert_eq!(bad["index"], 2);
        assert_eq!(bad["node"], "n1");
        assert!(bad["problems"][0].as_str().unwrap().contains("sum to 31"));
        assert!(bad["active_faults"][0]
            .as_str()
            .unwrap()
            .contains("partition_one"));
    }

    #[test]
    fn the_first_violation_lists_transfers_since_the_last_good_read() {
        let mut ops = read(0, json!({"0": 10, "1": 10, "2": 10}));
        ops.push(op(
            2,
            Process::Client(1),
            OpType::Invoke,
            "transfer",
            json!({"from": 0, "to": 2, "amount": 5}),
        ));
        ops.push(op(
            3,
            Process::Client(2),
            OpType::Invoke,
            "transfer",
            json!({"from": 1, "to": 2, "amount": 4}),
        ));
        ops.push(op(
            4,
            Process::Client(1),
            OpType::Ok,
            "transfer",
            json!({"from": 0, "to": 2, "amount": 5}),
        ));
        ops.push(op(
            5,
            Process::Client(2),
            OpType::Ok,
            "transfer",
            json!({"from": 1, "to": 2, "amount": 4}),
        ));
        ops.extend(read(6, json!({"0": 5, "1": 6, "2": 14})));
        let r = checker().check(&History::new(ops));
        assert_eq!(r.valid, Validity::Invalid);
        let v = &r.details["first_violation"];
        assert_eq!(v["last_good_read"]["index"], 1);
        assert_eq!(v["first_bad_read"]["index"], 7);
        assert_eq!(v["transfers_between"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn negative_and_missing_accounts_are_invalid() {
        let r = checker().check(&History::new(read(0, json!({"0": -5, "1": 35, "2": 0}))));
        assert_eq!(r.valid, Validity::Invalid);
        let r = checker().check(&History::new(read(0, json!({"0": 15, "1": 15}))));
        assert_eq!(r.valid, Validity::Invalid);
        assert!(r.details["first_bad_reads"][0]["problems"][0]
            .as_str()
            .unwrap()
            .contains("missing"));
    }

    #[test]
    fn faults_that_stopped_are_not_blamed() {
        let mut ops = vec![
            op(
                0,
                Process::Nemesis,
                OpType::Info,
                "start",
                json!({"fault": "random_kill", "nodes": ["n2"]}),
            ),
            op(
                1,
                Process::Nemesis,
                OpType::Info,
                "stop",
                json!({"fault": "random_kill", "nodes": ["n2"]}),
            ),
        ];
        ops.extend(read(2, json!({"0": 1, "1": 1, "2": 1})));
        let r = checker().check(&History::new(ops));
        assert_eq!(r.details["first_bad_reads"][0]["active_faults"], json!([]));
    }

    #[test]
    fn failed_and_indeterminate_reads_are_ignored_and_no_reads_is_unknown() {
        let ops = vec![
            op(0, Process::Client(0), OpType::Invoke, "read", Value::Null),
            op(1, Process::Client(0), OpType::Info, "read", Value::Null),
            op(
                2,
                Process::Client(1),
                OpType::Invoke,
                "transfer",
                json!({"from": 0, "to": 1, "amount": 3}),
            ),
            op(
                3,
                Process::Client(1),
                OpType::Ok,
                "transfer",
                json!({"from": 0, "to": 1, "amount": 3}),
            ),
        ];
        let r = checker().check(&History::new(ops));
        assert_eq!(r.valid, Validity::Unknown);
    }
}
