//! Ops and processes: one history event per [`Op`].
//!
//! A client op is an `invoke` followed by exactly one completion of the same process: `ok`
//! (it happened), `fail` (it definitely did not happen) or `info` (unknown). After an `info`
//! the process is retired and its worker continues under a fresh process id, so every process
//! stays single-threaded (Jepsen's rule; linearizability depends on it). Nemesis ops carry
//! [`Process::Nemesis`] and use `info` for both the start and the end of a fault.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Who performed an op: a logical single-threaded client, or the nemesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    Client(u64),
    Nemesis,
}

impl Process {
    pub fn is_nemesis(self) -> bool {
        matches!(self, Process::Nemesis)
    }
    pub fn client_id(self) -> Option<u64> {
        match self {
            Process::Client(p) => Some(p),
            Process::Nemesis => None,
        }
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => f.write_str("nemesis"),
        }
    }
}

// Encoded as in Jepsen: an integer, or the string "nemesis".
impl Serialize for Process {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_u64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

impl<'de> Deserialize<'de> for Process {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Process;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative integer or \"nemesis\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Process, E> {
                Ok(Process::Client(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Process, E> {
                u64::try_from(v)
                    .map(Process::Client)
                    .map_err(|_| E::custom("process ids are non-negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Process, E> {
                if v == "nemesis" {
                    Ok(Process::Nemesis)
                } else {
                    Err(E::custom(format!("unknown process {v:?}")))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The four kinds of history event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl OpType {
    pub fn is_completion(self) -> bool {
        !matches!(self, OpType::Invoke)
    }
}

impl fmt::Display for OpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpType::Invoke => "invoke",
            OpType::Ok => "ok",
            OpType::Fail => "fail",
            OpType::Info => "info",
        })
    }
}

/// One history event. `V` is the value type: [`serde_json::Value`] by default, or a typed
/// value when a checker reads a history of its own workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "V: Deserialize<'de> + Default"))]
pub struct Op<V = Value> {
    /// Position in the history, 0-based, dense.
    pub index: u64,
    /// Nanoseconds since the run started (monotonic clock).
    pub time: u64,
    pub process: Process,
    #[serde(rename = "type")]
    pub kind: OpType,
    /// The operation's function: `transfer`, `read`, `txn`, `start`, ...
    pub f: String,
    #[serde(default)]
    pub value: V,
    /// The node the op was sent to, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Why an op failed or is indeterminate (error code and message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Op {
    /// A client op at history position `index`, with that position as its time and no node
    /// or error: the op that tests and simulated histories write.
    pub fn client(
        index: u64,
        process: u64,
        kind: OpType,
        f: impl Into<String>,
        value: Value,
    ) -> Op {
        Op {
            index,
            time: index,
            process: Process::Client(process),
            kind,
            f: f.into(),
            value,
            node: None,
            error: None,
        }
    }
}

impl<V> Op<V> {
    pub fn is_invoke(&self) -> bool {
        self.kind == OpType::Invoke
    }
    pub fn is_ok(&self) -> bool {
        self.kind == OpType::Ok
    }
    pub fn is_fail(&self) -> bool {
        self.kind == OpType::Fail
    }
    pub fn is_info(&self) -> bool {
        self.kind == OpType::Info
    }
    pub fn is_client(&self) -> bool {
        !self.process.is_nemesis()
    }
}

/// What a generator asks a worker to do: a function and its argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    pub f: String,
    pub value: Value,
}

impl Invocation {
    pub fn new(f: impl Into<String>, value: Value) -> Self {
        Invocation { f: f.into(), value }
    }
}
