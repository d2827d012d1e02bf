//! From a [`History`] to the per-key operation lists the search runs on.
//!
//! Each client invoke is paired with its completion ([`History::pairs`]): `ok` gives the
//! op's return position; `fail` drops the op (it did not happen); `info` or no completion at
//! all gives a return at +infinity (it may take effect any time after its call, or never).
//! Reads and gets without an `ok` result constrain nothing and are dropped. Positions in the
//! history (its op order) are the time line: a call at position `i` precedes everything
//! after `i`. Ops are grouped by their `"key"` (P-compositionality: a history is
//! linearizable iff each key's sub-history is), except for the unpartitioned kv model. A kv
//! part's model and ops are built only when its search starts ([`PartSource`]).

use super::kv::{KvKind, KvModel, KvOp};
use super::model::FxMap;
use super::model::{same_bytes, RegOp, RegValue, RegisterModel, SeqModel, NIL};
use super::ModelKind;
use faultline_core::{History, OpType, Process};
use serde_json::Value;
use std::borrow::Cow;

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

pub(crate) enum Prepared<'h, 'i> {
    Register(Vec<Part<RegisterModel>>),
    Kv(Vec<KvPart<'h, 'i>>),
}

/// A part as the driver receives it: its op count and key are known, its model and ops are
/// built when its search starts (a check that stops at the first key found not
/// linearizable never builds the others).
pub(crate) trait PartSource: Send {
    type Model: SeqModel;
    fn ops(&self) -> usize;
    fn key(&self) -> &str;
    fn build(self) -> Part<Self::Model>;
    /// [`PartSource::build`], with room for `ops` ops in all: this part's and those of the
    /// parts that will be [rebuilt](PartSource::rebuild) from it.
    fn build_with_room(self, _ops: usize) -> Part<Self::Model>
    where
        Self: Sized,
    {
        self.build()
    }
    /// [`PartSource::build`], reusing what the part checked before on this thread left
    /// (its model's tables, its op buffer) where the model allows it.
    fn rebuild(self, _previous: Part<Self::Model>) -> Part<Self::Model>
    where
        Self: Sized,
    {
        self.build()
    }
}

impl<M: SeqModel + Send> PartSource for Part<M> {
    type Model = M;
    fn ops(&self) -> usize {
        self.ops.len()
    }
    fn key(&self) -> &str {
        &self.key
    }
    fn build(self) -> Part<M> {
        self
    }
}

/// The raw ops of a kv part (one key, or all keys for the unpartitioned model).
pub(crate) struct KvPart<'h, 'i> {
    name: String,
    keys: Vec<(String, Vec<RawOp<'h>>)>,
    initial: Option<&'i Value>,
}

impl<'h> PartSource for KvPart<'h, '_> {
    type Model = KvModel<'h>;
    fn ops(&self) -> usize {
        self.keys.iter().map(|(_, raws)| raws.len()).sum()
    }
    fn key(&self) -> &str {
        &self.name
    }
    fn build(self) -> Part<KvModel<'h>> {
        self.build_with_room(0)
    }
    fn build_with_room(self, ops: usize) -> Part<KvModel<'h>> {
        let n = self.ops().max(ops);
        kv_part(self.name, self.keys, self.initial, n, None)
    }
    /// One key's values are strings and the model's tables (literals, the trie of appends,
    /// what gets read) do not depend on the key: the next key of a partitioned check goes
    /// on in the same model, without a dozen new tables per key.
    fn rebuild(self, previous: Part<KvModel<'h>>) -> Part<KvModel<'h>> {
        let reuse = (self.keys.len() == 1 && previous.model.key_names.len() <= 1)
            .then_some((previous.model, previous.ops));
        let n = self.ops();
        kv_part(self.name, self.keys, self.initial, n, reuse)
    }
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

struct RawOp<'h> {
    /// Index of the op's key in the order keys were first seen.
    key: u32,
    f: F,
    arg: &'h Value,
    result: &'h Value,
    swapped: Option<bool>,
    call: u64,
    ret: u64,
    invoke: usize,
    complete: Option<usize>,
}

/// The parts of an op value `{"key": k, "value": v, "swapped": b}` (each optional), or of
/// a bare `v`.
pub(crate) struct Fields<'v> {
    pub key: Option<&'v Value>,
    /// `v`; the whole value when it is not an object with `"key"` or `"value"`.
    pub value: &'v Value,
    pub swapped: Option<&'v Value>,
}

/// Splits an op value into its [`Fields`], in one pass over the object.
pub(crate) fn fields(v: &Value) -> Fields<'_> {
    let Value::Object(m) = v else {
        return Fields {
            key: None,
            value: v,
            swapped: None,
        };
    };
    let (mut key, mut value, mut swapped) = (None, None, None);
    for (k, x) in m {
        // Fixed-size compares after the length: inlined loads, where a `match` on the
        // strings called memcmp for every field of every op.
        let k = k.as_bytes();
        if <[u8; 3]>::try_from(k).ok() == Some(*b"key") {
            key = Some(x);
        } else if <[u8; 5]>::try_from(k).ok() == Some(*b"value") {
            value = Some(x);
        } else if <[u8; 7]>::try_from(k).ok() == Some(*b"swapped") {
            swapped = Some(x);
        }
    }
    let value = match (key, value) {
        (None, None) => v,
        (_, value) => value.unwrap_or(&Value::Null),
    };
    Fields {
        key,
        value,
        swapped,
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

/// A key without allocation for the common cases.
#[derive(Clone, Eq, Hash)]
enum KeyRef<'h> {
    None,
    Int(i64),
    Str(&'h str),
    Other(String),
}

impl PartialEq for KeyRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (KeyRef::None, KeyRef::None) => true,
            (KeyRef::Int(a), KeyRef::Int(b)) => a == b,
            // Keys are short: compared inline, not by a call to memcmp per op.
            (KeyRef::Str(a), KeyRef::Str(b)) => same_bytes(a.as_bytes(), b.as_bytes()),
            (KeyRef::Other(a), KeyRef::Other(b)) => a == b,
            _ => false,
        }
    }
}

impl KeyRef<'_> {
    fn of(k: Option<&Value>) -> KeyRef<'_> {
        match k {
            None | Some(Value::Null) => KeyRef::None,
            Some(Value::String(s)) => KeyRef::Str(s),
            Some(Value::Number(n)) if n.is_i64() => KeyRef::Int(n.as_i64().unwrap_or(0)),
            Some(other) => KeyRef::Other(other.to_string()),
        }
    }
    fn name(&self) -> String {
        match self {
            KeyRef::None => String::new(),
            KeyRef::Int(i) => i.to_string(),
            KeyRef::Str(s) => s.to_string(),
            KeyRef::Other(s) => s.clone(),
        }
    }
}

/// Splits `history` into per-key parts for `model`.
pub(crate) fn prepare<'h, 'i>(
    history: &'h History,
    model: ModelKind,
    initial: Option<&'i Value>,
) -> Result<Prepared<'h, 'i>, PrepareError> {
    let completion = completions(history);
    let mut key_index: FxMap<KeyRef, usize> = FxMap::default();
    // Ops of one key often come in a row.
    let mut last_key: Option<(KeyRef, usize)> = None;
    // Every op in one vector first (its size is known), then split by key with exact sizes:
    // no vector per key grown by doubling.
    let mut names: Vec<String> = Vec::new();
    let mut raws: Vec<RawOp> = Vec::with_capacity(history.ops.len() / 2 + 1);
    for (i, inv) in history.ops.iter().enumerate() {
        if !inv.is_client() || inv.kind != OpType::Invoke {
            continue;
        }
        let f = parse_f(model, &inv.f, inv.index)?;
        let done =
            (completion[i] != usize::MAX).then(|| (completion[i], &history.ops[completion[i]]));
        let (ret, complete) = match done {
            Some((_, c)) if c.kind == OpType::Fail => continue,
            Some((j, c)) if c.kind == OpType::Ok => (j as u64, Some(j)),
            Some((j, _)) => (INF, Some(j)),
            None => (INF, None),
        };
        if matches!(f, F::Read | F::Get) && ret == INF {
            continue; // a read without a result constrains nothing
        }
        let Fields {
            key, value: arg, ..
        } = fields(&inv.value);
        // The completion's value matters for a result, a cas outcome, or what the invoke
        // left out.
        let needed = matches!(f, F::Read | F::Get | F::Cas) || key.is_none() || arg.is_null();
        let (ckey, result, swapped) = match done {
            Some((_, c)) if needed => {
                let c = fields(&c.value);
                let swapped = match f {
                    F::Cas => c.swapped.and_then(Value::as_bool),
                    _ => None,
                };
                (c.key, c.value, swapped)
            }
            _ => (None, &Value::Null, None),
        };
        // Some clients only fill the argument in on completion.
        let arg = if arg.is_null() { result } else { arg };
        let key = KeyRef::of(key.or(ckey));
        let k = match &last_key {
            Some((last, k)) if *last == key => *k,
            _ => match key_index.get(&key) {
                Some(&k) => k,
                None => {
                    names.push(key.name());
                    key_index.insert(key.clone(), names.len() - 1);
                    names.len() - 1
                }
            },
        };
        last_key = Some((key, k));
        raws.push(RawOp {
            key: k as u32,
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
    let mut by_key = split_by_key(names, raws);
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
                .map(|(key, raws)| KvPart {
                    name: key,
                    // A one-key part's key is its name.
                    keys: vec![(String::new(), raws)],
                    initial,
                })
                .collect(),
        )),
        ModelKind::KvUnpartitioned if by_key.is_empty() => Ok(Prepared::Kv(Vec::new())),
        ModelKind::KvUnpartitioned => {
            by_key.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Prepared::Kv(vec![KvPart {
                name: "(all keys)".to_string(),
                keys: by_key,
                initial,
            }]))
        }
    }
}

/// The ops of each key, in history order, each key's vector sized exactly. One key (the
/// common case) keeps `raws` as it is.
fn split_by_key<'h>(names: Vec<String>, raws: Vec<RawOp<'h>>) -> Vec<(String, Vec<RawOp<'h>>)> {
    if names.len() == 1 {
        let name = names.into_iter().next().unwrap_or_default();
        return vec![(name, raws)];
    }
    let mut counts = vec![0usize; names.len()];
    for r in &raws {
        counts[r.key as usize] += 1;
    }
    let mut by_key: Vec<(String, Vec<RawOp>)> = names
        .into_iter()
        .zip(counts)
        .map(|(n, c)| (n, Vec::with_capacity(c)))
        .collect();
    for r in raws {
        by_key[r.key as usize].1.push(r);
    }
    by_key
}

/// For each invoke, the position of its completion (`usize::MAX`: none), paired per
/// process as [`History::pairs`] does. Client ids are small in practice: they index a table,
/// and only unusually large ones go through a map.
fn completions(history: &History) -> Vec<usize> {
    let n = history.ops.len();
    let mut completion = vec![usize::MAX; n];
    let mut dense: Vec<usize> = Vec::with_capacity(64);
    let mut sparse: FxMap<u64, usize> = FxMap::default();
    let dense_limit = 2 * n as u64 + 64;
    for (i, op) in history.ops.iter().enumerate() {
        let Process::Client(p) = op.process else {
            continue;
        };
        let slot = if p < dense_limit {
            let p = p as usize;
            if p >= dense.len() {
                dense.resize(p + 1, usize::MAX);
            }
            &mut dense[p]
        } else {
            sparse.entry(p).or_insert(usize::MAX)
        };
        if op.kind == OpType::Invoke {
            *slot = i;
        } else if *slot != usize::MAX {
            completion[*slot] = i;
            *slot = usize::MAX;
        }
    }
    completion
}

/// Integers in `0..SMALL_INTS` are interned through an array rather than a map.
const SMALL_INTS: usize = 64;

/// Register values as ids: nil is 0; integers without allocation, anything else by its JSON.
struct Interner {
    /// Id of each small integer, 0 (the id of nil) when it has none yet.
    small: [u64; SMALL_INTS],
    ints: FxMap<i64, u64>,
    others: FxMap<String, u64>,
    names: Vec<RegValue>,
}

impl Interner {
    fn id(&mut self, v: &Value) -> u64 {
        let next = self.names.len() as u64;
        match v {
            Value::Null => NIL,
            Value::Number(n) if n.as_u64().is_some_and(|i| i < SMALL_INTS as u64) => {
                let i = n.as_u64().unwrap_or(0) as usize;
                if self.small[i] == NIL {
                    self.small[i] = next;
                    self.names.push(RegValue::Int(i as i64));
                }
                self.small[i]
            }
            Value::Number(n) if n.is_i64() => {
                let i = n.as_i64().unwrap_or(0);
                *self.ints.entry(i).or_insert_with(|| {
                    self.names.push(RegValue::Int(i));
                    next
                })
            }
            other => {
                let s = other.to_string();
                if let Some(&id) = self.others.get(&s) {
                    return id;
                }
                self.names.push(RegValue::Json(s.clone()));
                self.others.insert(s, next);
                next
            }
        }
    }
}

fn register_part(
    key: String,
    raws: Vec<RawOp>,
    history: &History,
    initial: Option<&Value>,
) -> Result<Part<RegisterModel>, PrepareError> {
    let mut names = Vec::with_capacity(8);
    names.push(RegValue::Nil);
    let mut ids = Interner {
        small: [NIL; SMALL_INTS],
        ints: FxMap::default(),
        others: FxMap::default(),
        names,
    };
    let mut intern = |v: &Value| ids.id(v);
    let init = initial.map(&mut intern).unwrap_or(NIL);
    let mut ops = Vec::with_capacity(raws.len());
    for r in raws {
        let op = match r.f {
            F::Read => RegOp::Read(intern(r.result)),
            F::Write => RegOp::Write(intern(r.arg)),
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
        model: RegisterModel {
            init,
            names: ids.names,
        },
        ops,
    })
}

fn kv_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed(""),
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// The model and ops of a kv part: new ones with room for `room` ops, or (`reuse`) the
/// one-key model and op buffer of the part checked before on this thread (same check, so
/// the same initial value), to go on with.
fn kv_part<'h>(
    name: String,
    keys: Vec<(String, Vec<RawOp<'h>>)>,
    initial: Option<&Value>,
    room: usize,
    reuse: Option<(KvModel<'h>, Vec<PreparedOp<KvOp>>)>,
) -> Part<KvModel<'h>> {
    let n = keys.iter().map(|(_, raws)| raws.len()).sum();
    let (mut model, mut ops) = match reuse {
        Some((mut model, mut ops)) => {
            model.make_room(n);
            ops.clear();
            ops.reserve(n);
            (model, ops)
        }
        None => {
            let init = initial.map(kv_text).unwrap_or_default();
            // Names only show in the states of a multi-key model.
            let names = if keys.len() > 1 {
                keys.iter().map(|(k, _)| k.clone()).collect()
            } else {
                Vec::new()
            };
            (KvModel::new(names, &init, room), Vec::with_capacity(room))
        }
    };
    for (ki, (_, raws)) in keys.into_iter().enumerate() {
        for r in raws {
            let (kind, arg) = match r.f {
                F::Get => (KvKind::Get, model.add_read(kv_text(r.result))),
                F::Put => (KvKind::Put, model.intern_str(kv_text(r.arg))),
                _ => (KvKind::Append, model.intern_str(kv_text(r.arg))),
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
    if !ops.is_sorted_by_key(|o| o.call) {
        ops.sort_by_key(|o| o.call); // several keys (one key's ops come in call order)
    }
    for (i, o) in ops.iter_mut().enumerate() {
        o.op.memo = i as u32;
    }
    Part {
        key: name,
        model,
        ops,
    }
}
