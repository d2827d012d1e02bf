//! Typed transactions: a history's `txn` ops paired into one [`Txn`] per invocation.
//!
//! Input is our JSON convention (see the [module docs](super)): micro-ops
//! `["append", k, v]`, `["w", k, v]`, `["r", k, read]` with integer keys and values, where a
//! read is `null`, an integer (rw-register) or a list of integers (list-append). Two ways in:
//! [`Txns::from_history`] from a generic `History<serde_json::Value>`, and [`read_jsonl`] /
//! [`parse_jsonl`], a fast path that deserialises each line straight into typed micro-ops.
//!
//! Pairing: an invocation is matched with the next completion of its process. `ok` takes the
//! completion's micro-ops (reads filled in); `info` and `fail` keep the invocation's (their
//! reads are unknown); an invocation that never completed is treated as `info`.

use super::fx::FxMap;
pub use super::list::List;
use faultline_core::{History, HistoryError, Op, OpType, Process};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a read returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadValue {
    /// `null`: nothing (initial state; on an invocation, not yet known).
    Nil,
    /// A register's value.
    Int(i64),
    /// A list's elements, oldest first.
    List(List),
}

/// One micro-op of a transaction: 24 bytes, its tag and [`ReadValue`]'s kept in a spare
/// byte of [`List`] (see the [`list`](super::list) module); there are tens of millions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mop {
    Append { key: i64, value: i64 },
    Write { key: i64, value: i64 },
    Read { key: i64, value: ReadValue },
}

impl Mop {
    pub fn key(&self) -> i64 {
        match self {
            Mop::Append { key, .. } | Mop::Write { key, .. } | Mop::Read { key, .. } => *key,
        }
    }
    pub fn is_write(&self) -> bool {
        !matches!(self, Mop::Read { .. })
    }
    /// The micro-op in our JSON convention.
    pub fn to_json(&self) -> Value {
        match self {
            Mop::Append { key, value } => serde_json::json!(["append", key, value]),
            Mop::Write { key, value } => serde_json::json!(["w", key, value]),
            Mop::Read { key, value } => {
                let v = match value {
                    ReadValue::Nil => Value::Null,
                    ReadValue::Int(i) => Value::from(*i),
                    ReadValue::List(l) => Value::from(l.to_vec()),
                };
                serde_json::json!(["r", key, v])
            }
        }
    }
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Info,
    Fail,
}

/// One transaction: an invocation and its completion. There is one per transaction of a
/// history, so it is kept small (40 bytes): at ten million transactions every byte here
/// is ten megabytes. Its micro-ops live in a chunk shared with the transactions around it
/// (see [`TxnBuilder`]), not in an allocation of their own (whose header and rounding
/// cost more than the slice pointer that would point at it).
#[derive(Clone)]
pub struct Txn {
    /// Index of the completion op (of the invocation when it never completed): the name
    /// `T<index>` used in explanations.
    pub index: u64,
    /// The client process (transactions never run on the nemesis).
    client: u64,
    chunk: Chunk,
    /// Where the micro-ops start in `chunk`.
    first: u32,
    /// Position of the invocation in the history (realtime order).
    pub invoke_pos: u32,
    /// Position of the completion, or [`NEVER`].
    complete: u32,
    /// How many micro-ops; [`WHOLE`]: all of `chunk` from `first` (a chunk of its own).
    len: u16,
    pub status: Status,
}

/// A chunk of micro-ops shared by consecutive transactions.
type Chunk = std::sync::Arc<Vec<Mop>>;
/// Micro-ops per chunk (1.5 MB at 24 bytes each).
const CHUNK: usize = 1 << 16;
const NEVER: u32 = u32::MAX;
const WHOLE: u16 = u16::MAX;

impl Txn {
    pub fn name(&self) -> String {
        format!("T{}", self.index)
    }
    pub fn process(&self) -> Process {
        Process::Client(self.client)
    }
    /// The micro-ops, in order.
    #[inline]
    pub fn mops(&self) -> &[Mop] {
        let first = self.first as usize;
        if self.len == WHOLE {
            &self.chunk[first..]
        } else {
            &self.chunk[first..first + self.len as usize]
        }
    }
    /// Position of the completion in the history; `None` when it never completed.
    pub fn complete_pos(&self) -> Option<u32> {
        (self.complete != NEVER).then_some(self.complete)
    }
    pub fn mops_json(&self) -> Value {
        Value::Array(self.mops().iter().map(Mop::to_json).collect())
    }
}

impl PartialEq for Txn {
    fn eq(&self, o: &Txn) -> bool {
        (
            self.index,
            self.client,
            self.status,
            self.invoke_pos,
            self.complete,
        ) == (o.index, o.client, o.status, o.invoke_pos, o.complete)
            && self.mops() == o.mops()
    }
}

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Txn")
            .field("index", &self.index)
            .field("process", &self.process())
            .field("status", &self.status)
            .field("mops", &self.mops())
            .field("invoke_pos", &self.invoke_pos)
            .field("complete_pos", &self.complete_pos())
            .finish()
    }
}

/// The typed transactions of a history, in completion order, plus the lines that could not
/// be read as transactions (reported as preconditions).
#[derive(Clone, Debug, Default)]
pub struct Txns {
    pub txns: Vec<Txn>,
    pub problems: Vec<String>,
}

/// The micro-ops of an op's value, or `None` when the value is not a list of micro-ops.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TxnValue(pub Option<Vec<Mop>>);

/// Pairs invocations with completions while ops stream by, copying each transaction's
/// micro-ops into the current chunk; a full chunk is sealed (shared by its transactions)
/// and a new one started.
#[derive(Default)]
pub struct TxnBuilder {
    open: FxMap<Process, (u64, usize, Option<Vec<Mop>>)>,
    out: Txns,
    pos: usize,
    /// The chunk being filled, and the first transaction whose micro-ops are in it.
    chunk: Vec<Mop>,
    chunk_from: usize,
    /// The empty chunk transactions point at until theirs is sealed.
    unsealed: Chunk,
}

impl TxnBuilder {
    /// Feeds one op. Non-`txn` ops and nemesis ops only advance the position.
    pub fn push(
        &mut self,
        index: u64,
        process: Process,
        kind: OpType,
        f: &str,
        mops: Option<Vec<Mop>>,
    ) {
        let pos = self.pos;
        self.pos += 1;
        let Process::Client(_) = process else { return };
        if f != "txn" {
            return;
        }
        if kind == OpType::Invoke {
            if let Some((i, p, m)) = self.open.insert(process, (index, pos, mops)) {
                self.finish_open(process, i, p, m);
                self.out.problems.push(format!(
                    "op {index}: process {process} invoked again before op {i} completed"
                ));
            }
            return;
        }
        let Some((_, invoke_pos, invoke_mops)) = self.open.remove(&process) else {
            self.out
                .problems
                .push(format!("op {index}: completion without an invocation"));
            return;
        };
        let (status, mops) = match kind {
            OpType::Ok => (Status::Ok, mops),
            OpType::Fail => (Status::Fail, invoke_mops),
            _ => (Status::Info, invoke_mops),
        };
        let Some(mops) = mops else {
            self.out
                .problems
                .push(format!("op {index}: value is not a list of micro-ops"));
            return;
        };
        self.add(index, process, status, mops, invoke_pos, pos as u32);
    }

    fn finish_open(&mut self, process: Process, index: u64, pos: usize, mops: Option<Vec<Mop>>) {
        if let Some(mops) = mops {
            self.add(index, process, Status::Info, mops, pos, NEVER);
        }
    }

    fn add(
        &mut self,
        index: u64,
        process: Process,
        status: Status,
        mops: Vec<Mop>,
        invoke_pos: usize,
        complete: u32,
    ) {
        let Process::Client(client) = process else {
            unreachable!("nemesis ops are skipped")
        };
        let big = mops.len() >= WHOLE as usize;
        if !self.chunk.is_empty() && (big || self.chunk.len() + mops.len() > self.chunk.capacity())
        {
            self.seal();
        }
        let (first, len) = if big {
            // A chunk of its own, sealed at once.
            self.chunk = mops;
            (0, WHOLE)
        } else {
            if self.chunk.capacity() == 0 {
                self.chunk.reserve_exact(CHUNK);
            }
            let first = self.chunk.len() as u32;
            self.chunk.extend(mops);
            (first, (self.chunk.len() as u32 - first) as u16)
        };
        self.out.txns.push(Txn {
            index,
            client,
            chunk: self.unsealed.clone(),
            first,
            invoke_pos: invoke_pos as u32,
            complete,
            len,
            status,
        });
        if big {
            self.seal();
        }
    }

    /// Shares the current chunk with its transactions and starts an empty one.
    fn seal(&mut self) {
        let mut chunk = std::mem::take(&mut self.chunk);
        chunk.shrink_to_fit();
        let chunk = Chunk::new(chunk);
        for t in &mut self.out.txns[self.chunk_from..] {
            t.chunk = chunk.clone();
        }
        self.chunk_from = self.out.txns.len();
    }

    /// Invocations still open at the end become `info` transactions.
    pub fn finish(mut self) -> Txns {
        let mut open: Vec<_> = std::mem::take(&mut self.open).into_iter().collect();
        open.sort_by_key(|(_, (i, _, _))| *i);
        for (process, (i, p, m)) in open {
            self.finish_open(process, i, p, m);
        }
        self.seal();
        self.out
    }
}

impl Txns {
    /// Reads the transactions of a generic history.
    pub fn from_history(history: &History) -> Txns {
        let mut b = TxnBuilder::default();
        for op in &history.ops {
            let mops = if op.is_client() && op.f == "txn" {
                mops_from_value(&op.value)
            } else {
                None
            };
            b.push(op.index, op.process, op.kind, &op.f, mops);
        }
        let mut txns = b.finish();
        if history.truncated_tail {
            txns.problems
                .push("the history's last line was cut off mid-write and dropped".into());
        }
        txns
    }

    /// Reads typed ops (from [`read_jsonl`]'s reader, or built by hand).
    pub fn from_ops(ops: impl IntoIterator<Item = Op<TxnValue>>) -> Txns {
        let mut b = TxnBuilder::default();
        for op in ops {
            b.push(op.index, op.process, op.kind, &op.f, op.value.0);
        }
        b.finish()
    }
}

/// Micro-ops from a JSON value; `None` when it is not a well-formed list of micro-ops.
pub fn mops_from_value(v: &Value) -> Option<Vec<Mop>> {
    v.as_array()?.iter().map(mop_from_value).collect()
}

fn mop_from_value(v: &Value) -> Option<Mop> {
    let a = v.as_array()?;
    if a.len() != 3 {
        return None;
    }
    let key = a[1].as_i64()?;
    match a[0].as_str()? {
        "append" => Some(Mop::Append {
            key,
            value: a[2].as_i64()?,
        }),
        "w" => Some(Mop::Write {
            key,
            value: a[2].as_i64()?,
        }),
        "r" => {
            let value = match &a[2] {
                Value::Null => ReadValue::Nil,
                Value::Number(n) => ReadValue::Int(n.as_i64()?),
                Value::Array(xs) => ReadValue::List(List::from(
                    xs.iter().map(Value::as_i64).collect::<Option<Vec<i64>>>()?,
                )),
                _ => return None,
            };
            Some(Mop::Read { key, value })
        }
        _ => None,
    }
}

/// Reads a history.jsonl file (or a run directory holding one) on the typed fast path,
/// parsing on several threads when the file is large (the `reader` module).
pub fn read_jsonl(path: &Path) -> Result<Txns, HistoryError> {
    let file_path = if path.is_dir() {
        path.join("history.jsonl")
    } else {
        path.to_path_buf()
    };
    let file = std::fs::File::open(&file_path).map_err(|source| HistoryError::Open {
        path: file_path.clone(),
        source,
    })?;
    let big = file.metadata().map(|m| m.len() > 16 << 20).unwrap_or(false);
    let threads = if big {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    } else {
        1
    };
    super::reader::read(file, file_path, threads)
}

/// Parses JSON Lines text on the typed fast path.
pub fn parse_jsonl(text: &str) -> Result<Txns, HistoryError> {
    super::reader::read(text.as_bytes(), PathBuf::from("<memory>"), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txns_stay_small() {
        assert_eq!(std::mem::size_of::<Txn>(), 40);
    }

    #[test]
    fn micro_ops_survive_chunk_boundaries() {
        let mut b = TxnBuilder::default();
        let n = 3 * CHUNK / 7 + 5;
        let mops = |i: usize| -> Vec<Mop> {
            (0..i % 7 + 1)
                .map(|j| Mop::Append {
                    key: j as i64,
                    value: i as i64,
                })
                .collect()
        };
        for i in 0..n {
            let p = Process::Client(i as u64 % 5);
            b.push(2 * i as u64, p, OpType::Invoke, "txn", Some(mops(i)));
            b.push(2 * i as u64 + 1, p, OpType::Ok, "txn", Some(mops(i)));
        }
        let big: Vec<Mop> = (0..WHOLE as i64 + 3)
            .map(|v| Mop::Append { key: 1, value: v })
            .collect();
        let p = Process::Client(9);
        b.push(2 * n as u64, p, OpType::Invoke, "txn", Some(big.clone()));
        let txns = b.finish().txns;
        assert_eq!(txns.len(), n + 1);
        for (i, t) in txns[..n].iter().enumerate() {
            assert_eq!(t.mops(), &mops(i)[..]);
            assert_eq!(t.complete_pos(), Some(2 * i as u32 + 1));
        }
        assert_eq!(txns[n].mops(), &big[..]);
        assert_eq!(txns[n].status, Status::Info);
        assert_eq!(txns[n].complete_pos(), None);
    }
}
