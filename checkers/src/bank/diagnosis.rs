//! Why the bank broke: lost updates (Adya's P4) found in the balances transfers read.
//!
//! A transfer's ok completion may carry `"read": {"<account>": <balance>, ...}`, the balances
//! it read before writing both accounts back (older histories lack it; then nothing is
//! diagnosed). Two committed transfers that ran concurrently (each invoked before the other
//! completed) and read the same balance of one account both wrote that account from the
//! same old value: neither saw the other's write, so one of the two writes is lost. The same
//! balance is the same version only if nothing wrote that value back meanwhile (23 -> 22 ->
//! 23: ABA): a pair is kept only when no other transfer that may have written the account
//! back to that balance (an ok transfer whose write of it was that balance, or one that
//! never completed ok or fail) could sit between the two. The pair is the evidence; a bad
//! read that completed after some pair is "explained" by it. A bad
//! read that no earlier pair explains is money created or destroyed some other way (e.g. a
//! commit lost in a crash) and is reported as such.

use faultline_core::{History, Op};
use serde_json::{json, Value};

/// A lost update: two concurrent committed transfers that read `account` = `balance`.
#[derive(Clone, Debug, PartialEq)]
pub struct LostUpdate {
    pub account: String,
    pub balance: i64,
    /// History indexes of the two transfers' ok completions.
    pub first: u64,
    pub second: u64,
    /// When the later of the two completed, ns.
    pub completed: u64,
}

impl LostUpdate {
    pub fn to_json(&self) -> Value {
        json!({
            "account": self.account, "balance": self.balance,
            "transfers": [self.first, self.second], "completed_s": self.completed as f64 / 1e9,
        })
    }
}

/// How many pairs are listed in full.
const MAX_LISTED: usize = 20;

/// Every lost update of `history`, in the order the later transfer completed.
pub fn lost_updates(history: &History) -> Vec<LostUpdate> {
    let pairs = history.pairs();
    // (invoked, completed, op) for every ok transfer that recorded what it read.
    let mut transfers: Vec<(u64, u64, &Op)> = Vec::new();
    let writers = Writers::of(history, &pairs);
    for (i, op) in history.ops.iter().enumerate() {
        if op.is_ok() && op.f == "transfer" && op.value.get("read").is_some() {
            let invoked = pairs[i].map_or(op.time, |j| history.ops[j].time.min(op.time));
            transfers.push((invoked, op.time, op));
        }
    }
    // In completion order; a transfer completing more than the longest latency after `a`
    // was invoked after `a` completed, so the scan for `a`'s partners stops there.
    let longest = transfers.iter().map(|(i, d, _)| d - i).max().unwrap_or(0);
    let mut found = Vec::new();
    for (n, &(inv_a, done_a, a)) in transfers.iter().enumerate() {
        for &(inv_b, done_b, b) in &transfers[n + 1..] {
            if done_b > done_a + longest {
                break;
            }
            if inv_b > done_a {
                continue;
            }
            let (Some(ra), Some(rb)) = (
                a.value.get("read").and_then(Value::as_object),
                b.value.get("read").and_then(Value::as_object),
            ) else {
                continue;
            };
            for (account, va) in ra {
                if let (Some(va), Some(vb)) = (va.as_i64(), rb.get(account).and_then(Value::as_i64))
                {
                    let span = (inv_a.min(inv_b), done_a.max(done_b));
                    if va == vb && !writers.may_have_restored(account, va, span, [a.index, b.index])
                    {
                        found.push(LostUpdate {
                            account: account.clone(),
                            balance: va,
                            first: a.index,
                            second: b.index,
                            completed: done_a.max(done_b),
                        });
                    }
                }
            }
        }
    }
    found.sort_by_key(|l| l.completed);
    found
}

/// An ok transfer's time span and completion index: (invoked, completed, index).
type Span = (u64, u64, u64);

/// Who may have written each account, for the ABA rule.
struct Writers {
    /// (account, balance written) -> the ok transfers whose write of the account was that
    /// balance.
    wrote: std::collections::HashMap<(String, i64), Vec<Span>>,
    /// account -> invocation times of the transfers of it that never completed ok or fail
    /// (info, or still open): they may have written anything, at any later time.
    unknown: std::collections::HashMap<String, Vec<u64>>,
}

impl Writers {
    fn of(history: &History, pairs: &[Option<usize>]) -> Writers {
        let mut w = Writers {
            wrote: Default::default(),
            unknown: Default::default(),
        };
        let account = |v: &Value, k: &str| {
            v.get(k)
                .map(|a| a.to_string().trim_matches('"').to_string())
        };
        for (i, op) in history.ops.iter().enumerate() {
            if op.f != "transfer" || !op.is_client() {
                continue;
            }
            let (from, to) = (account(&op.value, "from"), account(&op.value, "to"));
            let amount = op.value.get("amount").and_then(Value::as_i64);
            if op.is_invoke() {
                // Still open at the end of the history: indeterminate.
                if pairs[i].is_none() {
                    for a in [&from, &to].into_iter().flatten() {
                        w.unknown.entry(a.clone()).or_default().push(op.time);
                    }
                }
                continue;
            }
            let invoked = pairs[i].map_or(op.time, |j| history.ops[j].time.min(op.time));
            if op.is_ok() {
                let read = op.value.get("read").and_then(Value::as_object);
                for (a, sign) in [(&from, -1), (&to, 1)] {
                    let (Some(a), Some(amount)) = (a, amount) else {
                        continue;
                    };
                    if let Some(old) = read.and_then(|r| r.get(a)).and_then(Value::as_i64) {
                        w.wrote
                            .entry((a.clone(), old + sign * amount))
                            .or_default()
                            .push((invoked, op.time, op.index));
                    } else {
                        w.unknown.entry(a.clone()).or_default().push(invoked);
                    }
                }
            } else if !op.is_fail() {
                for a in [&from, &to].into_iter().flatten() {
                    w.unknown.entry(a.clone()).or_default().push(invoked);
                }
            }
        }
        w
    }

    /// Whether a transfer other than `pair` may have written `account` = `balance` while
    /// the pair ran (`span`: the earlier invocation to the later completion): then the
    /// second read of that balance may be a newer version of it.
    fn may_have_restored(
        &self,
        account: &str,
        balance: i64,
        span: (u64, u64),
        pair: [u64; 2],
    ) -> bool {
        let overlaps = |inv: u64, done: u64| inv < span.1 && done > span.0;
        self.wrote
            .get(&(account.to_string(), balance))
            .is_some_and(|ws| {
                ws.iter()
                    .any(|&(inv, done, i)| !pair.contains(&i) && overlaps(inv, done))
            })
            || self
                .unknown
                .get(account)
                .is_some_and(|ts| ts.iter().any(|&inv| inv < span.1))
    }
}

/// The diagnosis of a bank history's bad reads: `(cause, hint, details)`.
pub struct Diagnosis {
    pub cause: Option<String>,
    pub hint: Option<String>,
    pub details: Value,
}

/// The settings that decide whether a transfer's read-modify-write can lose an update.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BankSettings {
    /// The isolation level asked for (`None`: the server's default).
    pub isolation: Option<String>,
    /// `none` or `for-update`.
    pub read_lock: Option<String>,
}

impl BankSettings {
    fn describe(&self) -> String {
        format!(
            "{} with read-lock {}",
            self.isolation
                .as_deref()
                .unwrap_or("the server's default isolation (REPEATABLE READ on MariaDB)"),
            self.read_lock.as_deref().unwrap_or("none")
        )
    }
}

/// Explains bad reads (times, in ns, and whether a fault was active) by lost updates.
pub fn diagnose(
    history: &History,
    bad_reads: &[(u64, bool)],
    settings: &BankSettings,
) -> Diagnosis {
    let lost = lost_updates(history);
    let first_lost = lost.first().map(|l| l.completed);
    let explained = bad_reads
        .iter()
        .filter(|(t, _)| first_lost.is_some_and(|f| f <= *t))
        .count();
    let unexplained = bad_reads.len() - explained;
    let no_fault = bad_reads.iter().filter(|(_, faulted)| !faulted).count();
    let recorded = history
        .ops
        .iter()
        .any(|o| o.is_ok() && o.f == "transfer" && o.value.get("read").is_some());
    let mut cause = Vec::new();
    let mut hint = None;
    if let Some(l) = lost.first() {
        cause.push(format!(
            "lost update (Adya P4) at {}: transfers {} and {} both read account {} = {} and neither saw the other's write; {} lost updates explain {explained} of {} bad reads, {no_fault} of them with no fault active",
            settings.describe(), l.first, l.second, l.account, l.balance, lost.len(), bad_reads.len()
        ));
        let forbidden = settings.read_lock.as_deref() == Some("for-update")
            || settings.isolation.as_deref() == Some("serializable");
        hint = Some(if forbidden {
            "these settings forbid lost updates: the system broke its own isolation".to_string()
        } else if no_fault == bad_reads.len() {
            "--read-lock for-update or --isolation serializable forbid it; no fault was active at any bad read".to_string()
        } else {
            "--read-lock for-update or --isolation serializable forbid it; it happens with or without faults".to_string()
        });
    }
    if unexplained > 0 && recorded {
        cause.push(format!(
            "{unexplained} bad reads came before any lost update: money created or destroyed some other way (e.g. a commit lost in a crash)"
        ));
    }
    let details = json!({
        "balances_recorded": recorded,
        "lost_updates": lost.len(),
        "lost_update_pairs": lost.iter().take(MAX_LISTED).map(LostUpdate::to_json).collect::<Vec<_>>(),
        "bad_reads_explained": explained,
        "bad_reads_unexplained": unexplained,
        "bad_reads_without_fault": no_fault,
        "settings": {"isolation": settings.isolation, "read_lock": settings.read_lock},
    });
    Diagnosis {
        cause: (!cause.is_empty()).then(|| cause.join("; ")),
        hint,
        details,
    }
}

#[cfg(test)]
mod tests {
    use crate::bank::{BankChecker, BankSettings};
    use faultline_core::{Checker, History, Validity};
    use serde_json::{json, Value};

    /// A history from `(time_ms, process, type, f, value)` rows.
    fn history(rows: &[(u64, i64, &str, &str, Value)]) -> History {
        let text: String = rows
            .iter()
            .enumerate()
            .map(|(i, (t, p, kind, f, v))| {
                let process = if *p < 0 { json!("nemesis") } else { json!(p) };
                format!(
                    "{}\n",
                    json!({"index": i, "time": t * 1_000_000, "process": process, "type": kind, "f": f, "value": v})
                )
            })
            .collect();
        History::parse_str(&text).unwrap()
    }

    fn checker() -> BankChecker {
        BankChecker {
            accounts: vec![0, 1],
            total: 20,
            settings: BankSettings {
                isolation: None,
                read_lock: Some("none".into()),
            },
        }
    }

    fn transfer(from: u64, to: u64, amount: i64, read: [i64; 2]) -> Value {
        json!({"from": from, "to": to, "amount": amount,
               "read": {from.to_string(): read[0], to.to_string(): read[1]}})
    }

    fn read(b0: i64, b1: i64) -> Value {
        json!({"balances": {"0": b0, "1": b1}})
    }

    /// Two concurrent transfers from 0 to 1 that both read 10/10: one write is lost, the
    /// bank ends with 9 + 12 = 21.
    fn lost_update_rows() -> Vec<(u64, i64, &'static str, &'static str, Value)> {
        vec![
            (
                1,
                0,
                "invoke",
                "transfer",
                json!({"from": 0, "to": 1, "amount": 1}),
            ),
            (
                2,
                1,
                "invoke",
                "transfer",
                json!({"from": 0, "to": 1, "amount": 2}),
            ),
            (3, 0, "ok", "transfer", transfer(0, 1, 1, [10, 10])),
            (4, 1, "ok", "transfer", transfer(0, 1, 2, [10, 10])),
            (5, 2, "invoke", "read", Value::Null),
            (6, 2, "ok", "read", read(8, 13)),
        ]
    }

    #[test]
    fn a_balance_written_back_is_not_a_lost_update() {
        // 0 -> 1 reads 0 = 10 and writes 9; 1 -> 0 then reads 9 and writes 10 back; a third
        // transfer, overlapping the first, reads 0 = 10: the newer 10 (ABA), not a lost
        // update, and the bank adds up.
        let rows = vec![
            (
                1,
                0,
                "invoke",
                "transfer",
                json!({"from": 0, "to": 1, "amount": 1}),
            ),
            (
                2,
                2,
                "invoke",
                "transfer",
                json!({"from": 0, "to": 1, "amount": 2}),
            ),
            (3, 0, "ok", "transfer", transfer(0, 1, 1, [10, 10])),
            (
                4,
                1,
                "invoke",
                "transfer",
                json!({"from": 1, "to": 0, "amount": 1}),
            ),
            (5, 1, "ok", "transfer", transfer(1, 0, 1, [11, 9])),
            (6, 2, "ok", "transfer", transfer(0, 1, 2, [10, 10])),
            (7, 3, "invoke", "read", Value::Null),
            (8, 3, "ok", "read", read(8, 12)),
        ];
        let r = checker().check(&history(&rows));
        assert_eq!(r.valid, Validity::Valid, "{:#}", r.details);
        assert_eq!(r.details["diagnosis"]["lost_updates"], 0, "{:#}", r.details);
        // Without the write back both accounts' reads are lost updates.
        let mut lost = rows.clone();
        lost.remove(4);
        lost.remove(3);
        let r = checker().check(&history(&lost));
        assert_eq!(r.details["diagnosis"]["lost_updates"], 2, "{:#}", r.details);
    }

    #[test]
    fn a_lost_update_is_named_with_its_two_transfers_and_the_hint() {
        let r = checker().check(&history(&lost_update_rows()));
        assert_eq!(r.valid, Validity::Invalid);
        let cause = r.details["cause"].as_str().unwrap();
        assert!(cause.starts_with("lost update (Adya P4)"), "{cause}");
        assert!(
            cause.contains("transfers 2 and 3 both read account 0 = 10"),
            "{cause}"
        );
        assert!(!cause.contains("other way"), "{cause}");
        let d = &r.details["diagnosis"];
        assert_eq!(d["bad_reads_explained"], 1);
        assert_eq!(d["bad_reads_without_fault"], 1);
        assert!(r.details["hint"]
            .as_str()
            .unwrap()
            .contains("--read-lock for-update"));
    }

    #[test]
    fn a_lost_commit_is_money_destroyed_that_no_lost_update_explains() {
        // One transfer committed (its reads recorded), then a crash lost it: a later read
        // shows the money gone from one account and not arrived at the other.
        let rows = vec![
            (
                1,
                -1,
                "info",
                "start",
                json!({"fault": "random_kill", "nodes": ["n1"]}),
            ),
            (
                2,
                0,
                "invoke",
                "transfer",
                json!({"from": 0, "to": 1, "amount": 3}),
            ),
            (3, 0, "ok", "transfer", transfer(0, 1, 3, [10, 10])),
            (4, 2, "invoke", "read", Value::Null),
            (5, 2, "ok", "read", read(7, 10)),
        ];
        let r = checker().check(&history(&rows));
        assert_eq!(r.valid, Validity::Invalid);
        let cause = r.details["cause"].as_str().unwrap();
        assert!(!cause.contains("lost update (Adya"), "{cause}");
        assert!(
            cause.contains("1 bad reads came before any lost update"),
            "{cause}"
        );
        assert_eq!(r.details["diagnosis"]["bad_reads_without_fault"], 0);
        assert!(r.details["hint"].is_null());
    }

    #[test]
    fn both_are_told_apart() {
        // A bad read before the lost update (a lost commit) and one after it.
        let mut rows = vec![
            (0, 3, "invoke", "read", Value::Null),
            (0, 3, "ok", "read", read(10, 9)),
        ];
        rows.extend(lost_update_rows());
        let r = checker().check(&history(&rows));
        let d = &r.details["diagnosis"];
        // One pair, both of its accounts' writes lost.
        assert_eq!(d["lost_updates"], 2);
        assert_eq!(d["bad_reads_explained"], 1);
        assert_eq!(d["bad_reads_unexplained"], 1);
        let cause = r.details["cause"].as_str().unwrap();
        assert!(
            cause.contains("lost update") && cause.contains("some other way"),
            "{cause}"
        );
    }

    #[test]
    fn sequential_transfers_and_old_histories_are_not_diagnosed() {
        let rows = vec![
            (
                1,
                0,
                "invoke",
                "transfer",
                json!({"from": 0, "to": 1, "amount": 1}),
            ),
            (2, 0, "ok", "transfer", transfer(0, 1, 1, [10, 10])),
            (
                3,
                1,
                "invoke",
                "transfer",
                json!({"from": 0, "to": 1, "amount": 1}),
            ),
            (4, 1, "ok", "transfer", transfer(0, 1, 1, [9, 11])),
            (
                5,
                1,
                "invoke",
                "transfer",
                json!({"from": 1, "to": 0, "amount": 1}),
            ),
            (
                6,
                1,
                "ok",
                "transfer",
                json!({"from": 1, "to": 0, "amount": 1}),
            ),
            (7, 2, "invoke", "read", Value::Null),
            (8, 2, "ok", "read", read(9, 11)),
        ];
        let r = checker().check(&history(&rows));
        assert_eq!(r.valid, Validity::Valid, "{r:?}");
        assert_eq!(r.details["diagnosis"]["lost_updates"], 0);
        assert!(r.details["cause"].is_null());
    }
}
