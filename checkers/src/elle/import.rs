//! Import of Jepsen histories (list-append and rw-register) into our history convention,
//! as Jepsen and elle-cli write them.
//!
//! Each op map `{:type :ok, :f :txn, :value [[:append :x 2] [:r :x [1 2]]], :process 3}`
//! becomes an [`Op`] with `f = "txn"` and value `[["append",k,2],["r",k,[1,2]]]`
//! (rw-register: `[:w k v]` / `[:r k v]`). Two syntaxes: EDN ([`jepsen_edn`]) and the JSON
//! form elle-cli reads ([`jepsen_json`]: `{"type":"ok","f":"txn","value":[["append",1,2]]}`),
//! with [`jepsen_history`] picking by the first character; either layout: one op per line
//! or one vector (array) of ops. `:process`, `:time`, `:index` and `:f` are optional:
//! - ops are re-indexed densely in file order (our `index` is a position); `:time` is kept
//!   when present, else the position is used;
//! - ops without `:process` (or `:process nil`) all belong to one process, the nil process,
//!   as when Jepsen reads them, and pair invocation with completion in file order;
//! - a completion with no pending invocation (histories of completions only, as in many
//!   Elle examples) gets a synthesised invocation, with its reads unknown, at the start of
//!   the history and a fresh process of its own: its realtime and process order are
//!   unknown, so none is assumed (all such transactions are concurrent);
//! - nemesis ops (`:process :nemesis`) are kept apart and never checked as transactions;
//! - a missing `:f` means `:txn`.
//!
//! Keys and values may be integers, keywords, strings, or any other EDN value (`[:anti 3]`):
//! integers are kept as they are; anything else is numbered by its printed form, from
//! `i64::MIN + 1` up, so distinct values stay distinct and writes stay unique per key. An
//! integer in that reserved range (below `i64::MIN + 2^40`) is refused rather than risk a
//! collision. [`Names`] maps the numbers back to the printed forms.

use super::{ElleError, Workload};
use crate::edn::{history_forms, Edn};
use crate::jepsen_op::{nil_process, op_head, OpHead};
use faultline_core::{History, Op, OpType, Process};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The first number given to a non-integer key or value (`i64::MIN` is the register's nil).
pub const INTERNED_BASE: i64 = i64::MIN + 1;
/// Integers below this are refused: the range is reserved for numbered names.
pub const INTERNED_LIMIT: i64 = i64::MIN + (1 << 40);

/// Numbers given to non-integer keys and values, and the printed forms they stand for.
#[derive(Clone, Debug, Default)]
pub struct Names {
    ids: HashMap<String, i64>,
    /// Number to printed EDN form, e.g. `-9223372036854775807 -> ":x"`.
    pub names: BTreeMap<i64, String>,
}

impl Names {
    /// The number for an EDN key or value.
    pub fn id(&mut self, e: &Edn) -> Result<i64, String> {
        match e {
            Edn::Int(i) if *i < INTERNED_LIMIT => Err(format!(
                "integer {i} is in the range reserved for named keys and values"
            )),
            Edn::Int(i) => Ok(*i),
            Edn::Nil => Err("nil is not a key or written value".into()),
            other => {
                let text = other.to_string();
                if let Some(&id) = self.ids.get(&text) {
                    return Ok(id);
                }
                let id = INTERNED_BASE + self.ids.len() as i64;
                if id >= INTERNED_LIMIT {
                    return Err("too many distinct named keys and values".into());
                }
                self.ids.insert(text.clone(), id);
                self.names.insert(id, text);
                Ok(id)
            }
        }
    }

    /// The printed form of a number: the name it stands for, or the integer itself.
    pub fn show(&self, id: i64) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// `text` with every number that stands for a name replaced by that name (`key
    /// -9223372036854775807` becomes `key :x`); other numbers are left as they are.
    pub fn rename_in(&self, text: &str) -> String {
        if self.names.is_empty() {
            return text.to_string();
        }
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            let starts = bytes[i] == b'-'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
            if !starts {
                let c = text[i..].chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8().max(1);
                continue;
            }
            let end = i
                + 1
                + bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            match text[i..end]
                .parse::<i64>()
                .ok()
                .and_then(|n| self.names.get(&n))
            {
                Some(name) => out.push_str(name),
                None => out.push_str(&text[i..end]),
            }
            i = end;
        }
        out
    }

    /// A check result as a person reads it: named keys and values shown by name in its
    /// summary and details (strings, object keys, and numbers that stand for a name).
    pub fn rename_result(&self, r: &mut faultline_core::CheckResult) {
        if self.names.is_empty() {
            return;
        }
        r.summary = self.rename_in(&r.summary);
        self.rename_value(&mut r.details);
    }

    fn rename_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.rename_in(s),
            Value::Number(n) => {
                if let Some(name) = n.as_i64().and_then(|i| self.names.get(&i)) {
                    *v = Value::String(name.clone());
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.rename_value(x)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    self.rename_value(&mut x);
                    m.insert(self.rename_in(&k), x);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
}

/// Reads a Jepsen EDN history of `workload` into our history convention.
pub fn jepsen_edn(text: &str, workload: Workload) -> Result<History, ElleError> {
    Ok(jepsen_edn_named(text, workload)?.0)
}

/// [`jepsen_edn`], also returning the names of non-integer keys and values.
pub fn jepsen_edn_named(text: &str, workload: Workload) -> Result<(History, Names), ElleError> {
    let forms = history_forms(text).map_err(|e| ElleError::Import {
        line: e.line,
        message: e.message,
    })?;
    from_forms(&forms, workload)
}

/// Reads the JSON form of a Jepsen history (elle-cli's input): a JSON array of op objects,
/// or one object per line, with string names (`"type": "ok"`, `["append", "x", 1]`).
pub fn jepsen_json(text: &str, workload: Workload) -> Result<History, ElleError> {
    Ok(jepsen_json_named(text, workload)?.0)
}

/// [`jepsen_json`], also returning the names of non-integer keys and values.
pub fn jepsen_json_named(text: &str, workload: Workload) -> Result<(History, Names), ElleError> {
    from_forms(&json_forms(text)?, workload)
}

/// EDN or JSON, by the first op's first key: `{"` (or `[{"`) is JSON, anything else EDN.
pub fn jepsen_history(text: &str, workload: Workload) -> Result<History, ElleError> {
    Ok(jepsen_history_named(text, workload)?.0)
}

/// [`jepsen_history`], also returning the names of non-integer keys and values.
pub fn jepsen_history_named(text: &str, workload: Workload) -> Result<(History, Names), ElleError> {
    if looks_like_json(text) {
        jepsen_json_named(text, workload)
    } else {
        jepsen_edn_named(text, workload)
    }
}

/// Whether a history text is JSON rather than EDN.
pub fn looks_like_json(text: &str) -> bool {
    let t = text.trim_start().trim_start_matches('[').trim_start();
    t.starts_with('{') && t[1..].trim_start().starts_with('"')
}

/// The op objects of a JSON history as EDN maps (keyword keys), with their lines.
pub fn json_forms(text: &str) -> Result<Vec<(usize, Edn)>, ElleError> {
    let err = |line: usize, e: serde_json::Error| ElleError::Import {
        line,
        message: format!("invalid JSON: {e}"),
    };
    if text.trim_start().starts_with('[') {
        let v: Value = serde_json::from_str(text).map_err(|e| err(e.line(), e))?;
        let ops = v.as_array().map(Vec::as_slice).unwrap_or_default();
        return Ok(ops.iter().map(|o| (1, json_to_edn(o))).collect());
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| err(i + 1, e))?;
        out.push((i + 1, json_to_edn(&v)));
    }
    Ok(out)
}

/// JSON as EDN: object keys become keywords, strings stay strings.
pub fn json_to_edn(v: &Value) -> Edn {
    match v {
        Value::Null => Edn::Nil,
        Value::Bool(b) => Edn::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(Edn::Int)
            .unwrap_or_else(|| Edn::Float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Edn::Str(s.clone()),
        Value::Array(xs) => Edn::Vector(xs.iter().map(json_to_edn).collect()),
        Value::Object(m) => Edn::Map(
            m.iter()
                .map(|(k, v)| (Edn::Keyword(k.clone()), json_to_edn(v)))
                .collect(),
        ),
    }
}

fn from_forms(forms: &[(usize, Edn)], workload: Workload) -> Result<(History, Names), ElleError> {
    let nil = nil_process(forms);
    let nil_process = Process::Client(nil);
    let mut fresh = nil.wrapping_add(1);
    let mut names = Names::default();
    let mut pending: HashSet<Process> = HashSet::new();
    let mut ops: Vec<Op> = Vec::with_capacity(forms.len());
    let mut synthesised: Vec<Op> = Vec::new();
    for (line, form) in forms {
        let err = |message: String| ElleError::Import {
            line: *line,
            message,
        };
        let OpHead { kind, process, f } = op_head(form, nil_process).map_err(err)?;
        let f = f.unwrap_or("txn").to_string();
        let value = match form.get("value") {
            Some(v) if f == "txn" && !process.is_nemesis() => {
                txn_value(v, workload, &mut names).map_err(err)?
            }
            Some(v) => to_json(v),
            None => Value::Null,
        };
        let time = form
            .get("time")
            .and_then(Edn::as_int)
            .map(|t| t.max(0) as u64);
        let error = form.get("error").map(|e| e.to_string());
        let mut process = process;
        if !process.is_nemesis() {
            if kind == OpType::Invoke {
                pending.insert(process);
            } else if !pending.remove(&process) {
                process = Process::Client(fresh);
                fresh += 1;
                let inv = forget_reads(&value);
                push(
                    &mut synthesised,
                    Some(0),
                    process,
                    OpType::Invoke,
                    &f,
                    inv,
                    None,
                );
            }
        }
        push(&mut ops, time, process, kind, &f, value, error);
    }
    synthesised.extend(ops);
    for (i, op) in synthesised.iter_mut().enumerate() {
        op.index = i as u64;
    }
    Ok((History::new(synthesised), names))
}

fn push(
    ops: &mut Vec<Op>,
    time: Option<u64>,
    process: Process,
    kind: OpType,
    f: &str,
    value: Value,
    error: Option<String>,
) {
    let index = ops.len() as u64;
    ops.push(Op {
        index,
        time: time.unwrap_or(index),
        process,
        kind,
        f: f.to_string(),
        value,
        node: None,
        error,
    });
}

/// The invocation's view of a transaction: reads not yet known.
fn forget_reads(v: &Value) -> Value {
    match v.as_array() {
        Some(mops) => Value::Array(
            mops.iter()
                .map(|m| match m.as_array() {
                    Some(a) if a.len() == 3 && a[0] == "r" => {
                        Value::Array(vec![a[0].clone(), a[1].clone(), Value::Null])
                    }
                    _ => m.clone(),
                })
                .collect(),
        ),
        None => v.clone(),
    }
}

/// `[[:append 1 2] [:r 1 [1 2]]]` to `[["append",1,2],["r",1,[1,2]]]`; a read may omit its
/// value (`[:r :x]`, as in invocations).
fn txn_value(v: &Edn, workload: Workload, names: &mut Names) -> Result<Value, String> {
    let Some(mops) = v.as_seq() else {
        return if v.is_nil() {
            Ok(Value::Null)
        } else {
            Err(format!(
                "a txn :value must be a vector of micro-ops, found {v}"
            ))
        };
    };
    let mut out = Vec::with_capacity(mops.len());
    for m in mops {
        let parts = m
            .as_seq()
            .filter(|p| p.len() == 3 || (p.len() == 2 && p[0].as_name() == Some("r")))
            .ok_or_else(|| format!("a micro-op must be [f k v], found {m}"))?;
        let f = parts[0].as_name().ok_or_else(|| {
            format!(
                "micro-op function must be :append, :r or :w, found {}",
                parts[0]
            )
        })?;
        let key = names
            .id(&parts[1])
            .map_err(|e| format!("bad key in {m}: {e}"))?;
        let nil = Edn::Nil;
        let arg = parts.get(2).unwrap_or(&nil);
        let mut id = |e: &Edn| names.id(e).map_err(|e| format!("bad value in {m}: {e}"));
        let value = match (f, workload, arg) {
            ("append", _, v) => Value::from(id(v)?),
            ("w", _, v) => Value::from(id(v)?),
            ("r", _, Edn::Nil) => Value::Null,
            ("r", Workload::Append, v) => {
                let xs = v.as_seq().ok_or_else(|| {
                    format!("a list-append read must be a vector or nil, found {v}")
                })?;
                Value::from(xs.iter().map(&mut id).collect::<Result<Vec<i64>, _>>()?)
            }
            ("r", Workload::RwRegister, v) => Value::from(id(v)?),
            _ => return Err(format!("unknown micro-op function :{f} in {m}")),
        };
        out.push(Value::Array(vec![Value::from(f), Value::from(key), value]));
    }
    Ok(Value::Array(out))
}

/// Any EDN value as JSON (nemesis and other non-txn values).
pub fn to_json(v: &Edn) -> Value {
    match v {
        Edn::Nil => Value::Null,
        Edn::Bool(b) => Value::from(*b),
        Edn::Int(i) => Value::from(*i),
        Edn::Float(x) => Value::from(*x),
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => Value::from(s.as_str()),
        Edn::Vector(xs) | Edn::List(xs) | Edn::Set(xs) => {
            Value::Array(xs.iter().map(to_json).collect())
        }
        Edn::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_name()
                            .map(String::from)
                            .unwrap_or_else(|| k.to_string()),
                        to_json(v),
                    )
                })
                .collect(),
        ),
    }
}
