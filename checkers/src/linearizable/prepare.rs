//! From a [`History`] to the per-key operation lists the search runs on.
//!
//! Each client invoke is paired with its completion ([`History::pairs`]): `ok` gives the
//! op's return position; `fail` drops the op (it did not happen); `info` or no completion at
//! all gives a return at +infinity (it may take effect any time after its call, or never).
//! Reads and gets without an `ok` result constrain nothing and are dropped. Positions in the
//! history (its op order) are the time line: a call at position `i` precedes everything
//! after `i`. Ops are grouped by their `"key"` (P-compositionality: a history is
//! linearizable iff each key's sub-history is), except for the unpartitioned kv model.

use super::model::{KvKind, KvModel, KvOp, RegOp, RegisterModel, SeqModel, NIL};
use super::ModelKind;
use faultline_core::{History, OpType};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Return position of an op that never returned.
pub(crate) const INF: u64 = u64::MAX;

/// Why a history cannot be checked against a model (the verdict is then unknown).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrepareError {
    #[error("op {index}: the {model} model has no operation {f:?} (it knows {known})")]
    UnsupportedOp {
        index: u64,
        f: String,
        model: ModelKind,
        known: &'static str,
    },
    #[error("op {index}: {message}")]
    Malformed { index: u64, message: String },
}

/// One op of one key, ready for the search.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PreparedOp<O> {
    pub op: O,
    /// History position of the invoke.
    pub call: u64,
    /// History position of the ok completion, or [`INF`].
    pub ret: u64,
    /// Positions in `history.ops` of the invoke and the completion (if any).
    pub invoke: usize,
    pub complete: Option<usize>,
}

/// One independent sub-problem: a key, its model and its ops in call order.
pub(crate) struct Part<M: SeqModel> {
    pub key: String,
    pub model: M,
    pub ops: Vec<PreparedOp<M::Op>>,
}

pub(crate) enum Prepared {
    Register(Vec<Part<RegisterModel>>),
    Kv(Vec<Part<KvModel>>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum F {
    Read,
    Write,
    Cas,
    Get,
    Put,
    Append,
}

struct RawOp {
    f: F,
    arg: Value,
    result: Value,
    swapped: Option<bool>,
    call: u64,
    ret: u64,
    invoke: usize,
    complete: Option<usize>,
}

/// `(key, inner value)` of an op value: `{"key": k, "value": v}`, `{"value": v}` or a bare `v`.
pub(crate) fn split_value(v: &Value) -> (Option<&Value>, &Value) {
    match v {
        Value::Object(m) if m.contains_key("key") || m.contains_key("value") => {
            (m.get("key"), m.get("value").unwrap_or(&Value::Null))
        }
        other => (None, other),
    }
}

/// A key rendered as text: strings as they are, anything else as JSON; no key is "".
pub(crate) fn key_name(k: Option<&Value>) -> String {
    match k {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn parse_f(model: ModelKind, f: &str, index: u64) -> Result<F, PrepareError> {
    let f_ = match (model, f) {
        (ModelKind::Register | ModelKind::CasRegister, "read") => F::Read,
        (ModelKind::Register | ModelKind::CasRegister, "write") => F::Write,
        (ModelKind::CasRegister, "cas") => F::Cas,
        (ModelKind::Kv | ModelKind::KvUnpartitioned, "get") => F::Get,
        (ModelKind::Kv | ModelKind::KvUnpartitioned, "put") => F::Put,
        (ModelKind::Kv | ModelKind::KvUnpartitioned, "append") => F::Append,
        _ => {
            return Err(PrepareError::UnsupportedOp {
                index,
                f: f.to_string(),
                model,
                known: match model {
                    ModelKind::Register => "read, write",
                    ModelKind::CasRegister => "read, write, cas",
                    _ => "get, put, append",
                },
            })
        }
    };
    Ok(f_)
}

/// Splits `history` into per-key parts for `model`.
pub(crate) fn prepare(
    history: &History,
    model: ModelKind,
    initial: Option<&Value>,
) -> Result<Prepared, PrepareError> {
    let pairs = history.pairs();
    let mut by_key: BTreeMap<String, Vec<RawOp>> = BTreeMap::new();
    for (i, inv) in history.ops.iter().enumerate() {
        if !inv.is_client() || inv.kind != OpType::Invoke {
            continue;
        }
        let f = parse_f(model, &inv.f, inv.index)?;
        let done = pairs[i].map(|j| (j, &history.ops[j]));
        let (ret, complete) = match done {
            Some((_, c)) if c.kind == OpType::Fail => continue,
            Some((j, c)) if c.kind == OpType::Ok => (j as u64, Some(j)),
            Some((j, _)) => (INF, Some(j)),
            None => (INF, None),
        };
        let (key, arg) = split_value(&inv.value);
        let (ckey, result, swapped) = match done {
            Some((_, c)) => {
                let (k, r) = split_value(&c.value);
                (
                    k,
                    r.clone(),
                    c.value.get("swapped").and_then(Value::as_bool),
                )
            }
            None => (None, Value::Null, None),
        };
        if matches!(f, F::Read | F::Get) && ret == INF {
            continue; // a read without a result constrains nothing
        }
        let key = key_name(key.or(ckey));
        let arg = if arg.is_null() && f != F::Read && f != F::Get {
            result.clone() // some clients only fill the value in on completion
        } else {
            arg.clone()
        };
        by_key.entry(key).or_default().push(RawOp {
            f,
            arg,
            result,
            swapped,
            call: i as u64,
            ret,
            invoke: i,
            complete,
        });
    }
    match model {
        ModelKind::Register | ModelKind::CasRegister => {
            let mut parts = Vec::with_capacity(by_key.len());
            for (key, raws) in by_key {
                parts.push(register_part(key, raws, history, initial)?);
            }
            Ok(Prepared::Register(parts))
        }
        ModelKind::Kv => Ok(Prepared::Kv(
            by_key
                .into_iter()
                .map(|(key, raws)| kv_part(key.clone(), vec![(key, raws)], initial))
                .collect(),
        )),
        ModelKind::KvUnpartitioned => {
            let mut raws: Vec<(String, Vec<RawOp>)> = by_key.into_iter().collect();
            if raws.is_empty() {
                return Ok(Prepared::Kv(Vec::new()));
            }
            let part = kv_part("(all keys)".to_string(), std::mem::take(&mut raws), initial);
            Ok(Prepared::Kv(vec![part]))
        }
    }
}

fn register_part(
    key: String,
    raws: Vec<RawOp>,
    history: &History,
    initial: Option<&Value>,
) -> Result<Part<RegisterModel>, PrepareError> {
    let mut ids: HashMap<String, u64> = HashMap::new();
    let mut names = vec!["nil".to_string()];
    let mut intern = |v: &Value| -> u64 {
        if v.is_null() {
            return NIL;
        }
        let s = v.to_string();
        if let Some(&id) = ids.get(&s) {
            return id;
        }
        let id = names.len() as u64;
        names.push(s.clone());
        ids.insert(s, id);
        id
    };
    let init = initial.map(&mut intern).unwrap_or(NIL);
    let mut ops = Vec::with_capacity(raws.len());
    for r in raws {
        let op = match r.f {
            F::Read => RegOp::Read(intern(&r.result)),
            F::Write => RegOp::Write(intern(&r.arg)),
            _ => {
                let Some([old, new]) = r
                    .arg
                    .as_array()
                    .and_then(|a| <&[Value; 2]>::try_from(a.as_slice()).ok())
                else {
                    return Err(PrepareError::Malformed {
                        index: history.ops[r.invoke].index,
                        message: format!("a cas value must be [old, new], not {}", r.arg),
                    });
                };
                let (old, new) = (intern(old), intern(new));
                match (r.ret == INF, r.swapped) {
                    (true, _) => RegOp::CasMaybe { old, new },
                    (false, Some(false)) => RegOp::CasFailed { old },
                    (false, _) => RegOp::Cas { old, new },
                }
            }
        };
        ops.push(PreparedOp {
            op,
            call: r.call,
            ret: r.ret,
            invoke: r.invoke,
            complete: r.complete,
        });
    }
    Ok(Part {
        key,
        model: RegisterModel { init, names },
        ops,
    })
}

fn kv_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn kv_part(
    name: String,
    keys: Vec<(String, Vec<RawOp>)>,
    initial: Option<&Value>,
) -> Part<KvModel> {
    let init = initial.map(kv_text).unwrap_or_default();
    let mut model = KvModel::new(keys.iter().map(|(k, _)| k.clone()).collect(), &init);
    let mut ops = Vec::new();
    for (ki, (_, raws)) in keys.into_iter().enumerate() {
        for r in raws {
            let (kind, arg) = match r.f {
                F::Get => (KvKind::Get, model.intern_str(&kv_text(&r.result))),
                F::Put => (KvKind::Put, model.intern_str(&kv_text(&r.arg))),
                _ => (KvKind::Append, model.intern_str(&kv_text(&r.arg))),
            };
            ops.push(PreparedOp {
                op: KvOp {
                    kind,
                    key: ki as u32,
                    arg,
                    memo: 0,
                },
                call: r.call,
                ret: r.ret,
                invoke: r.invoke,
                complete: r.complete,
            });
        }
    }
    ops.sort_by_key(|o| o.call);
    for (i, o) in ops.iter_mut().enumerate() {
        o.op.memo = i as u32;
    }
    Part {
        key: name,
        model,
        ops,
    }
}
