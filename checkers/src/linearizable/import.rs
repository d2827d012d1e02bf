//! Imports of histories users already have, as faultline [`History`] values.
//!
//! - [`porcupine_etcd`]: Porcupine's Jepsen etcd logs (`test_data/jepsen/etcd_*.log`), one
//!   op per line: `INFO  jepsen.util - <process> <:invoke|:ok|:fail|:info> <:read|:write|:cas>
//!   <value>` (tabs or spaces). Check with the cas-register model. Porcupine's semantics are
//!   kept: a `:fail` cas is a compare seen to fail, imported as an `ok` cas with
//!   `"swapped": false`; an `:info` op (value `:timed-out`) may have happened, and its
//!   completion carries the invoke's value with the `:timed-out` in `error`. Other log lines
//!   (without `jepsen.util -`) are skipped. Values are bare, as in Jepsen's EDN (`3`,
//!   `[1 4]`, `null`), except that compare-failed completion: `{"value": v, "swapped":
//!   false}`.
//! - [`porcupine_kv`]: Porcupine's kv histories (`test_data/kv/*.txt`), EDN maps with
//!   `:process`, `:type`, `:f` (`:get`/`:put`/`:append`), `:key` and `:value`. Check with
//!   the kv model.
//! - [`jepsen_edn_register`]: Jepsen/Knossos register and cas-register histories in EDN
//!   (`{:process 4, :type :invoke, :f :write, :value 2}`; `;` comments, commas as
//!   whitespace; one op per line or one vector of ops). `:fail` means did not happen
//!   (Knossos); an optional `:key` selects an independent register.
//!
//! Ops get dense indices in file order and `time` = their index (the files have no clock).
//! Every error names the line it was found on.

use crate::edn::{history_forms, Edn};
use faultline_core::{History, Op, OpType, Process};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// An import that failed, with the line of the problem.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
}

const NO_PATH: &str = "<input>";

fn line_err(line: usize, message: impl Into<String>) -> ImportError {
    ImportError::Line {
        path: NO_PATH.to_string(),
        line,
        message: message.into(),
    }
}

fn from_file(
    path: &Path,
    parse: fn(&str) -> Result<History, ImportError>,
) -> Result<History, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text).map_err(|e| match e {
        ImportError::Line { line, message, .. } => ImportError::Line {
            path: path.display().to_string(),
            line,
            message,
        },
        other => other,
    })
}

/// Reads a Porcupine/Jepsen etcd log file.
pub fn porcupine_etcd(path: &Path) -> Result<History, ImportError> {
    from_file(path, porcupine_etcd_str)
}

/// Reads a Porcupine kv history file.
pub fn porcupine_kv(path: &Path) -> Result<History, ImportError> {
    from_file(path, porcupine_kv_str)
}

/// Reads a Jepsen/Knossos EDN register or cas-register history file.
pub fn jepsen_edn_register(path: &Path) -> Result<History, ImportError> {
    from_file(path, jepsen_edn_register_str)
}

fn kind_of(s: &str) -> Option<OpType> {
    match s.trim_start_matches(':') {
        "invoke" => Some(OpType::Invoke),
        "ok" => Some(OpType::Ok),
        "fail" => Some(OpType::Fail),
        "info" => Some(OpType::Info),
        _ => None,
    }
}

/// A value of an etcd log line: `nil`, an integer, `[a b]`, or a keyword/word.
fn etcd_value(s: &str) -> Value {
    let s = s.trim();
    if s == "nil" {
        return Value::Null;
    }
    if let Ok(n) = s.parse::<i64>() {
        return json!(n);
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Value::Array(
            inner
                .split([' ', ',', '\t'])
                .filter(|t| !t.is_empty())
                .map(etcd_value)
                .collect(),
        );
    }
    Value::String(s.trim_start_matches(':').to_string())
}

fn op(
    index: usize,
    process: Process,
    kind: OpType,
    f: &str,
    value: Value,
    error: Option<String>,
) -> Op {
    Op {
        index: index as u64,
        time: index as u64,
        process,
        kind,
        f: f.to_string(),
        value,
        node: None,
        error,
    }
}

/// Parses a Porcupine/Jepsen etcd log from text.
pub fn porcupine_etcd_str(text: &str) -> Result<History, ImportError> {
    let mut ops: Vec<Op> = Vec::new();
    let mut first_other: Option<usize> = None;
    let mut open: std::collections::HashMap<Process, Value> = Default::default();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let Some(at) = line.find("jepsen.util -") else {
            if !line.trim().is_empty() {
                first_other.get_or_insert(line_no);
            }
            continue;
        };
        let rest = &line[at + "jepsen.util -".len()..];
        let mut it = rest.split_whitespace();
        let (Some(p), Some(t), Some(f)) = (it.next(), it.next(), it.next()) else {
            return Err(line_err(
                line_no,
                "expected `<process> <type> <f> <value>` after `jepsen.util -`",
            ));
        };
        let value_text = it.collect::<Vec<_>>().join(" ");
        let process = match p.trim_start_matches(':') {
            "nemesis" => Process::Nemesis,
            p => Process::Client(p.parse().map_err(|_| {
                line_err(
                    line_no,
                    format!("bad process {p:?} (an integer or :nemesis)"),
                )
            })?),
        };
        let mut kind = kind_of(t).ok_or_else(|| line_err(line_no, format!("bad op type {t:?}")))?;
        let f = f.trim_start_matches(':');
        let v = etcd_value(&value_text);
        let mut error = None;
        let value = match kind {
            OpType::Invoke => {
                open.insert(process, v.clone());
                v
            }
            OpType::Fail if f == "cas" => {
                kind = OpType::Ok; // Porcupine: the compare was evaluated and failed
                open.remove(&process);
                json!({ "value": v, "swapped": false })
            }
            OpType::Info | OpType::Fail => {
                let invoked = open.remove(&process).unwrap_or(Value::Null);
                if let Value::String(s) = &v {
                    error = Some(s.clone());
                }
                invoked
            }
            OpType::Ok => {
                open.remove(&process);
                v
            }
        };
        ops.push(op(ops.len(), process, kind, f, value, error));
    }
    if let (true, Some(line)) = (ops.is_empty(), first_other) {
        return Err(line_err(line, "not a Jepsen op log line (expected `INFO  jepsen.util - <process> <type> <f> <value>`)"));
    }
    Ok(History::new(ops))
}

/// EDN to JSON: keywords and symbols become strings, sets and lists arrays.
pub(crate) fn edn_to_json(e: &Edn) -> Value {
    match e {
        Edn::Nil => Value::Null,
        Edn::Bool(b) => Value::Bool(*b),
        Edn::Int(i) => json!(i),
        Edn::Float(x) => json!(x),
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => Value::String(s.clone()),
        Edn::Vector(v) | Edn::List(v) | Edn::Set(v) => {
            Value::Array(v.iter().map(edn_to_json).collect())
        }
        Edn::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let k = k
                    .as_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| k.to_string());
                out.insert(k, edn_to_json(v));
            }
            Value::Object(out)
        }
    }
}

/// The process for ops without `:process` (or with `:process nil`): one nil process, as
/// Jepsen reads them, numbered after the highest process in the history.
fn nil_process(forms: &[(usize, Edn)]) -> Process {
    let max = forms
        .iter()
        .filter_map(|(_, f)| f.get("process").and_then(Edn::as_int))
        .max()
        .unwrap_or(-1)
        .max(-1);
    Process::Client((max as u64).wrapping_add(1))
}

/// The common fields of a Jepsen op map: process, type and f.
fn edn_head(
    form: &Edn,
    line: usize,
    nil: Process,
) -> Result<(Process, OpType, String), ImportError> {
    if !matches!(form, Edn::Map(_)) {
        return Err(line_err(
            line,
            format!(
                "expected an op map, found {}",
                super::counterexample::truncate(&form.to_string(), 60)
            ),
        ));
    }
    let process = match form.get("process") {
        Some(Edn::Int(p)) if *p >= 0 => Process::Client(*p as u64),
        Some(p) if p.as_name() == Some("nemesis") => Process::Nemesis,
        None | Some(Edn::Nil) => nil,
        Some(p) => {
            return Err(line_err(
                line,
                format!("bad :process {p} (a non-negative integer, nil or :nemesis)"),
            ))
        }
    };
    let kind = match form.get("type") {
        Some(t) => t.as_name().and_then(kind_of).ok_or_else(|| {
            line_err(
                line,
                format!("bad :type {t} (:invoke, :ok, :fail or :info)"),
            )
        })?,
        None => return Err(line_err(line, "op map without :type")),
    };
    let f = match form.get("f") {
        Some(f) => f
            .as_name()
            .map(str::to_string)
            .unwrap_or_else(|| f.to_string()),
        None => return Err(line_err(line, "op map without :f")),
    };
    Ok((process, kind, f))
}

fn edn_str(text: &str) -> Result<Vec<(usize, Edn)>, ImportError> {
    history_forms(text).map_err(|e| line_err(e.line, e.message))
}

/// Parses a Porcupine kv history from text.
pub fn porcupine_kv_str(text: &str) -> Result<History, ImportError> {
    let mut ops = Vec::new();
    let forms = edn_str(text)?;
    let nil = nil_process(&forms);
    for (line, form) in forms {
        let (process, kind, f) = edn_head(&form, line, nil)?;
        let key = form
            .get("key")
            .ok_or_else(|| line_err(line, "kv op without :key"))?;
        let value = form.get("value").map(edn_to_json).unwrap_or(Value::Null);
        let v = json!({ "key": edn_to_json(key), "value": value });
        ops.push(op(ops.len(), process, kind, &f, v, None));
    }
    Ok(History::new(ops))
}

/// Parses a Jepsen/Knossos EDN register history from text.
pub fn jepsen_edn_register_str(text: &str) -> Result<History, ImportError> {
    let mut ops: Vec<Op> = Vec::new();
    let forms = edn_str(text)?;
    let nil = nil_process(&forms);
    for (line, form) in forms {
        let (process, kind, f) = edn_head(&form, line, nil)?;
        let value = form.get("value").map(edn_to_json).unwrap_or(Value::Null);
        let v = match form.get("key") {
            Some(k) => json!({ "key": edn_to_json(k), "value": value }),
            None => json!({ "value": value }),
        };
        let index = ops.len();
        let mut o = op(index, process, kind, &f, v, None);
        if let Some(t) = form.get("time").and_then(Edn::as_int) {
            o.time = t.max(0) as u64;
        }
        if let Some(e) = form.get("error") {
            o.error = Some(
                e.as_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string()),
            );
        }
        ops.push(o);
    }
    Ok(History::new(ops))
}
