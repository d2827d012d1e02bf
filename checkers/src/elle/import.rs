//! Import of Jepsen EDN histories (list-append and rw-register) into our history convention.
//!
//! Each op map `{:type :ok, :f :txn, :value [[:append 1 2] [:r 1 [1 2]]], :process 3}`
//! becomes an [`Op`] with `f = "txn"` and value `[["append",1,2],["r",1,[1,2]]]`
//! (rw-register: `[:w k v]` / `[:r k v]`). Either layout of the file works (one op per line,
//! or one vector of ops). `:process`, `:time` and `:index` are optional:
//! - ops are re-indexed densely in file order (our `index` is a position); `:time` is kept
//!   when present, else the position is used;
//! - a completion with no pending invocation (histories of completions only, as in many
//!   Elle examples) gets a synthesised invocation, with its reads unknown, at the start of
//!   the history and a fresh process of its own: its realtime and process order are
//!   unknown, so none is assumed (all such transactions are concurrent);
//! - an invocation without `:process` cannot be paired and is an error.
//!
//! Keys and values must be integers (an error with the line otherwise).

use super::{ElleError, Workload};
use crate::edn::{history_forms, Edn};
use faultline_core::{History, Op, OpType, Process};
use serde_json::Value;
use std::collections::HashSet;

/// Reads a Jepsen EDN history of `workload` into our history convention.
pub fn jepsen_edn(text: &str, workload: Workload) -> Result<History, ElleError> {
    let forms = history_forms(text).map_err(|e| ElleError::Import {
        line: e.line,
        message: e.message,
    })?;
    let max_process = forms
        .iter()
        .filter_map(|(_, f)| f.get("process").and_then(Edn::as_int))
        .max()
        .unwrap_or(-1);
    let mut fresh = (max_process + 1) as u64;
    let mut pending: HashSet<Process> = HashSet::new();
    let mut ops: Vec<Op> = Vec::with_capacity(forms.len());
    let mut synthesised: Vec<Op> = Vec::new();
    for (line, form) in &forms {
        let err = |message: String| ElleError::Import {
            line: *line,
            message,
        };
        if !matches!(form, Edn::Map(_)) {
            return Err(err(format!("expected an op map, found {form}")));
        }
        let kind = match form.get("type").and_then(Edn::as_name) {
            Some("invoke") => OpType::Invoke,
            Some("ok") => OpType::Ok,
            Some("fail") => OpType::Fail,
            Some("info") => OpType::Info,
            other => {
                return Err(err(format!(
                    "op :type must be :invoke, :ok, :fail or :info, found {other:?}"
                )))
            }
        };
        let process = match form.get("process") {
            Some(Edn::Int(p)) if *p >= 0 => Process::Client(*p as u64),
            Some(p) if p.as_name() == Some("nemesis") => Process::Nemesis,
            None if kind != OpType::Invoke => Process::Client(u64::MAX),
            None => {
                return Err(err(
                    "an invocation without :process cannot be paired with its completion".into(),
                ))
            }
            Some(p) => {
                return Err(err(format!(
                    ":process must be a non-negative integer or :nemesis, found {p}"
                )))
            }
        };
        let f = form
            .get("f")
            .and_then(Edn::as_name)
            .unwrap_or("txn")
            .to_string();
        let value = match form.get("value") {
            Some(v) if f == "txn" && !process.is_nemesis() => {
                txn_value(v, workload).map_err(err)?
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
    Ok(History::new(synthesised))
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

/// `[[:append 1 2] [:r 1 [1 2]]]` to `[["append",1,2],["r",1,[1,2]]]`.
fn txn_value(v: &Edn, workload: Workload) -> Result<Value, String> {
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
            .filter(|p| p.len() == 3)
            .ok_or_else(|| format!("a micro-op must be [f k v], found {m}"))?;
        let f = parts[0].as_name().ok_or_else(|| {
            format!(
                "micro-op function must be :append, :r or :w, found {}",
                parts[0]
            )
        })?;
        let key = parts[1]
            .as_int()
            .ok_or_else(|| format!("keys must be integers, found {} in {m}", parts[1]))?;
        let int = |e: &Edn| {
            e.as_int()
                .ok_or_else(|| format!("values must be integers, found {e} in {m}"))
        };
        let value = match (f, workload, &parts[2]) {
            ("append", _, v) => Value::from(int(v)?),
            ("w", _, v) => Value::from(int(v)?),
            ("r", _, Edn::Nil) => Value::Null,
            ("r", Workload::Append, v) => {
                let xs = v.as_seq().ok_or_else(|| {
                    format!("a list-append read must be a vector or nil, found {v}")
                })?;
                Value::from(xs.iter().map(int).collect::<Result<Vec<i64>, _>>()?)
            }
            ("r", Workload::RwRegister, v) => Value::from(int(v)?),
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
