//! Jepsen's set checkers, for histories of `add` ops (one element each) and `read` ops
//! (every element present at that moment).
//!
//! - [`SetChecker`] is Jepsen's `checker/set`: the last ok read against the adds. An element
//!   whose add was acknowledged but is missing from it is **lost**; an element in it that no
//!   add ever attempted is **unexpected**; an attempted but unacknowledged add (info, or
//!   fail) that is present was **recovered** (it happened). Lost or unexpected is invalid;
//!   no ok read at all is unknown.
//! - [`SetFullChecker`] is Jepsen's `checker/set-full`: every read, element by element. An
//!   element is **stable** when some read that began after the last read that missed it saw
//!   it, **lost** when it was known to exist (its add was acknowledged or a read saw it)
//!   and a read that began after both that and the last read that saw it missed it, and
//!   **never read** otherwise. A lost element is invalid; no stable element is unknown;
//!   with `linearizable`, a **stale** element (stable only some time after it was known) is
//!   invalid too. Two things go beyond Jepsen's code, and neither changes a verdict on a
//!   history Jepsen's tests use: an element in a read that no add had attempted by the time the read completed is
//!   *unexpected* and invalid (Jepsen's set-full ignores such elements), and an element
//!   twice in one read is *duplicated* and invalid (Jepsen's set-full means to flag it, but
//!   its test `(< v 1)` never holds).
//!
//! Elements are integers, or any other value compared by its JSON text.

use crate::elle::import::to_json;
use crate::jepsen_op::{forms, nil_process, op_head, op_of};
use faultline_core::{CheckResult, Checker, History, Op, OpType, Process, Validity};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many elements are listed per outcome in a result's details.
const SHOWN: usize = 20;

/// One element of the set: an integer, or another value by its JSON text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Element {
    Int(i64),
    Other(String),
}

impl Element {
    pub fn of(v: &Value) -> Element {
        v.as_i64()
            .map(Element::Int)
            .unwrap_or_else(|| Element::Other(v.to_string()))
    }

    fn to_json(&self) -> Value {
        match self {
            Element::Int(i) => Value::from(*i),
            Element::Other(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        }
    }
}

/// The elements of a read's value (a JSON array; anything else reads as empty).
fn read_elements(v: &Value) -> Vec<Element> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(Element::of)
        .collect()
}

fn shown<'a>(xs: impl IntoIterator<Item = &'a Element>) -> Value {
    Value::Array(xs.into_iter().take(SHOWN).map(Element::to_json).collect())
}

/// Jepsen's `checker/set` (see the module doc).
pub struct SetChecker;

impl Checker for SetChecker {
    fn name(&self) -> &str {
        "set"
    }

    fn check(&self, history: &History) -> CheckResult {
        let client = || history.client_ops().filter(|o| o.f == "add");
        let attempted: BTreeSet<Element> = client()
            .filter(|o| o.is_invoke())
            .map(|o| Element::of(&o.value))
            .collect();
        let acknowledged: BTreeSet<Element> = client()
            .filter(|o| o.is_ok())
            .map(|o| Element::of(&o.value))
            .collect();
        let Some(read) = history
            .client_ops()
            .filter(|o| o.f == "read" && o.is_ok())
            .last()
        else {
            return CheckResult::new(
                "set",
                Validity::Unknown,
                "no read succeeded: nothing to compare the adds with (Jepsen: set was never read)",
                Value::Null,
            );
        };
        let read: BTreeSet<Element> = read_elements(&read.value).into_iter().collect();
        let ok: BTreeSet<&Element> = read.intersection(&attempted).collect();
        let unexpected: Vec<&Element> = read.difference(&attempted).collect();
        let lost: Vec<&Element> = acknowledged.difference(&read).collect();
        let recovered: Vec<&Element> = ok
            .iter()
            .copied()
            .filter(|e| !acknowledged.contains(e))
            .collect();
        let valid = if lost.is_empty() && unexpected.is_empty() {
            Validity::Valid
        } else {
            Validity::Invalid
        };
        let summary = if valid == Validity::Valid {
            format!(
                "{} acknowledged adds all in the final read; {} unacknowledged add(s) recovered",
                acknowledged.len(),
                recovered.len()
            )
        } else {
            format!(
                "{} acknowledged add(s) lost, {} unexpected element(s): the database lost \
                 acknowledged writes or returned values nobody wrote",
                lost.len(),
                unexpected.len()
            )
        };
        CheckResult::new(
            "set",
            valid,
            summary,
            json!({
                "attempt_count": attempted.len(),
                "acknowledged_count": acknowledged.len(),
                "ok_count": ok.len(),
                "read_count": read.len(),
                "lost_count": lost.len(), "lost": shown(lost.iter().copied()),
                "unexpected_count": unexpected.len(), "unexpected": shown(unexpected.iter().copied()),
                "recovered_count": recovered.len(), "recovered": shown(recovered.iter().copied()),
            }),
        )
    }
}

/// Jepsen's `checker/set-full` (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct SetFullChecker {
    /// Jepsen's `:linearizable?`: a stale element (a read that began after the element was
    /// known missed it) is invalid.
    pub linearizable: bool,
}

/// What is known of one element, as positions in the history.
#[derive(Default)]
struct ElementState {
    /// The op that first made the element known: its add's ok, or the first read that saw it.
    known: Option<usize>,
    /// The invocation of the latest-invoked ok read that saw the element.
    last_present: Option<usize>,
    /// The invocation of the latest-invoked ok read that missed it.
    last_absent: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Stable,
    Lost,
    NeverRead,
}

/// One element's outcome and latencies (milliseconds, as Jepsen truncates them).
struct ElementResult {
    element: Element,
    outcome: Outcome,
    stable_latency: Option<u64>,
    lost_latency: Option<u64>,
}

fn later(current: Option<usize>, candidate: usize) -> Option<usize> {
    Some(current.map_or(candidate, |c| c.max(candidate)))
}

/// An element's outcome from what the reads showed of it (Jepsen's
/// `set-full-element-results`).
fn element_result(ops: &[Op], element: Element, s: &ElementState) -> ElementResult {
    let pos = |o: Option<usize>| o.map_or(-1, |i| i as i64);
    let stable = s.last_present.is_some() && pos(s.last_absent) < pos(s.last_present);
    let lost = match (s.known, s.last_absent) {
        (Some(known), Some(absent)) => pos(s.last_present) < absent as i64 && known < absent,
        _ => false,
    };
    let known_time = s.known.map_or(0, |k| ops[k].time);
    let latency = |from: Option<usize>| {
        let at = from.map_or(0, |i| ops[i].time + 1);
        at.saturating_sub(known_time) / 1_000_000
    };
    ElementResult {
        element,
        outcome: if stable {
            Outcome::Stable
        } else if lost {
            Outcome::Lost
        } else {
            Outcome::NeverRead
        },
        stable_latency: stable.then(|| latency(s.last_absent)),
        lost_latency: lost.then(|| latency(s.last_present)),
    }
}

/// Jepsen's `frequency-distribution` at 0, 0.5, 0.95, 0.99 and 1.
fn distribution(mut xs: Vec<u64>) -> Value {
    if xs.is_empty() {
        return Value::Null;
    }
    xs.sort_unstable();
    let n = xs.len();
    let mut m = serde_json::Map::new();
    for p in [0.0, 0.5, 0.95, 0.99, 1.0] {
        let i = ((n as f64 * p).floor() as usize).min(n - 1);
        m.insert(p.to_string(), Value::from(xs[i]));
    }
    Value::Object(m)
}

impl Checker for SetFullChecker {
    fn name(&self) -> &str {
        "set-full"
    }

    fn check(&self, history: &History) -> CheckResult {
        let ops = &history.ops;
        let pairs = history.pairs();
        let mut elements: BTreeMap<Element, ElementState> = BTreeMap::new();
        let mut unexpected: BTreeSet<Element> = BTreeSet::new();
        let mut duplicated: BTreeMap<Element, usize> = BTreeMap::new();
        for (i, op) in ops.iter().enumerate() {
            if !op.is_client() {
                continue;
            }
            match (op.f.as_str(), op.kind) {
                ("add", OpType::Invoke) => {
                    // Every element an add attempted so far is a key of `elements`.
                    elements.insert(Element::of(&op.value), ElementState::default());
                }
                ("add", OpType::Ok) => {
                    if let Some(s) = elements.get_mut(&Element::of(&op.value)) {
                        s.known.get_or_insert(i);
                    }
                }
                ("read", OpType::Ok) => {
                    let inv = pairs[i].unwrap_or(i);
                    let mut seen: BTreeMap<Element, usize> = BTreeMap::new();
                    for e in read_elements(&op.value) {
                        *seen.entry(e).or_default() += 1;
                    }
                    for (e, n) in &seen {
                        if *n > 1 {
                            let d = duplicated.entry(e.clone()).or_default();
                            *d = (*d).max(*n);
                        }
                        if !elements.contains_key(e) {
                            unexpected.insert(e.clone());
                        }
                    }
                    for (e, s) in elements.iter_mut() {
                        if seen.contains_key(e) {
                            s.known.get_or_insert(i);
                            s.last_present = later(s.last_present, inv);
                        } else {
                            s.last_absent = later(s.last_absent, inv);
                        }
                    }
                }
                _ => {}
            }
        }
        let results: Vec<ElementResult> = elements
            .into_iter()
            .map(|(e, s)| element_result(ops, e, &s))
            .collect();
        let of = |o: Outcome| results.iter().filter(move |r| r.outcome == o);
        let lost: Vec<&Element> = of(Outcome::Lost).map(|r| &r.element).collect();
        let never_read: Vec<&Element> = of(Outcome::NeverRead).map(|r| &r.element).collect();
        let stable = of(Outcome::Stable).count();
        let mut stale: Vec<&ElementResult> = of(Outcome::Stable)
            .filter(|r| r.stable_latency.unwrap_or(0) > 0)
            .collect();
        stale.sort_by_key(|r| std::cmp::Reverse(r.stable_latency));
        let valid = if !lost.is_empty() || !unexpected.is_empty() || !duplicated.is_empty() {
            Validity::Invalid
        } else if stable == 0 {
            Validity::Unknown
        } else if self.linearizable && !stale.is_empty() {
            Validity::Invalid
        } else {
            Validity::Valid
        };
        let summary = match valid {
            Validity::Valid => format!(
                "{stable} of {} attempted element(s) stable, none lost; {} stale, {} never read",
                results.len(),
                stale.len(),
                never_read.len()
            ),
            Validity::Unknown => format!(
                "no element was ever stable ({} attempted, {} never read): nothing is decided",
                results.len(),
                never_read.len()
            ),
            _ => {
                let mut parts = Vec::new();
                if !lost.is_empty() {
                    parts.push(format!(
                        "{} element(s) lost: known to exist, then missed by every read that began later",
                        lost.len()
                    ));
                }
                if !unexpected.is_empty() {
                    parts.push(format!(
                        "{} unexpected element(s) that no add attempted",
                        unexpected.len()
                    ));
                }
                if !duplicated.is_empty() {
                    parts.push(format!("{} element(s) twice in one read", duplicated.len()));
                }
                if self.linearizable && !stale.is_empty() && parts.is_empty() {
                    parts.push(format!(
                        "{} stale element(s): a read that began after the element was known missed it (linearizable)",
                        stale.len()
                    ));
                }
                parts.join("; ")
            }
        };
        let worst: Vec<Value> = stale
            .iter()
            .take(8)
            .map(|r| json!({"element": r.element.to_json(), "stable_latency_ms": r.stable_latency}))
            .collect();
        let dup: serde_json::Map<String, Value> = duplicated
            .iter()
            .take(SHOWN)
            .map(|(e, n)| (e.to_json().to_string(), Value::from(*n)))
            .collect();
        CheckResult::new(
            "set-full",
            valid,
            summary,
            json!({
                "attempt_count": results.len(),
                "stable_count": stable,
                "lost_count": lost.len(), "lost": shown(lost.iter().copied()),
                "never_read_count": never_read.len(), "never_read": shown(never_read.iter().copied()),
                "stale_count": stale.len(), "stale": shown(stale.iter().map(|r| &r.element)),
                "worst_stale": worst,
                "unexpected_count": unexpected.len(), "unexpected": shown(&unexpected),
                "duplicated_count": duplicated.len(), "duplicated": dup,
                "stable_latencies_ms": distribution(results.iter().filter_map(|r| r.stable_latency).collect()),
                "lost_latencies_ms": distribution(results.iter().filter_map(|r| r.lost_latency).collect()),
                "linearizable": self.linearizable,
            }),
        )
    }
}

/// An error in a Jepsen set history, with its line.
#[derive(Debug, thiserror::Error)]
#[error("Jepsen set history line {line}: {message}")]
pub struct SetImportError {
    pub line: usize,
    pub message: String,
}

/// Reads a Jepsen set history (EDN or JSON, by its first character; ops with or without
/// `:process`, `:time` and `:index`) into our convention: `add` ops carry their element,
/// ok `read` ops the elements as a JSON array. Nemesis ops stay nemesis ops.
pub fn jepsen_set_history(text: &str) -> Result<History, SetImportError> {
    let forms = forms(text).map_err(|(line, message)| SetImportError { line, message })?;
    let nil_process = Process::Client(nil_process(&forms));
    let mut ops = Vec::with_capacity(forms.len());
    for (line, form) in &forms {
        let err = |message: String| SetImportError {
            line: *line,
            message,
        };
        let head = op_head(form, nil_process).map_err(err)?;
        let value = form.get("value").map(to_json).unwrap_or(Value::Null);
        let read = head.f == Some("read") && head.kind == OpType::Ok;
        if read && !head.process.is_nemesis() && !value.is_array() {
            return Err(err(format!(
                "an ok read's value must be a set or vector of elements, found {value}"
            )));
        }
        ops.push(op_of(form, ops.len(), head, value));
    }
    Ok(History::new(ops))
}
