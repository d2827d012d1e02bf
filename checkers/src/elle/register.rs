//! rw-register inference: what can soundly be said about version orders from reads of
//! single values, and the edges and non-cycle anomalies that follow.
//!
//! A register read shows one version, not its history, so much less is inferable than for
//! list-append. What we use, as Elle does:
//! - the initial state (nil) precedes every version of a key;
//! - writes follow reads (`wfr_keys`, on by default; Elle's `:wfr-keys?`): a committed txn
//!   that read `v` of a key and then wrote `w` to it installed `w` directly after `v`. This
//!   holds in any database that does not let a txn overwrite a version it did not read
//!   (read committed and up); turn it off for weaker systems.
//!
//! Versions are a txn's *final* write to a key; intermediate writes are not versions.
//!
//! Edges: `wr` from the writer of each externally read value; `ww` between writers of
//! directly succeeding versions; `rw` from each reader of a version to the writers of its
//! direct successors (readers of nil precede the writers of the first known versions).
//! Anomalies: `internal`, `G1a`, `G1b`, `garbage-read`, `lost-update`, and
//! `cyclic-versions` when the inferred version order is itself cyclic.

use super::anomalies::Sink;
use super::fx::{map_with_capacity, FxMap, FxSet};
use super::graph::{EdgeList, Graph, RW, WR, WW};
use super::history::{Mop, ReadValue, Status, Txn};
use super::infer::{Inference, Written, INITIAL};
use super::scc::SccFinder;

/// A register read's value: `INITIAL` for nil.
fn read_value(v: &ReadValue) -> Option<i64> {
    match v {
        ReadValue::Nil => Some(INITIAL),
        ReadValue::Int(i) => Some(*i),
        ReadValue::List(_) => None,
    }
}

fn show(v: i64) -> String {
    if v == INITIAL {
        "nil".into()
    } else {
        v.to_string()
    }
}

pub fn infer(txns: &[Txn], sink: &mut Sink, wfr_keys: bool) -> Inference {
    let mut inf = Inference::default();
    let mut bad_keys: FxSet<i64> = FxSet::default();
    let mut written: FxMap<(i64, i64), Written> = map_with_capacity(txns.len() * 2);
    for (ti, t) in txns.iter().enumerate() {
        for (mi, m) in t.mops().iter().enumerate() {
            match m {
                Mop::Write { key, value } => {
                    if *value == INITIAL {
                        inf.precondition(|| {
                            format!("{} wrote {value}, a value reserved for nil", t.name())
                        });
                        bad_keys.insert(*key);
                        continue;
                    }
                    let last = !t.mops()[mi + 1..]
                        .iter()
                        .any(|m| matches!(m, Mop::Write { key: k, .. } if k == key));
                    let w = Written::new(ti as u32, last);
                    if let Some(prev) = written.insert((*key, *value), w) {
                        bad_keys.insert(*key);
                        let other = txns[prev.writer as usize].name();
                        inf.precondition(|| format!("value {value} was written to key {key} twice ({other} and {}); written values must be unique per key, so key {key} is not analysed", t.name()));
                    }
                }
                Mop::Append { .. }
                | Mop::Read {
                    value: ReadValue::List(_),
                    ..
                } => {
                    inf.precondition(|| {
                        format!(
                            "{} has a list-append micro-op in an rw-register history",
                            t.name()
                        )
                    });
                }
                Mop::Read { .. } => {}
            }
        }
    }

    // Internal consistency; external reads; writes-follow-reads version edges.
    let mut readers: FxMap<(i64, i64), Vec<u32>> = map_with_capacity(txns.len());
    let mut next: FxMap<(i64, i64), Vec<i64>> = FxMap::default();
    let mut has_pred: FxSet<(i64, i64)> = FxSet::default();
    let mut same_version: FxMap<(i64, i64), Vec<u32>> = FxMap::default();
    let mut state: Vec<(i64, Option<i64>, Option<i64>)> = Vec::new(); // key, known, external read
    for (ti, t) in txns.iter().enumerate() {
        if t.status != Status::Ok {
            continue;
        }
        state.clear();
        for m in t.mops() {
            let key = m.key();
            let si = state.iter().position(|s| s.0 == key);
            match m {
                Mop::Write { value, .. } => match si {
                    Some(i) => state[i].1 = Some(*value),
                    None => state.push((key, Some(*value), None)),
                },
                Mop::Read { value, .. } => {
                    let Some(r) = read_value(value) else { continue };
                    match si {
                        Some(i) => {
                            let known = state[i].1.expect("state entries are known");
                            if known != r {
                                sink.simple("internal", &[t], || format!("{} read key {key} = {}, but its own earlier micro-ops imply {}", t.name(), show(r), show(known)));
                            }
                        }
                        None => {
                            state.push((key, Some(r), Some(r)));
                            if !bad_keys.contains(&key) {
                                external_read(
                                    txns,
                                    ti as u32,
                                    key,
                                    r,
                                    &written,
                                    sink,
                                    &mut inf.edges,
                                );
                                readers.entry((key, r)).or_default().push(ti as u32);
                            }
                        }
                    }
                }
                Mop::Append { .. } => {}
            }
        }
        // A txn that read a key externally and then wrote it.
        for &(key, known, ext) in &state {
            let (Some(r), Some(w)) = (ext, known) else {
                continue;
            };
            if bad_keys.contains(&key)
                || !t
                    .mops()
                    .iter()
                    .any(|m| matches!(m, Mop::Write { key: k, .. } if *k == key))
            {
                continue;
            }
            same_version.entry((key, r)).or_default().push(ti as u32);
            if wfr_keys && r != w {
                next.entry((key, r)).or_default().push(w);
                has_pred.insert((key, w));
            }
        }
    }

    // The initial state precedes every version with no other known predecessor.
    let mut versions: Vec<(i64, i64)> = written
        .iter()
        .filter(|(k, w)| {
            w.last_in_txn()
                && txns[w.writer as usize].status != Status::Fail
                && !bad_keys.contains(&k.0)
        })
        .map(|(k, _)| *k)
        .collect();
    versions.sort_unstable();
    for &(key, v) in &versions {
        if !has_pred.contains(&(key, v)) {
            next.entry((key, INITIAL)).or_default().push(v);
        }
    }
    next.retain(|(k, _), _| !bad_keys.contains(k));
    let cyclic = cyclic_versions(&next, txns, &written, sink);

    for (&(key, v), ws) in &next {
        if cyclic.contains(&key) {
            continue;
        }
        for &w in ws {
            let Some(ww) = written
                .get(&(key, w))
                .filter(|x| txns[x.writer as usize].status != Status::Fail)
            else {
                continue;
            };
            if let Some(wv) = written.get(&(key, v)) {
                if txns[wv.writer as usize].status != Status::Fail {
                    inf.edges.add(wv.writer, ww.writer, WW);
                }
            }
            for &r in readers.get(&(key, v)).map(Vec::as_slice).unwrap_or(&[]) {
                inf.edges.add(r, ww.writer, RW);
            }
        }
    }

    let mut groups: Vec<_> = same_version
        .into_iter()
        .filter(|(_, ts)| ts.len() > 1)
        .collect();
    groups.sort_unstable();
    for ((key, v), ts) in groups {
        let ts: Vec<&Txn> = ts.iter().map(|&i| &txns[i as usize]).collect();
        let names: Vec<String> = ts.iter().map(|t| t.name()).collect();
        sink.simple("lost-update", &ts, || format!("{} all read key {key} = {} and then wrote key {key}: each update was based on the same version (lost update)", names.join(", "), show(v)));
    }
    // Explanations need only `next` (the version successions), not the written index.
    drop(written);
    inf.evidence.next = next;
    inf
}

/// Checks one external read of `r` and adds its wr edge.
fn external_read(
    txns: &[Txn],
    reader: u32,
    key: i64,
    r: i64,
    written: &FxMap<(i64, i64), Written>,
    sink: &mut Sink,
    edges: &mut EdgeList,
) {
    if r == INITIAL {
        return;
    }
    let t = &txns[reader as usize];
    match written.get(&(key, r)) {
        None => sink.simple("garbage-read", &[t], || {
            format!(
                "{} read key {key} = {r}, but no transaction wrote {r} to key {key}",
                t.name()
            )
        }),
        Some(w) => {
            let wt = &txns[w.writer as usize];
            if wt.status == Status::Fail {
                sink.simple("G1a", &[t, wt], || {
                    format!(
                        "{} read key {key} = {r}, written by {}, which failed (aborted read)",
                        t.name(),
                        wt.name()
                    )
                });
                return;
            }
            if !w.last_in_txn() {
                sink.simple("G1b", &[t, wt], || format!("{} read key {key} = {r}, an intermediate write of {}, which wrote key {key} again later (intermediate read)", t.name(), wt.name()));
            }
            edges.add(w.writer, reader, WR);
        }
    }
}

/// Keys whose inferred version order has a cycle (reported as `cyclic-versions`).
fn cyclic_versions(
    next: &FxMap<(i64, i64), Vec<i64>>,
    txns: &[Txn],
    written: &FxMap<(i64, i64), Written>,
    sink: &mut Sink,
) -> FxSet<i64> {
    let mut ids: FxMap<(i64, i64), u32> = FxMap::default();
    let mut names: Vec<(i64, i64)> = Vec::new();
    let mut id = |kv: (i64, i64), names: &mut Vec<(i64, i64)>| {
        *ids.entry(kv).or_insert_with(|| {
            names.push(kv);
            names.len() as u32 - 1
        })
    };
    let mut edges = EdgeList::default();
    for (&(k, v), ws) in next {
        for &w in ws {
            let a = id((k, v), &mut names);
            let b = id((k, w), &mut names);
            edges.add(a, b, WW);
        }
    }
    let g = Graph::build(names.len(), edges);
    let mut out = FxSet::default();
    for comp in SccFinder::new(names.len()).all(&g, WW) {
        let key = names[comp[0] as usize].0;
        let mut values: Vec<i64> = comp.iter().map(|&c| names[c as usize].1).collect();
        values.sort_unstable();
        let ts: Vec<&Txn> = values
            .iter()
            .filter_map(|v| written.get(&(key, *v)))
            .map(|w| &txns[w.writer as usize])
            .collect();
        out.insert(key);
        sink.simple("cyclic-versions", &ts, || format!("the versions {values:?} of key {key} each follow another (reads and writes of the same txns imply a cyclic version order)"));
    }
    out
}
