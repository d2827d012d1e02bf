//! Jepsen bank histories (TiDB's, elle-cli's, any Jepsen `bank` test's) into the bank
//! checker's convention, so [`BankChecker`] checks them as Jepsen's bank checker would.
//!
//! Jepsen writes `{:type :ok, :f :read, :value {0 100, 1 0}}` and
//! `{:type :invoke, :f :transfer, :value {:from 3, :to 0, :amount 1}}` (a failed transfer's
//! value is whatever the client said, e.g. `[:negative 2 -1]`), in EDN or in the JSON form
//! elle-cli reads (`"value": {"0": 100, "1": 0}`), one op per line or one vector of ops.
//! They become ops with `f = "read"` and value `{"balances": {"0": 100, "1": 0}}`, and
//! `f = "transfer"` with `{"from", "to", "amount"}`. `:process`, `:time` and `:index` are
//! optional (ops without a process are the one nil process; no `:time` means the
//! position); nemesis ops are kept as nemesis ops, which the bank checker only uses to
//! name the faults active at a bad read.
//!
//! Accounts and total, unless given: as Jepsen's checker infers them, the accounts of the
//! first ok read and the sum of its balances. Account ids must be non-negative integers
//! (or strings of them, as JSON writes map keys); a balance may be nil (reported).
//! With `negative_balances` (Jepsen's `:negative-balances?`) negative balances are allowed.
//! One difference from Jepsen: a read that leaves out an account is reported here
//! ("account N is missing"); Jepsen checks only the keys a read has.

use crate::bank::BankChecker;
use crate::edn::Edn;
use crate::elle::import::to_json;
use crate::jepsen_op::{forms, nil_process, op_head, op_of};
use faultline_core::{CheckResult, History, OpType, Process};
use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
#[error("bank history line {line}: {message}")]
pub struct BankImportError {
    pub line: usize,
    pub message: String,
}

/// How to check an imported bank history.
#[derive(Clone, Debug, Default)]
pub struct JepsenBankOptions {
    /// The accounts; `None`: those of the first ok read.
    pub accounts: Option<Vec<u64>>,
    /// The total; `None`: the sum of the first ok read.
    pub total: Option<i64>,
    /// Allow negative balances (Jepsen's `:negative-balances?`).
    pub negative_balances: bool,
}

/// An imported Jepsen bank history, with the accounts and total to check it against.
#[derive(Clone, Debug)]
pub struct JepsenBank {
    pub history: History,
    pub accounts: Vec<u64>,
    pub total: i64,
    pub negative_balances: bool,
}

impl JepsenBank {
    /// The checker for this history's accounts and total.
    pub fn checker(&self) -> BankChecker {
        BankChecker {
            accounts: self.accounts.clone(),
            total: self.total,
            settings: Default::default(),
        }
    }

    /// Checks the history as Jepsen's bank checker would.
    pub fn check(&self) -> CheckResult {
        self.checker()
            .check_with(&self.history, self.negative_balances)
    }
}

/// Reads a Jepsen bank history, EDN or JSON (by its first character), and settles the
/// accounts and total to check it against.
pub fn jepsen_bank(text: &str, opts: &JepsenBankOptions) -> Result<JepsenBank, BankImportError> {
    let history = jepsen_bank_history(text)?;
    let first = history
        .ops
        .iter()
        .find(|o| o.is_client() && o.is_ok() && o.f == "read")
        .and_then(|o| o.value.get("balances"))
        .and_then(Value::as_object);
    let accounts = match (&opts.accounts, first) {
        (Some(a), _) => a.clone(),
        (None, Some(b)) => {
            let mut a: Vec<u64> = b.keys().filter_map(|k| k.parse().ok()).collect();
            a.sort_unstable();
            a
        }
        (None, None) => Vec::new(),
    };
    let total = opts
        .total
        .unwrap_or_else(|| first.map_or(0, |b| b.values().filter_map(Value::as_i64).sum()));
    Ok(JepsenBank {
        history,
        accounts,
        total,
        negative_balances: opts.negative_balances,
    })
}

/// Reads a Jepsen bank history (EDN or JSON) into our convention, without checking it.
pub fn jepsen_bank_history(text: &str) -> Result<History, BankImportError> {
    let forms = forms(text).map_err(|(line, message)| BankImportError { line, message })?;
    let nil_process = Process::Client(nil_process(&forms));
    let mut ops = Vec::with_capacity(forms.len());
    for (line, form) in &forms {
        let err = |message: String| BankImportError {
            line: *line,
            message,
        };
        let head = op_head(form, nil_process).map_err(err)?;
        let raw = form.get("value").unwrap_or(&Edn::Nil);
        let value = match (head.process, head.f.unwrap_or(""), head.kind) {
            (Process::Client(_), "read", OpType::Ok) => balances(raw).map_err(err)?,
            (Process::Client(_), "transfer", _) if matches!(raw, Edn::Map(_)) => {
                transfer(raw).map_err(err)?
            }
            _ => to_json(raw),
        };
        ops.push(op_of(form, ops.len(), head, value));
    }
    Ok(History::new(ops))
}

/// An account id: a non-negative integer, or a string or keyword of one.
fn account(k: &Edn) -> Result<u64, String> {
    match k {
        Edn::Int(i) if *i >= 0 => Ok(*i as u64),
        other => other
            .as_name()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("account ids must be non-negative integers, found {other}")),
    }
}

/// `{0 100, 1 0}` to `{"balances": {"0": 100, "1": 0}}`; a nil balance stays null.
fn balances(v: &Edn) -> Result<Value, String> {
    let Edn::Map(entries) = v else {
        return Err(format!(
            "an ok read's value must be a map of balances, found {v}"
        ));
    };
    let mut m = Map::new();
    for (k, b) in entries {
        let b = match b {
            Edn::Int(i) => Value::from(*i),
            Edn::Nil => Value::Null,
            other => {
                return Err(format!(
                    "a balance must be an integer or nil, found {other}"
                ))
            }
        };
        m.insert(account(k)?.to_string(), b);
    }
    Ok(serde_json::json!({ "balances": m }))
}

/// `{:from 3, :to 0, :amount 1}` to `{"from": 3, "to": 0, "amount": 1}`.
fn transfer(v: &Edn) -> Result<Value, String> {
    let field = |name: &str| {
        v.get(name)
            .ok_or_else(|| format!("a transfer needs :{name}, found {v}"))
    };
    let amount = field("amount")?
        .as_int()
        .ok_or_else(|| format!("a transfer's :amount must be an integer, found {v}"))?;
    Ok(serde_json::json!({
        "from": account(field("from")?)?,
        "to": account(field("to")?)?,
        "amount": amount,
    }))
}
