//! Plain-language explanations of cycles: one sentence per edge, naming the key and values
//! that prove it, and a Graphviz `.dot` text per cycle.
//!
//! Evidence is recomputed from the transactions and the inferred version orders only for
//! the few cycles that are explained, so the graph itself carries no per-edge payload.

use super::anomalies::{list, Anomaly, TxnRef};
use super::cycles::Step;
use super::graph::{kind_name, PROCESS, REALTIME, RW, WR, WW};
use super::history::{Mop, ReadValue, Txn};
use super::infer::Evidence;

/// The last value a read observed: `None` for nil or an empty list.
fn last_seen(v: &ReadValue) -> Option<i64> {
    match v {
        ReadValue::Nil => None,
        ReadValue::Int(i) => Some(*i),
        ReadValue::List(l) => l.last().copied(),
    }
}

fn show_read(v: &ReadValue) -> String {
    match v {
        ReadValue::Nil => "nil".into(),
        ReadValue::Int(i) => i.to_string(),
        ReadValue::List(l) => list(l),
    }
}

fn writes(t: &Txn) -> impl Iterator<Item = (i64, i64, &'static str)> + '_ {
    t.mops().iter().filter_map(|m| match m {
        Mop::Append { key, value } => Some((*key, *value, "appended")),
        Mop::Write { key, value } => Some((*key, *value, "wrote")),
        Mop::Read { .. } => None,
    })
}

fn reads(t: &Txn) -> impl Iterator<Item = (i64, &ReadValue)> + '_ {
    t.mops().iter().filter_map(|m| match m {
        Mop::Read { key, value } => Some((*key, value)),
        _ => None,
    })
}

fn wrote(verb: &str, key: i64, v: i64) -> String {
    if verb == "appended" {
        format!("appended {v} to key {key}")
    } else {
        format!("wrote key {key} = {v}")
    }
}

/// One sentence saying why `a` precedes `b` by an edge of `kind`.
pub fn edge_sentence(a: &Txn, b: &Txn, kind: u8, ev: &Evidence) -> String {
    let (an, bn) = (a.name(), b.name());
    let tail = format!("so {an} precedes {bn} ({})", kind_name(kind));
    match kind {
        WW => {
            for (k, v, verb) in writes(a) {
                for (k2, w, verb2) in writes(b) {
                    if k == k2 && ev.follows(k, Some(v), w) {
                        let next = if ev.unobserved(k, w) {
                            format!("which no read shows, so it came after {v}, the last element of key {k} any read shows")
                        } else {
                            format!("the next version of key {k}")
                        };
                        return format!(
                            "{an} {}; {bn} {}, {next}, {tail}",
                            wrote(verb, k, v),
                            wrote(verb2, k, w)
                        );
                    }
                }
            }
        }
        WR => {
            for (k, r) in reads(b) {
                if let Some(v) = last_seen(r) {
                    if let Some((_, _, verb)) = writes(a).find(|&(k2, v2, _)| k2 == k && v2 == v) {
                        return format!(
                            "{an} {}; {bn} read key {k} = {}, which shows it, {tail}",
                            wrote(verb, k, v),
                            show_read(r)
                        );
                    }
                }
            }
        }
        RW => {
            for (k, r) in reads(a) {
                let seen = last_seen(r);
                for (k2, w, verb) in writes(b) {
                    if k == k2 && ev.follows(k, seen, w) {
                        let why = if ev.unobserved(k, w) {
                            ", which no read shows, so it came after everything any read shows"
                        } else {
                            ""
                        };
                        return format!(
                            "{bn} {}{why}; {an} read key {k} = {} without it, {tail}",
                            wrote(verb, k, w),
                            show_read(r)
                        );
                    }
                }
            }
        }
        PROCESS => {
            return format!(
                "{an} and {bn} ran on process {}, {an} first, {tail}",
                a.process()
            );
        }
        REALTIME => {
            let done = a.complete_pos().map_or("?".into(), |p| p.to_string());
            return format!("{an} completed (history position {done}) before {bn} was invoked (position {}), {tail}", b.invoke_pos);
        }
        _ => {}
    }
    format!("{an} precedes {bn} ({})", kind_name(kind))
}

/// An explained cycle: its transactions, a sentence per edge, and its dot text.
pub fn cycle(class: &str, steps: &[Step], txns: &[Txn], ev: &Evidence) -> Anomaly {
    let mut explanation: Vec<String> = steps
        .iter()
        .map(|&(a, b, k)| edge_sentence(&txns[a as usize], &txns[b as usize], k, ev))
        .collect();
    let names: Vec<String> = steps.iter().map(|s| txns[s.0 as usize].name()).collect();
    explanation.push(format!(
        "{} -> {}: a cycle, so no order of these transactions explains what they saw ({class})",
        names.join(" -> "),
        names[0]
    ));
    Anomaly {
        class: class.to_string(),
        txns: steps
            .iter()
            .map(|s| TxnRef::of(&txns[s.0 as usize]))
            .collect(),
        explanation,
        dot: Some(dot(class, steps, txns)),
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz text for one cycle.
pub fn dot(class: &str, steps: &[Step], txns: &[Txn]) -> String {
    let mut s = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        escape(class)
    );
    for &(a, _, _) in steps {
        let t = &txns[a as usize];
        let label = format!(
            "{} (process {}, {:?})\\n{}",
            t.name(),
            t.process(),
            t.status,
            escape(&t.mops_json().to_string())
        );
        s.push_str(&format!("  \"{}\" [label=\"{}\"];\n", t.name(), label));
    }
    for &(a, b, k) in steps {
        let color = match k {
            WW => "black",
            WR => "blue",
            RW => "red",
            PROCESS => "darkgreen",
            _ => "orange",
        };
        s.push_str(&format!(
            "  \"{}\" -> \"{}\" [label=\"{}\", color={color}, fontcolor={color}];\n",
            txns[a as usize].name(),
            txns[b as usize].name(),
            kind_name(k)
        ));
    }
    s.push_str("}\n");
    s
}

/// At most this many transactions of a component are listed in a report.
const LISTED: usize = 20;

fn listed(comp: &[u32], txns: &[Txn]) -> Vec<TxnRef> {
    comp.iter()
        .take(LISTED)
        .map(|&v| TxnRef::of(&txns[v as usize]))
        .collect()
}

/// A component whose search for some classes ran out of budget (Elle's
/// cycle-search-timeout): those classes are neither found nor ruled out there.
pub fn search_timeout(classes: &[&str], comp: &[u32], txns: &[Txn]) -> Anomaly {
    Anomaly {
        class: "cycle-search-timeout".into(),
        txns: listed(comp, txns),
        explanation: vec![format!(
            "the search for {} ran out of budget in a strongly connected component of {} transactions; those classes are neither found nor ruled out there",
            classes.join(", "),
            comp.len()
        )],
        dot: None,
    }
}

/// Proof that a cycle of `spec`'s edges exists among `comp` (Elle's cycle-exists).
pub fn cycle_exists(spec: &super::exists::ExistsSpec, comp: &[u32], txns: &[Txn]) -> Anomaly {
    Anomaly {
        class: spec.anomaly.into(),
        txns: listed(comp, txns),
        explanation: vec![format!(
            "these {} transactions are strongly connected by edges of kinds {}, so a cycle of those edges exists among them and {} does not hold (the cycle itself was not extracted)",
            comp.len(),
            spec.subgraph,
            spec.model
        )],
        dot: None,
    }
}

/// No edge of the kinds the model needs could be inferred (Elle's
/// empty-transaction-graph): nothing was learned, so the verdict cannot be valid.
pub fn empty_graph(kinds: &[&str]) -> Anomaly {
    Anomaly {
        class: "empty-transaction-graph".into(),
        txns: Vec::new(),
        explanation: vec![format!(
            "no dependency between transactions could be inferred (no {} edges), so the history says nothing about the model",
            kinds.join("/")
        )],
        dot: None,
    }
}
