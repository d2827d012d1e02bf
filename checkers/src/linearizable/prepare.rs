//! From a [`History`] to the per-key operation lists the search runs on.
//!
//! Each client invoke is paired with its completion ([`History::pairs`]): `ok` gives the
//! op's return position; `fail` drops the op (it did not happen); `info` or no completion at
//! all gives a return at +infinity (it may take effect any time after its call, or never).
//! Reads and gets without an `ok` result constrain nothing and are dropped. Positions in the
//! history (its op order) are the time line: a call at position `i` precedes everything
//! after `i`. Ops are grouped by their `"key"` (P-compositionality: a history is
//! linearizable iff each key's sub-history is), except for the unpartitioned kv model.
//!
//! The history is read once ([`collect`]): one vector of ops in history order, and their
//! positions grouped by key (a counting sort, no vector per key). The parts borrow it
//! ([`prepare`]). A kv part's model and ops are built only when its search starts
//! ([`PartSource`]), and not at all when it is replayed.

use super::kv::{KvKind, KvModel, KvOp};
use super::model::{same_bytes, RegOp, RegValue, RegisterModel, SeqModel, NIL};
use super::model::{FxHasher, FxMap};
use super::replay::{replay, Replayed};
use super::wgl::Budget;
use super::ModelKind;
use faultline_core::{History, OpType, Process};
use serde_json::Value;
use std::borrow::Cow;
use std::hash::Hasher;

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
pub(crate) struct Part<'h, M: SeqModel> {
    /// Borrowed from the history when it is a string there.
    pub key: Cow<'h, str>,
    pub model: M,
    pub ops: Vec<PreparedOp<M::Op>>,
}

pub(crate) enum Prepared<'c, 'h, 'i> {
    Register(Vec<Part<'h, RegisterModel>>),
    Kv(Vec<KvPart<'c, 'h, 'i>>),
}

/// A part as the driver receives it: its op count and key are known, its model and ops are
/// built when its search starts (a check that stops at the first key found not
/// linearizable never builds the others).
pub(crate) trait PartSource<'h>: Send {
    type Model: SeqModel;
    fn ops(&self) -> usize;
    fn key(&self) -> Cow<'h, str>;
    fn build(self) -> Part<'h, Self::Model>;
    /// [`PartSource::build`], with room for `ops` ops in all: this part's and those of the
    /// parts that will be [rebuilt](PartSource::rebuild) from it.
    fn build_with_room(self, _ops: usize) -> Part<'h, Self::Model>
    where
        Self: Sized,
    {
        self.build()
    }
    /// [`PartSource::build`], reusing what the part checked before on this thread left
    /// (its model's tables, its op buffer) where the model allows it.
    fn rebuild(self, _previous: Part<'h, Self::Model>) -> Part<'h, Self::Model>
    where
        Self: Sized,
    {
        self.build()
    }
    /// The part checked without building its model, when its ops never overlap and the
    /// model allows it ([`super::replay`]); `None` otherwise.
    fn replay(&self, _budget: &Budget) -> Option<Replayed> {
        None
    }
}

impl<'h, M: SeqModel + Send> PartSource<'h> for Part<'h, M> {
    type Model = M;
    fn ops(&self) -> usize {
        self.ops.len()
    }
    fn key(&self) -> Cow<'h, str> {
        self.key.clone()
    }
    fn build(self) -> Part<'h, M> {
        self
    }
}

/// Which keys a kv part checks: one, or all of them (the unpartitioned model), listed in
/// the order of their names.
pub(crate) enum PartKeys {
    One(u32),
    All(Vec<u32>),
}

/// For each key of `sorted` (key ids in name order), its place in that order: how the
/// unpartitioned model knows a key.
pub(crate) fn places(sorted: &[u32]) -> Vec<u32> {
    let mut place = vec![0u32; sorted.len()];
    for (at, &k) in sorted.iter().enumerate() {
        place[k as usize] = at as u32;
    }
    place
}

/// A kv part before it is built: its keys, whose ops are in the [`Collected`] ops.
pub(crate) struct KvPart<'c, 'h, 'i> {
    pub name: Cow<'h, str>,
    pub from: &'c Collected<'h>,
    pub keys: PartKeys,
    pub initial: Option<&'i Value>,
}

impl<'h> PartSource<'h> for KvPart<'_, 'h, '_> {
    type Model = KvModel<'h>;
    fn ops(&self) -> usize {
        match self.keys {
            PartKeys::One(k) => self.from.count(k),
            PartKeys::All(_) => self.from.raws.len(),
        }
    }
    fn key(&self) -> Cow<'h, str> {
        self.name.clone()
    }
    fn build(self) -> Part<'h, KvModel<'h>> {
        self.build_with_room(0)
    }
    fn build_with_room(self, ops: usize) -> Part<'h, KvModel<'h>> {
        let n = self.ops().max(ops);
        kv_part(self, n, None)
    }
    fn replay(&self, budget: &Budget) -> Option<Replayed> {
        replay(self, budget)
    }
    /// One key's values are strings and the model's tables (literals, the trie of appends,
    /// what gets read) do not depend on the key: the next key of a partitioned check goes
    /// on in the same model, without a dozen new tables per key.
    fn rebuild(self, previous: Part<'h, KvModel<'h>>) -> Part<'h, KvModel<'h>> {
        let reuse = (matches!(self.keys, PartKeys::One(_)) && previous.model.key_names.len() <= 1)
            .then_some((previous.model, previous.ops));
        let n = self.ops();
        kv_part(self, n, reuse)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum F {
    Read,
    Write,
    Cas,
    Get,
    Put,
    Append,
}

/// One client op, read once from the history.
pub(crate) struct RawOp<'h> {
    /// Index of the op's key in the order keys were first seen.
    pub key: u32,
    pub f: F,
    pub swapped: Option<bool>,
    pub arg: &'h Value,
    pub result: &'h Value,
    /// Position of the invoke in the history: the op's call.
    pub invoke: usize,
    pub ret: u64,
    pub complete: Option<usize>,
}

/// The client ops of a history that the search needs, grouped by key: read once by
/// [`collect`], and borrowed by the parts.
pub(crate) struct Collected<'h> {
    /// In history order.
    pub raws: Vec<RawOp<'h>>,
    /// In the order keys were first seen.
    keys: Vec<KeyRef<'h>>,
    /// Positions in `raws`, grouped by key in key order, each group in history order
    /// (empty when there is one key: its group is `raws`).
    by_key: Vec<u32>,
    /// Where each key's group starts in `by_key`.
    starts: Vec<u32>,
}

impl<'h> Collected<'h> {
    pub fn count(&self, k: u32) -> usize {
        let (from, to) = self.group(k);
        to - from
    }

    /// The range of `by_key` (of `raws` when there is one key) holding key `k`'s ops.
    fn group(&self, k: u32) -> (usize, usize) {
        if self.keys.len() == 1 {
            return (0, self.raws.len());
        }
        let k = k as usize;
        let from = self.starts[k] as usize;
        let to = self
            .starts
            .get(k + 1)
            .map_or(self.by_key.len(), |&t| t as usize);
        (from, to)
    }

    /// The name of key `k`.
    pub fn key_name(&self, k: u32) -> Cow<'h, str> {
        self.keys[k as usize].name()
    }

    /// Key `k`'s ops, in history order.
    pub fn ops_of(&self, k: u32) -> impl Iterator<Item = &RawOp<'h>> + Clone + '_ {
        let (from, to) = self.group(k);
        let one = self.keys.len() == 1;
        (from..to).map(move |p| match one {
            true => &self.raws[p],
            false => &self.raws[self.by_key[p] as usize],
        })
    }
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
        if is_name(k, b"key") {
            key = Some(x);
        } else if is_name(k, b"value") {
            value = Some(x);
        } else if is_name(k, b"swapped") {
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

/// Whether field name `k` is `name`: a fixed-size compare after the length (inlined
/// loads, where comparing strings called memcmp for every field of every op).
#[inline]
fn is_name<const N: usize>(k: &str, name: &[u8; N]) -> bool {
    <[u8; N]>::try_from(k.as_bytes()).ok().as_ref() == Some(name)
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

impl<'h> KeyRef<'h> {
    fn of(k: Option<&'h Value>) -> KeyRef<'h> {
        match k {
            None | Some(Value::Null) => KeyRef::None,
            Some(Value::String(s)) => KeyRef::Str(s),
            Some(Value::Number(n)) if n.is_i64() => KeyRef::Int(n.as_i64().unwrap_or(0)),
            Some(other) => KeyRef::Other(other.to_string()),
        }
    }
    /// A fingerprint: equal keys have equal prints. A string of up to 7 bytes is its own
    /// print, marked by the top bit, which no other print has: such keys are equal exactly
    /// when their prints are ([`KeyRef::print_is_key`]).
    fn print(&self) -> u64 {
        let mut h = FxHasher::default();
        match self {
            KeyRef::None => return 0,
            KeyRef::Int(i) => h.write_i64(*i),
            KeyRef::Str(s) if s.len() < 8 => {
                // Built in a register: a copy into a stack word and a load of it stalled.
                let bytes = s.as_bytes().iter().enumerate();
                return bytes.fold((s.len() as u64 | 0x80) << 56, |w, (i, &b)| {
                    w | (b as u64) << (8 * i)
                });
            }
            KeyRef::Str(s) => h.write(s.as_bytes()),
            KeyRef::Other(s) => h.write(s.as_bytes()),
        }
        h.finish() & !SHORT_KEY
    }

    /// Whether keys with this print are equal without a comparison.
    fn print_is_key(print: u64) -> bool {
        print & SHORT_KEY != 0
    }

    fn name(&self) -> Cow<'h, str> {
        match self {
            KeyRef::None => Cow::Borrowed(""),
            KeyRef::Int(i) => Cow::Owned(i.to_string()),
            KeyRef::Str(s) => Cow::Borrowed(s),
            KeyRef::Other(s) => Cow::Owned(s.clone()),
        }
    }
}

/// The top bit of the print of a short string key ([`KeyRef::print`]).
const SHORT_KEY: u64 = 1 << 63;

/// Up to this many keys are looked up by a scan; more go through a map.
const SCANNED_KEYS: usize = 16;

/// Key ids in the order keys are first seen.
struct KeyIds<'h> {
    keys: Vec<KeyRef<'h>>,
    /// Each key's [`KeyRef::print`], scanned before any key is compared.
    prints: Vec<u64>,
    /// Filled once there are more than [`SCANNED_KEYS`] keys.
    index: FxMap<KeyRef<'h>, u32>,
    /// Ops of one key often come in a row.
    last: Option<u32>,
}

impl<'h> KeyIds<'h> {
    fn new() -> Self {
        KeyIds {
            keys: Vec::with_capacity(SCANNED_KEYS),
            prints: Vec::with_capacity(SCANNED_KEYS),
            index: FxMap::default(),
            last: None,
        }
    }

    fn id(&mut self, key: KeyRef<'h>) -> u32 {
        let print = key.print();
        let exact = KeyRef::print_is_key(print);
        let is = |k: usize| self.prints[k] == print && (exact || self.keys[k] == key);
        if let Some(k) = self.last.filter(|&k| is(k as usize)) {
            return k;
        }
        let found = if self.keys.len() <= SCANNED_KEYS {
            (0..self.keys.len()).find(|&k| is(k)).map(|k| k as u32)
        } else {
            self.index.get(&key).copied()
        };
        let k = found.unwrap_or_else(|| {
            let k = self.keys.len() as u32;
            if self.keys.len() == SCANNED_KEYS {
                self.index.extend(self.keys.iter().cloned().zip(0..));
            }
            if self.keys.len() >= SCANNED_KEYS {
                self.index.insert(key.clone(), k);
            }
            self.keys.push(key);
            self.prints.push(print);
            k
        });
        self.last = Some(k);
        k
    }
}

/// Reads the client ops of `history` that the search needs, grouped by key (the op
/// value's `"key"`, or the completion's).
pub(crate) fn collect(history: &History, model: ModelKind) -> Result<Collected<'_>, PrepareError> {
    let completion = completions(history);
    let mut keys = KeyIds::new();
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
        raws.push(RawOp {
            key: keys.id(KeyRef::of(key.or(ckey))),
            f,
            swapped,
            arg,
            result,
            invoke: i,
            ret,
            complete,
        });
    }
    let (by_key, starts) = group_by_key(&raws, keys.keys.len());
    Ok(Collected {
        raws,
        keys: keys.keys,
        by_key,
        starts,
    })
}

/// Positions in `raws` grouped by key, each group in order, and where each group starts
/// (a counting sort: no vector per key). Nothing for one key.
fn group_by_key(raws: &[RawOp], keys: usize) -> (Vec<u32>, Vec<u32>) {
    if keys <= 1 {
        return (Vec::new(), vec![0]);
    }
    // First where each group ends; filling from the back leaves where it starts.
    let mut starts = vec![0u32; keys];
    for r in raws {
        starts[r.key as usize] += 1;
    }
    let mut end = 0;
    for s in &mut starts {
        end += *s;
        *s = end;
    }
    let mut by_key = vec![0u32; raws.len()];
    for (i, r) in raws.iter().enumerate().rev() {
        let s = &mut starts[r.key as usize];
        *s -= 1;
        by_key[*s as usize] = i as u32;
    }
    (by_key, starts)
}

/// The per-key parts of `from` for `model`.
pub(crate) fn prepare<'c, 'h, 'i>(
    from: &'c Collected<'h>,
    history: &History,
    model: ModelKind,
    initial: Option<&'i Value>,
) -> Result<Prepared<'c, 'h, 'i>, PrepareError> {
    let keys = 0..from.keys.len() as u32;
    match model {
        ModelKind::Register | ModelKind::CasRegister => {
            let mut parts = Vec::with_capacity(keys.len());
            for k in keys {
                parts.push(register_part(from, k, history, initial)?);
            }
            Ok(Prepared::Register(parts))
        }
        ModelKind::Kv => Ok(Prepared::Kv(
            keys.map(|k| KvPart {
                name: from.keys[k as usize].name(),
                from,
                keys: PartKeys::One(k),
                initial,
            })
            .collect(),
        )),
        ModelKind::KvUnpartitioned if from.keys.is_empty() => Ok(Prepared::Kv(Vec::new())),
        ModelKind::KvUnpartitioned => {
            let names: Vec<Cow<str>> = from.keys.iter().map(KeyRef::name).collect();
            let mut sorted: Vec<u32> = keys.collect();
            sorted.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
            Ok(Prepared::Kv(vec![KvPart {
                name: Cow::Borrowed("(all keys)"),
                from,
                keys: PartKeys::All(sorted),
                initial,
            }]))
        }
    }
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

fn register_part<'h>(
    from: &Collected<'h>,
    key: u32,
    history: &History,
    initial: Option<&Value>,
) -> Result<Part<'h, RegisterModel>, PrepareError> {
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
    let mut ops = Vec::with_capacity(from.count(key));
    for r in from.ops_of(key) {
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
            call: r.invoke as u64,
            ret: r.ret,
            invoke: r.invoke,
            complete: r.complete,
        });
    }
    Ok(Part {
        key: from.keys[key as usize].name(),
        model: RegisterModel {
            init,
            names: ids.names,
        },
        ops,
    })
}

pub(crate) fn kv_text(v: &Value) -> Cow<'_, str> {
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
    part: KvPart<'_, 'h, '_>,
    room: usize,
    reuse: Option<(KvModel<'h>, Vec<PreparedOp<KvOp>>)>,
) -> Part<'h, KvModel<'h>> {
    let n = part.ops();
    let KvPart {
        name,
        from,
        keys,
        initial,
    } = part;
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
            let names = match &keys {
                PartKeys::All(sorted) if sorted.len() > 1 => sorted
                    .iter()
                    .map(|&k| from.keys[k as usize].name().into_owned())
                    .collect(),
                _ => Vec::new(),
            };
            (KvModel::new(names, &init, room), Vec::with_capacity(room))
        }
    };
    let mut push = |r: &RawOp<'h>, key: u32| {
        let (kind, arg) = match r.f {
            F::Get => (KvKind::Get, model.add_read(kv_text(r.result))),
            F::Put => (KvKind::Put, model.intern_str(kv_text(r.arg))),
            _ => (KvKind::Append, model.intern_str(kv_text(r.arg))),
        };
        ops.push(PreparedOp {
            op: KvOp {
                kind,
                key,
                arg,
                memo: ops.len() as u32,
            },
            call: r.invoke as u64,
            ret: r.ret,
            invoke: r.invoke,
            complete: r.complete,
        });
    };
    match &keys {
        PartKeys::One(k) => from.ops_of(*k).for_each(|r| push(r, 0)),
        PartKeys::All(sorted) => {
            // The ops stay in history order.
            let place = places(sorted);
            from.raws
                .iter()
                .for_each(|r| push(r, place[r.key as usize]));
        }
    }
    Part {
        key: name,
        model,
        ops,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_ids_are_stable_past_the_scanned_keys() {
        // Short strings (their own prints), long ones and integers (hashed prints).
        let values: Vec<Value> = (0..40)
            .map(|k| match k % 3 {
                0 => json!(format!("k{k}")),
                1 => json!(format!("a longer key, number {k}")),
                _ => json!(k),
            })
            .collect();
        let mut ids = KeyIds::new();
        // Every key twice, in different orders: first seen, first numbered.
        for v in &values {
            let k = ids.id(KeyRef::of(Some(v)));
            assert_eq!(values[k as usize], *v);
        }
        for v in values.iter().rev() {
            let k = ids.id(KeyRef::of(Some(v)));
            assert_eq!(values[k as usize], *v);
        }
        assert_eq!(ids.keys.len(), 40);
        assert_eq!(ids.index.len(), 40);
        for v in &values {
            let print = KeyRef::of(Some(v)).print();
            assert_eq!(
                KeyRef::print_is_key(print),
                v.as_str().is_some_and(|s| s.len() < 8)
            );
        }
        // Integers and strings are different keys.
        let (one, one_text) = (json!(1), json!("1"));
        assert_ne!(
            ids.id(KeyRef::of(Some(&one))),
            ids.id(KeyRef::of(Some(&one_text)))
        );
    }

    #[test]
    fn ops_are_grouped_by_key_in_history_order() {
        let ops: Vec<faultline_core::Op> = [0, 1, 0, 2, 1, 0]
            .iter()
            .enumerate()
            .flat_map(|(i, k)| {
                let v = json!({"key": k, "value": format!("v{i}")});
                let (at, p) = (2 * i as u64, i as u64);
                [
                    faultline_core::Op::client(at, p, OpType::Invoke, "put", v.clone()),
                    faultline_core::Op::client(at + 1, p, OpType::Ok, "put", v),
                ]
            })
            .collect();
        let history = History::new(ops);
        let c = collect(&history, ModelKind::Kv).unwrap();
        let group = |k: u32| -> Vec<usize> { c.ops_of(k).map(|r| r.invoke).collect() };
        assert_eq!(group(0), [0, 4, 10]);
        assert_eq!(group(1), [2, 8]);
        assert_eq!(group(2), [6]);
        assert_eq!(c.count(0) + c.count(1) + c.count(2), 6);
    }
}
