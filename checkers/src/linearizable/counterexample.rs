//! Counterexamples: where a key's history stops being linearizable, bounded in size.
//!
//! The search reports the longest linearizable prefix it found (a linearization of some
//! ops, in order) and the ops that could come next: those called before the earliest return
//! among the ops not yet linearized. An op the model rejects after the prefix "cannot
//! follow"; one it accepts led only to dead ends. A [`Counterexample`] keeps the last
//! [`MAX_PREFIX_SHOWN`] ops of the prefix and at most [`MAX_OPS_SHOWN`] ops in all, whatever
//! the history's length.

use super::prepare::{fields, Fields, PreparedOp, INF};
use super::wgl::Failure;
use super::ModelKind;
use faultline_core::{History, Op, OpType, Process};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write;

/// At most this many ops of the linearizable prefix are kept (the last ones).
pub const MAX_PREFIX_SHOWN: usize = 30;
/// At most this many ops in a counterexample.
pub const MAX_OPS_SHOWN: usize = 50;

/// Evidence that one key is not linearizable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    pub key: String,
    pub model: ModelKind,
    /// Length of the longest linearizable prefix found.
    pub prefix_len: usize,
    /// How many of its earliest ops are not shown.
    pub prefix_omitted: usize,
    /// The model's state after the prefix.
    pub state_after_prefix: String,
    /// Ops shown: the end of the prefix in linearization order, then the ops that could come
    /// next.
    pub ops: Vec<CounterexampleOp>,
    /// Candidates not shown because of the size bound.
    pub candidates_omitted: usize,
    /// One paragraph a person reads first.
    pub explanation: String,
}

/// One op of a counterexample, with its call/return interval in history positions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterexampleOp {
    /// History index of the invoke.
    pub index: u64,
    /// History index of the completion, if it has one.
    pub completion_index: Option<u64>,
    /// Borrowed for small client numbers (no allocation per op), owned otherwise.
    pub process: Cow<'static, str>,
    /// Borrowed for the operations the models know, owned otherwise.
    pub f: Cow<'static, str>,
    /// E.g. `write(3)`, `read() -> 2`, `cas(1, 4) -> ok`, `append("0", "x 1 y")`.
    pub description: String,
    /// Position of the invoke in the history (the time line of the picture).
    pub call: u64,
    /// Position of the ok completion; `None`: never returned (info or cut off).
    #[serde(rename = "return")]
    pub ret: Option<u64>,
    pub call_time_ns: u64,
    pub return_time_ns: Option<u64>,
    pub role: OpRole,
    /// 1-based position in the linearization, for prefix ops.
    pub order: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpRole {
    /// Part of the longest linearizable prefix.
    Linearized,
    /// Could come next, but the model rejects it after the prefix.
    CannotFollow,
    /// Could come next and the model accepts it, but every continuation failed.
    DeadEnd,
}

/// Appends `v` as a counterexample shows it (nil, quoted strings), at most 40 characters.
fn push_short(out: &mut String, v: &Value) {
    let from = out.len();
    match v {
        Value::Null => out.push_str("nil"),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => out.push_str(itoa::Buffer::new().format(u)),
            (None, Some(i)) => out.push_str(itoa::Buffer::new().format(i)),
            _ => {
                let _ = write!(out, "{n}");
            }
        },
        Value::String(s) if debug_is_quoted(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Value::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
    truncate_tail(out, from, 40);
}

/// Whether `{s:?}` is `s` in quotes: printable ASCII without `"` or `\`.
pub(crate) fn debug_is_quoted(s: &str) -> bool {
    s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// Client numbers below 100 as text, so most counterexample ops borrow their process name.
const SMALL_NUMBERS: [&str; 100] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
    "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32",
    "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46", "47", "48",
    "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60", "61", "62", "63", "64",
    "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75", "76", "77", "78", "79", "80",
    "81", "82", "83", "84", "85", "86", "87", "88", "89", "90", "91", "92", "93", "94", "95", "96",
    "97", "98", "99",
];

/// A process as [`Process`]'s `Display` shows it (without the formatting machinery).
fn process_name(p: Process) -> Cow<'static, str> {
    match p {
        Process::Client(c) if c < 100 => Cow::Borrowed(SMALL_NUMBERS[c as usize]),
        Process::Client(c) => Cow::Owned(itoa::Buffer::new().format(c).to_string()),
        Process::Nemesis => Cow::Owned(p.to_string()),
    }
}

/// An op's name, borrowed when it is one the models know.
fn op_name(f: &str) -> Cow<'static, str> {
    match f {
        "read" => Cow::Borrowed("read"),
        "write" => Cow::Borrowed("write"),
        "cas" => Cow::Borrowed("cas"),
        "get" => Cow::Borrowed("get"),
        "put" => Cow::Borrowed("put"),
        "append" => Cow::Borrowed("append"),
        other => Cow::Owned(other.to_string()),
    }
}

/// Cuts `out[from..]` to at most `max` characters, marking the cut with `…`.
#[inline]
fn truncate_tail(out: &mut String, from: usize, max: usize) {
    if out.len() - from > max {
        cut_tail(out, from, max); // otherwise fewer bytes than `max`: fewer characters too
    }
}

fn cut_tail(out: &mut String, from: usize, max: usize) {
    let tail = &out[from..];
    if let Some((cut, _)) = tail.char_indices().nth(max.saturating_sub(1)) {
        if tail[cut..].chars().nth(1).is_some() {
            out.truncate(from + cut);
            out.push('…');
        }
    }
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    let mut t = s.to_string();
    truncate_tail(&mut t, 0, max);
    t
}

/// A one-line description of an op from its invoke and completion.
pub(crate) fn describe(invoke: &Op, completion: Option<&Op>) -> String {
    let Fields {
        key, value: arg, ..
    } = fields(&invoke.value);
    // Only reads and cas show something of the completion's value.
    let done = completion
        .filter(|_| matches!(invoke.f.as_str(), "read" | "get" | "cas"))
        .map(|c| fields(&c.value));
    let result = done.as_ref().map_or(&Value::Null, |c| c.value);
    let outcome = match completion.map(|c| c.kind) {
        Some(OpType::Ok) => "",
        Some(OpType::Fail) => " -> fail",
        _ => " -> ?",
    };
    let mut d = String::with_capacity(48);
    d.push_str(&invoke.f);
    d.push('(');
    let key_sep = |d: &mut String| {
        if let Some(k) = key {
            push_short(d, k);
            d.push_str(", ");
        }
    };
    match invoke.f.as_str() {
        "read" | "get" => {
            if let Some(k) = key {
                push_short(&mut d, k);
            }
            d.push_str(") -> ");
            push_short(&mut d, result);
        }
        "cas" => {
            key_sep(&mut d);
            let arg = if arg.is_null() { result } else { arg };
            match arg.as_array().map(Vec::as_slice) {
                Some([o, n]) => {
                    push_short(&mut d, o);
                    d.push_str(", ");
                    push_short(&mut d, n);
                }
                _ => {
                    push_short(&mut d, arg);
                    d.push_str(", ");
                }
            }
            d.push(')');
            let swapped = done.and_then(|c| c.swapped).and_then(Value::as_bool);
            d.push_str(match (completion.map(|c| c.kind), swapped) {
                (Some(OpType::Ok), Some(false)) => " -> compare failed",
                (Some(OpType::Ok), _) => " -> ok",
                _ => outcome,
            });
        }
        _ => {
            key_sep(&mut d);
            push_short(&mut d, arg);
            d.push(')');
            d.push_str(outcome);
        }
    }
    truncate_tail(&mut d, 0, 80);
    d
}

/// Builds the bounded counterexample for one failed key.
pub(crate) fn build<O>(
    history: &History,
    model: ModelKind,
    key: &str,
    ops: &[PreparedOp<O>],
    failure: Failure,
) -> Counterexample
where
    O: Copy,
{
    let prefix_len = failure.prefix.len();
    let candidate_count = failure.candidates.len();
    let mut candidates = failure.candidates;
    // Rejected ops first: they are the evidence.
    candidates.sort_by_key(|&(i, accepted)| (accepted, ops[i as usize].call));
    let cand_room = MAX_OPS_SHOWN - MAX_PREFIX_SHOWN.min(prefix_len);
    let candidates_omitted = candidates.len().saturating_sub(cand_room);
    candidates.truncate(cand_room);
    // At least the last MAX_PREFIX_SHOWN prefix ops; more when few candidates are shown.
    let shown_prefix = prefix_len.min(MAX_OPS_SHOWN - candidates.len());
    let prefix_omitted = prefix_len - shown_prefix;

    let op_of = |i: u32, role: OpRole, order: Option<usize>| {
        let p = &ops[i as usize];
        let inv = &history.ops[p.invoke];
        let comp = p.complete.map(|j| &history.ops[j]);
        CounterexampleOp {
            index: inv.index,
            completion_index: comp.map(|c| c.index),
            process: process_name(inv.process),
            f: op_name(&inv.f),
            description: describe(inv, comp),
            call: p.call,
            ret: (p.ret != INF).then_some(p.ret),
            call_time_ns: inv.time,
            return_time_ns: comp.filter(|_| p.ret != INF).map(|c| c.time),
            role,
            order,
        }
    };
    let mut shown = Vec::with_capacity(shown_prefix + candidates.len());
    shown.extend(
        failure.prefix[prefix_omitted..]
            .iter()
            .enumerate()
            .map(|(k, &i)| op_of(i, OpRole::Linearized, Some(prefix_omitted + k + 1))),
    );
    for &(i, accepted) in &candidates {
        let role = if accepted {
            OpRole::DeadEnd
        } else {
            OpRole::CannotFollow
        };
        shown.push(op_of(i, role, None));
    }

    // One buffer for the whole paragraph, written without the formatting machinery.
    let mut explanation = String::with_capacity(256);
    let mut num = itoa::Buffer::new();
    if !key.is_empty() {
        explanation.push_str("key ");
        explanation.push_str(key);
        explanation.push_str(": ");
    }
    match shown.iter().rev().find(|o| o.role == OpRole::Linearized) {
        Some(last) => {
            explanation.push_str("after ");
            explanation.push_str(num.format(prefix_len));
            explanation.push_str(" ops linearized (the last: op ");
            explanation.push_str(num.format(last.index));
            explanation.push_str(", ");
            explanation.push_str(&last.description);
            explanation.push(')');
        }
        None => explanation.push_str("before any op is linearized"),
    }
    explanation.push_str(" the state is ");
    explanation.push_str(&failure.state);
    let rejected = || shown.iter().filter(|o| o.role == OpRole::CannotFollow);
    let rejected_count = rejected().count();
    if rejected_count == 0 {
        explanation.push_str("; each of the ");
        explanation.push_str(num.format(candidate_count));
        explanation.push_str(" ops that could come next is allowed there but leads to a dead end");
    } else {
        explanation.push_str(", and no op can take effect next: ");
        for (k, o) in rejected().take(3).enumerate() {
            if k > 0 {
                explanation.push_str(", ");
            }
            explanation.push_str("op ");
            explanation.push_str(num.format(o.index));
            explanation.push(' ');
            explanation.push_str(&o.description);
            explanation.push_str(" (process ");
            explanation.push_str(&o.process);
            explanation.push(')');
        }
        if rejected_count > 3 {
            explanation.push_str(" and ");
            explanation.push_str(num.format(rejected_count - 3));
            explanation.push_str(" more");
        }
        explanation.push_str(" cannot");
    }
    Counterexample {
        key: key.to_string(),
        model,
        prefix_len,
        prefix_omitted,
        state_after_prefix: failure.state,
        ops: shown,
        candidates_omitted,
        explanation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linearizable::model::RegOp;
    use serde_json::json;

    /// Six writes of `k` by processes 0..6, all called before any returns.
    fn writes() -> (History, Vec<PreparedOp<RegOp>>) {
        let op = |index: u64, p: u64, kind: OpType, v: u64| Op {
            index,
            time: index,
            process: Process::Client(p),
            kind,
            f: "write".into(),
            value: json!({"key": "k", "value": v}),
            node: None,
            error: None,
        };
        let mut ops: Vec<Op> = (0..6).map(|p| op(p, p, OpType::Invoke, p)).collect();
        ops.extend((0..6).map(|p| op(6 + p, p, OpType::Ok, p)));
        let prepared = (0..6)
            .map(|p| PreparedOp {
                op: RegOp::Write(p),
                call: p,
                ret: 6 + p,
                invoke: p as usize,
                complete: Some(6 + p as usize),
            })
            .collect();
        (History::new(ops), prepared)
    }

    fn explain(prefix: Vec<u32>, candidates: Vec<(u32, bool)>) -> String {
        let (history, ops) = writes();
        let failure = Failure {
            prefix,
            state: "7".into(),
            candidates,
        };
        build(&history, ModelKind::CasRegister, "k", &ops, failure).explanation
    }

    #[test]
    fn explanations_name_the_ops_that_cannot_follow_or_the_dead_ends() {
        assert_eq!(
            explain(vec![0], vec![(1, true), (2, true)]),
            "key k: after 1 ops linearized (the last: op 0, write(\"k\", 0)) the state is 7; each \
             of the 2 ops that could come next is allowed there but leads to a dead end"
        );
        assert_eq!(
            explain(vec![], vec![(1, false), (2, true)]),
            "key k: before any op is linearized the state is 7, and no op can take effect next: \
             op 1 write(\"k\", 1) (process 1) cannot"
        );
        assert_eq!(
            explain(vec![0], (1..6).map(|i| (i, i == 3)).collect()),
            "key k: after 1 ops linearized (the last: op 0, write(\"k\", 0)) the state is 7, and no \
             op can take effect next: op 1 write(\"k\", 1) (process 1), op 2 write(\"k\", 2) \
             (process 2), op 4 write(\"k\", 4) (process 4) and 1 more cannot"
        );
    }

    #[test]
    fn short_values_are_written_as_the_formatting_machinery_would() {
        let values = [
            json!(null),
            json!(0),
            json!(7),
            json!(-12),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!("x 1 y"),
            json!("it's"),
            json!("a\"b\\c"),
            json!("tab\there"),
            json!("é"),
            json!([1, "a"]),
        ];
        for v in values {
            let mut got = String::new();
            push_short(&mut got, &v);
            let want = match &v {
                Value::Null => "nil".to_string(),
                Value::String(s) => format!("{s:?}"),
                other => other.to_string(),
            };
            assert_eq!(got, want);
        }
        for p in [
            Process::Client(0),
            Process::Client(u64::MAX),
            Process::Client(99),
            Process::Client(100),
            Process::Nemesis,
        ] {
            assert_eq!(process_name(p), p.to_string());
        }
    }
}
