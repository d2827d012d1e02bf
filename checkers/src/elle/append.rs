//! List-append inference: version orders from reads, non-cycle anomalies, ww/wr/rw edges.
//!
//! Every read of a committed transaction returns a prefix of its key's version order, so
//! the longest read of a key *is* that order up to its length, and every other read must be
//! a prefix of it (else `incompatible-order`). From the order: `ww` between the writers of
//! adjacent elements; for each external read (the first access to a key in its txn), `wr`
//! from the writer of its last element and `rw` to the writer of the next element.
//!
//! Appends no read observed: as in Elle (`previously-appended-element`), such an append
//! still came *after* the highest observed element of its key (every read is a prefix of
//! the order, and the append is in none of them), so it gets a `ww` edge from that
//! element's writer and an `rw` edge from every reader of that element (of the empty list
//! when nothing was observed). They stay unordered among themselves. Without this, a
//! write skew whose appends nobody read back would pass as valid.
//!
//! Reads that disagree with the order (`incompatible-order`) still give their `wr` edge
//! (who wrote the last element is a fact) and the `rw` edge Elle draws from the position
//! of that element in the longest read; `ww` edges follow the longest read for every key.
//! A read with duplicate elements offers its deduplicated list as a version order, as in
//! Elle (`distinct` of the longest read).
//!
//! Non-cycle anomalies found here: `duplicate-elements`, `internal`, `G1a` (read an element
//! of a failed txn), `G1b` (read ended at an element its writer later appended past),
//! `dirty-update` (a committed append after a failed one), `incompatible-order`,
//! `lost-update` (two committed txns read the same version of a key and both appended to
//! it), `future-read` (a txn read an element it appends only later), and `garbage-read`
//! (read an element no transaction appended).

use super::anomalies::{list, Sink};
use super::fx::{map_with_capacity, FxMap, FxSet};
use super::graph::{RW, WR, WW};
use super::history::{Mop, ReadValue, Status, Txn};
use super::infer::{Inference, UNOBSERVED};
use super::written::WrittenIndex;

const EMPTY: &[i64] = &[];
/// No writer: an element no transaction appended.
const NONE: u32 = u32::MAX;
/// In a packed writer: it was the writer's last append to the key.
const LAST: u32 = 1 << 31;

/// A packed writer (`writer | LAST` if it was its last append to the key, or [`NONE`]):
/// the writer and whether it was its last append.
fn unpack(w: u32) -> (u32, bool) {
    if w == NONE {
        (NONE, true)
    } else {
        (w & !LAST, w & LAST != 0)
    }
}

fn read_list(t: &Txn, mi: u16) -> &[i64] {
    match &t.mops()[mi as usize] {
        Mop::Read {
            value: ReadValue::List(l),
            ..
        } => l,
        _ => EMPTY,
    }
}

/// Good reads per chunk (36 MB: the allocator maps a chunk this large on its own, so
/// freeing it gives the memory back).
const READ_CHUNK: usize = 9 << 19;

/// A read usable for inference: (txn, micro-op, external?).
struct GoodRead {
    txn: u32,
    mop: u16,
    external: bool,
}

/// Per-key state while walking one transaction: its last read (if any) and own appends
/// since.
struct KeyState {
    key: i64,
    read: Option<u16>,
    after: Vec<i64>,
}

pub fn infer(txns: &[Txn], sink: &mut Sink) -> Inference {
    let mut inf = Inference::default();
    let mut bad_keys: FxSet<i64> = FxSet::default();
    // Whether each txn failed, packed: looking it up in `txns` is a cache miss per edge.
    let aborted: Vec<bool> = txns.iter().map(|t| t.status == Status::Fail).collect();
    let mut written = WrittenIndex::build(txns);
    super::check::probe("written index");
    // Values appended twice to a key, and who appended each last while walking the history
    // (the precondition names both appenders, in history order, as a map's insert would).
    let mut dups: FxMap<(i64, i64), Option<u32>> = written
        .duplicates()
        .into_iter()
        .map(|kv| (kv, None))
        .collect();
    // In chunks, each freed as soon as the wr/rw pass has walked it (that pass is where
    // the inference peaks: the edges grow while the reads are still held).
    let mut reads: Vec<Vec<GoodRead>> = Vec::new();
    // Per key, its longest read: (txn, micro-op, length); the length is kept so that
    // offering a read does not look at the current longest's txn (a cache miss).
    let mut longest: FxMap<i64, (u32, u16, usize)> = map_with_capacity(1024);
    let mut state: Vec<KeyState> = Vec::new();
    for (ti, t) in txns.iter().enumerate() {
        for m in t.mops().iter() {
            match m {
                Mop::Append { key, value } => {
                    let prev = match dups.get_mut(&(*key, *value)) {
                        Some(seen) => seen.replace(ti as u32),
                        None => None,
                    };
                    if let Some(prev) = prev {
                        bad_keys.insert(*key);
                        let other = txns[prev as usize].name();
                        inf.precondition(|| {
                            format!("value {value} was appended to key {key} twice ({other} and {}); appended values must be unique per key, so key {key} is not analysed", t.name())
                        });
                    }
                }
                Mop::Write { .. }
                | Mop::Read {
                    value: ReadValue::Int(_),
                    ..
                } => {
                    inf.precondition(|| {
                        format!(
                            "{} has a register micro-op in a list-append history",
                            t.name()
                        )
                    });
                }
                Mop::Read { .. } => {}
            }
        }
        if t.status != Status::Ok {
            continue;
        }
        // Internal consistency; collect the reads inference may trust. (One pass with
        // the index above: each txn's micro-ops are visited while in cache. Reads of keys
        // found bad later are dropped after the loop.)
        // Entries (and their buffers) are reused from txn to txn: `used` are live.
        let mut used = 0;
        let mut future = false;
        for (mi, m) in t.mops().iter().enumerate() {
            let key = m.key();
            let si = match state[..used].iter().position(|s| s.key == key) {
                Some(i) => i,
                None => {
                    if used == state.len() {
                        state.push(KeyState {
                            key,
                            read: None,
                            after: Vec::new(),
                        });
                    } else {
                        let s = &mut state[used];
                        s.key = key;
                        s.read = None;
                        s.after.clear();
                    }
                    used += 1;
                    used - 1
                }
            };
            let s = &mut state[si];
            match m {
                Mop::Append { value, .. } => {
                    // Values are unique per key, so a read that already holds this
                    // element observed a write from its own future.
                    if !future {
                        if let Some(r) = s.read {
                            let l = read_list(t, r);
                            if l.contains(value) {
                                future = true;
                                sink.simple("future-read", &[t], || {
                                    format!("{} read key {key} = {}, which holds {value}, an element it appends only later (future read)", t.name(), list(l))
                                });
                            }
                        }
                    }
                    s.after.push(*value)
                }
                Mop::Read { .. } => {
                    let l = read_list(t, mi as u16);
                    let external = s.read.is_none() && s.after.is_empty();
                    // Duplicates are looked for later, and only in reads that are not a
                    // prefix of the (distinct) version order: no other read can have any.
                    let prior = s.read.map(|r| read_list(t, r)).unwrap_or(EMPTY);
                    let consistent = match s.read {
                        Some(_) => {
                            l.len() == prior.len() + s.after.len()
                                && l[..prior.len()] == *prior
                                && l[prior.len()..] == s.after[..]
                        }
                        None => l.ends_with(&s.after),
                    };
                    if !consistent {
                        let expected = if s.read.is_some() {
                            format!(
                                "{} followed by its own appends {}",
                                list(prior),
                                list(&s.after)
                            )
                        } else {
                            format!("a list ending with its own appends {}", list(&s.after))
                        };
                        sink.simple("internal", &[t], || {
                            format!("{} read key {key} = {}, but its own earlier micro-ops imply {expected}", t.name(), list(l))
                        });
                        duplicates(sink, t, key, l);
                        // What the database returned still shows an order (as in Elle).
                        offer(&mut longest, txns, key, ti as u32, mi as u16);
                        continue;
                    }
                    s.read = Some(mi as u16);
                    s.after.clear();
                    if reads.last().is_none_or(|c| c.len() >= READ_CHUNK) {
                        let cap = if reads.is_empty() { txns.len() } else { 0 };
                        reads.push(Vec::with_capacity(cap.min(READ_CHUNK)));
                    }
                    let chunk = reads.last_mut().expect("pushed above");
                    chunk.push(GoodRead {
                        txn: ti as u32,
                        mop: mi as u16,
                        external,
                    });
                    offer(&mut longest, txns, key, ti as u32, mi as u16);
                }
                Mop::Write { .. } => {}
            }
        }
    }

    if !bad_keys.is_empty() {
        for chunk in &mut reads {
            chunk
                .retain(|r| !bad_keys.contains(&txns[r.txn as usize].mops()[r.mop as usize].key()));
        }
        longest.retain(|k, _| !bad_keys.contains(k));
    }

    // Version orders: the longest read of each key, duplicates dropped (first kept).
    let mut order: FxMap<i64, Vec<i64>> = map_with_capacity(longest.len());
    // Per key, the first position of the order holding a garbage or aborted element.
    let mut first_bad: FxMap<i64, usize> = FxMap::default();
    // Per key and position of the order: the writer (NONE: garbage) and whether it was
    // its last append to the key. Reads that are prefixes of the order (almost all) then
    // need no look-up per element in `written`, whose random access dominates.
    let mut who: FxMap<i64, Vec<u32>> = map_with_capacity(longest.len());
    // Per txn, how many of its appends some read observed, saturating at `u8::MAX` (exact
    // below it, which is all the unobserved-append pass needs to skip a txn).
    let mut observed: Vec<u8> = vec![0; txns.len()];
    for (&key, &(ti, mi, _)) in &longest {
        let raw = read_list(&txns[ti as usize], mi);
        let l = if first_duplicate(raw).is_some() {
            let mut seen = FxSet::default();
            raw.iter().copied().filter(|v| seen.insert(*v)).collect()
        } else {
            raw.to_vec()
        };
        let mut w_of = Vec::with_capacity(l.len());
        for (i, v) in l.iter().enumerate() {
            match written.get_mut(key, *v) {
                Some(w) => {
                    w.set_pos(i as u32);
                    w_of.push(w.writer | if w.last_in_txn() { LAST } else { 0 });
                    let o = &mut observed[w.writer as usize];
                    *o = o.saturating_add(1);
                    if aborted[w.writer as usize] {
                        first_bad.entry(key).or_insert(i);
                    }
                }
                None => {
                    w_of.push(NONE);
                    first_bad.entry(key).or_insert(i);
                }
            }
        }
        order.insert(key, l);
        who.insert(key, w_of);
    }

    super::check::probe("version orders");
    // Per-read anomalies and wr/rw edges.
    let mut garbage: FxSet<(i64, i64)> = FxSet::default();
    let mut incompatible: FxSet<i64> = FxSet::default();
    // (key, version read, txn) for reads of txns that also append to the key; sorted and
    // grouped afterwards (a vector, not a map of vectors: one allocation, not millions).
    let mut same_version: Vec<(i64, Option<i64>, u32)> = Vec::new();
    let mut last_readers: FxMap<i64, Vec<u32>> = FxMap::default();
    for r in reads.into_iter().flat_map(Vec::into_iter) {
        let t = &txns[r.txn as usize];
        let key = t.mops()[r.mop as usize].key();
        let l = read_list(t, r.mop);
        let ord = &order[&key];
        let compatible = ord.len() >= l.len() && ord[..l.len()] == *l;
        if !compatible && duplicates(sink, t, key, l) {
            // Who wrote the last element is still a fact (Elle's wr); nothing else is.
            if let Some(w) = l.last().and_then(|v| written.get(key, *v)) {
                if w.writer != r.txn && !aborted[w.writer as usize] {
                    inf.edges.add(w.writer, r.txn, WR);
                }
            }
            continue;
        }
        if !compatible && incompatible.insert(key) {
            let (lt, lm, _) = longest[&key];
            let other = &txns[lt as usize];
            sink.simple("incompatible-order", &[t, other], || {
                format!("{} read key {key} = {} and {} read key {key} = {}: neither is a prefix of the other, so they cannot come from one version order", t.name(), list(l), other.name(), list(read_list(other, lm)))
            });
        }
        // A prefix of the order shorter than its first bad element holds none: skip the
        // per-element look-ups (most reads of a valid history).
        let clean = compatible && first_bad.get(&key).is_none_or(|&b| l.len() <= b);
        for &v in l.iter().filter(|_| !clean) {
            match written.get(key, v) {
                None => {
                    if garbage.insert((key, v)) {
                        sink.simple("garbage-read", &[t], || {
                            format!("{} read key {key} = {}, but no transaction appended {v} to key {key}", t.name(), list(l))
                        });
                    }
                }
                Some(w) if aborted[w.writer as usize] => {
                    let wt = &txns[w.writer as usize];
                    sink.simple("G1a", &[t, wt], || {
                        format!("{} read key {key} = {}, which includes {v}, appended by {}, which failed (aborted read)", t.name(), list(l), wt.name())
                    });
                }
                Some(_) => {}
            }
        }
        // The writer of the last element and its position in the order.
        let last: Option<(u32, bool, Option<usize>)> = match l.last() {
            None => None,
            Some(_) if compatible => {
                let (w, lt) = unpack(who[&key][l.len() - 1]);
                (w != NONE).then_some((w, lt, Some(l.len() - 1)))
            }
            Some(&v) => written.get(key, v).map(|w| {
                let pos = (w.pos() != UNOBSERVED).then_some(w.pos() as usize);
                (w.writer, w.last_in_txn(), pos)
            }),
        };
        if let (Some(&v), Some((w, last_in_txn, _))) = (l.last(), last) {
            let wt = &txns[w as usize];
            if w != r.txn && !last_in_txn && !aborted[w as usize] {
                sink.simple("G1b", &[t, wt], || {
                    format!("{} read key {key} = {}, ending at {v}, an intermediate append of {}, which appended again to key {key} later (intermediate read)", t.name(), list(l), wt.name())
                });
            }
        }
        if !r.external {
            continue;
        }
        if t.mops()
            .iter()
            .any(|m| matches!(m, Mop::Append { key: k, .. } if *k == key))
        {
            same_version.push((key, l.last().copied(), r.txn));
        }
        // Where the read ends in the order: the element after it was written next.
        let next = match last {
            None if l.is_empty() => Some(0),
            None => None,
            Some((w, _, pos)) => {
                if !aborted[w as usize] {
                    inf.edges.add(w, r.txn, WR);
                }
                pos.map(|p| p + 1)
            }
        };
        match next {
            Some(n) if n < ord.len() => {
                let (w, _) = unpack(who[&key][n]);
                if w != NONE && !aborted[w as usize] {
                    inf.edges.add(r.txn, w, RW);
                }
            }
            // The read saw the highest observed element: every unobserved append of
            // the key overwrote what it saw.
            Some(_) => last_readers.entry(key).or_default().push(r.txn),
            None => {}
        }
    }

    // Only the passes below run from here: free what they do not need first.
    drop(longest);
    super::check::probe("wr/rw edges");
    unobserved_edges(
        txns,
        &written,
        &order,
        &last_readers,
        &bad_keys,
        &observed,
        &mut inf,
    );
    // The written index is dropped here, not kept as evidence: it is the largest
    // structure of the check and is needed only to explain cycles, so the checker
    // rebuilds it with [`written_index`] when there is a cycle to explain. (Before the
    // ww edges below are added: the inference peaks while edges grow.)
    drop(written);
    drop(observed);

    // ww edges and dirty updates along each version order.
    for (&key, ord) in &order {
        let mut prev: Option<u32> = None;
        let mut failed: Option<(u32, i64)> = None;
        for (&v, &packed) in ord.iter().zip(&who[&key]) {
            let (writer, _) = unpack(packed);
            if writer == NONE {
                prev = None;
                continue;
            }
            if aborted[writer as usize] {
                failed.get_or_insert((writer, v));
                prev = None;
                continue;
            }
            // An indeterminate append may not have committed either: the dirty update is
            // the next committed one (as Elle's dirty-update-cases). (`failed` is rare:
            // only then is the txn itself looked at.)
            if failed.is_some() && txns[writer as usize].status == Status::Ok {
                if let Some((f, fv)) = failed.take() {
                    let wt = &txns[writer as usize];
                    let ft = &txns[f as usize];
                    sink.simple("dirty-update", &[ft, wt], || {
                        format!("{} appended {v} to key {key} after {fv}, which was appended by {}, which failed (dirty update)", wt.name(), ft.name())
                    });
                }
            }
            if let Some(p) = prev {
                inf.edges.add(p, writer, WW);
            }
            prev = Some(writer);
        }
    }

    same_version.sort_unstable();
    for group in same_version.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        if group.len() < 2 {
            continue;
        }
        let (key, version) = (group[0].0, group[0].1);
        let ts: Vec<&Txn> = group.iter().map(|g| &txns[g.2 as usize]).collect();
        let names: Vec<String> = ts.iter().map(|t| t.name()).collect();
        sink.simple("lost-update", &ts, || {
            let v = version.map_or("the empty list".to_string(), |v| format!("the version ending in {v}"));
            format!("{} all read {v} of key {key} and then appended to key {key}: each update was based on the same version (lost update)", names.join(", "))
        });
    }
    inf.evidence.order = order;
    inf
}

/// The written index of a history for explanations: each append's writer, whether it
/// was the writer's last append to the key, and its position in `order`. The same as the
/// index [`infer`] builds (later duplicates win, as there).
pub fn written_index(txns: &[Txn], order: &FxMap<i64, Vec<i64>>) -> WrittenIndex {
    let mut written = WrittenIndex::build(txns);
    written.set_positions(order);
    written
}

/// Offers a read as the key's longest (a longer read replaces a shorter one).
fn offer(longest: &mut FxMap<i64, (u32, u16, usize)>, txns: &[Txn], key: i64, ti: u32, mi: u16) {
    let len = read_list(&txns[ti as usize], mi).len();
    let e = longest.entry(key).or_insert((ti, mi, len));
    if e.2 < len {
        *e = (ti, mi, len);
    }
}

/// Edges to appends no read observed (see the module docs): `ww` from the writer of the
/// key's highest observed element, `rw` from each external reader of that element (of the
/// empty list when the key was only ever read empty). Keys never read get none: nothing
/// is known to precede their appends.
#[allow(clippy::too_many_arguments)]
fn unobserved_edges(
    txns: &[Txn],
    written: &WrittenIndex,
    order: &FxMap<i64, Vec<i64>>,
    last_readers: &FxMap<i64, Vec<u32>>,
    bad_keys: &FxSet<i64>,
    observed: &[u8],
    inf: &mut Inference,
) {
    for (ti, t) in txns.iter().enumerate() {
        if t.status == Status::Fail {
            continue;
        }
        let appends = t
            .mops()
            .iter()
            .filter(|m| matches!(m, Mop::Append { .. }))
            .count();
        // A saturated count says nothing: such a txn is checked append by append.
        if appends < u8::MAX as usize && observed[ti] as usize >= appends {
            continue;
        }
        let ti = ti as u32;
        for (mi, m) in t.mops().iter().enumerate() {
            let Mop::Append { key, value } = m else {
                continue;
            };
            // Two unobserved appends of one txn to one key get the same edges once.
            let unobserved = |k: &i64, v: &i64| {
                written
                    .get(*k, *v)
                    .is_some_and(|w| w.pos() == UNOBSERVED && w.writer == ti)
            };
            if t.mops()[..mi].iter().any(
                |p| matches!(p, Mop::Append { key: k, value: v } if k == key && unobserved(k, v)),
            ) {
                continue;
            }
            let Some(w) = written.get(*key, *value) else {
                continue;
            };
            if w.pos() != UNOBSERVED || w.writer != ti || bad_keys.contains(key) {
                continue;
            }
            let Some(ord) = order.get(key) else { continue };
            if let Some(prev) = ord.last().and_then(|v| written.get(*key, *v)) {
                if txns[prev.writer as usize].status != Status::Fail {
                    inf.edges.add(prev.writer, ti, WW);
                }
            }
            for &r in last_readers.get(key).map(Vec::as_slice).unwrap_or(&[]) {
                inf.edges.add(r, ti, RW);
            }
        }
    }
}

/// Reports `duplicate-elements` if the read holds an element twice; says whether it did.
fn duplicates(sink: &mut Sink, t: &Txn, key: i64, l: &[i64]) -> bool {
    let Some(dup) = first_duplicate(l) else {
        return false;
    };
    sink.simple("duplicate-elements", &[t], || {
        format!(
            "{} read key {key} = {} in which {dup} appears more than once",
            t.name(),
            list(l)
        )
    });
    true
}

fn first_duplicate(l: &[i64]) -> Option<i64> {
    if l.len() < 32 {
        for (i, a) in l.iter().enumerate() {
            if l[i + 1..].contains(a) {
                return Some(*a);
            }
        }
        return None;
    }
    let mut seen = FxSet::default();
    l.iter().copied().find(|&v| !seen.insert(v))
}
