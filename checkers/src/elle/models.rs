//! Consistency models and the anomalies each forbids, following Elle's
//! `elle.consistency-model` (its model graph, `direct-proscribed-anomalies` and
//! `implied-anomalies`), so a verdict here reads the same as Elle's.
//!
//! A model forbids the anomalies it names directly, those named by every weaker model it
//! implies, and every anomaly that implies one of those (a G0 cycle is also a G1c; a
//! G-single is also a G-nonadjacent, which is also a G2). `garbage-read` is ours (Elle has
//! no name for a read of a value no one wrote): we say it implies G1a, like Elle's
//! `incompatible-order` and `dirty-update`, since any model forbidding aborted reads must
//! forbid reads of values never written.
//!
//! Every cycle this checker finds is over items: list-append and rw-register have no
//! predicate reads. So our G-single and G-nonadjacent are Elle's `G-single-item` and
//! `G-nonadjacent-item`, and they imply G2-item (and their -process / -realtime variants
//! the matching G2-item variants). Without this, repeatable-read, which forbids G2-item,
//! would let a lost update (a G-single on one key) pass.

use std::collections::{BTreeSet, VecDeque};

type Dag = &'static [(&'static str, &'static [&'static str])];

/// `a -> [b]`: every history satisfying `a` satisfies `b`.
const MODELS: Dag = &[
    (
        "strict-serializable",
        &[
            "serializable",
            "snapshot-isolation",
            "strong-snapshot-isolation",
            "strong-session-serializable",
        ],
    ),
    (
        "serializable",
        &[
            "repeatable-read",
            "snapshot-isolation",
            "update-serializable",
        ],
    ),
    ("update-serializable", &["forward-consistent-view"]),
    ("forward-consistent-view", &["consistent-view"]),
    ("consistent-view", &["cursor-stability", "monotonic-view"]),
    ("cursor-stability", &["read-committed"]),
    ("monotonic-view", &["read-committed"]),
    ("monotonic-snapshot-read", &["read-committed"]),
    ("monotonic-atomic-view", &["read-committed"]),
    ("read-committed", &["read-uncommitted"]),
    (
        "repeatable-read",
        &["cursor-stability", "monotonic-atomic-view"],
    ),
    (
        "snapshot-isolation",
        &[
            "forward-consistent-view",
            "monotonic-atomic-view",
            "monotonic-snapshot-read",
            "parallel-snapshot-isolation",
            "prefix",
        ],
    ),
    (
        "parallel-snapshot-isolation",
        &["causal-cerone", "update-atomic"],
    ),
    ("prefix", &["causal-cerone"]),
    ("causal-cerone", &["read-atomic"]),
    ("update-atomic", &["read-atomic"]),
    ("read-atomic", &["monotonic-atomic-view"]),
    ("strong-session-read-uncommitted", &["read-uncommitted"]),
    (
        "strong-session-read-committed",
        &["read-committed", "strong-session-read-uncommitted"],
    ),
    (
        "strong-read-uncommitted",
        &["strong-session-read-uncommitted"],
    ),
    (
        "strong-read-committed",
        &["strong-session-read-committed", "strong-read-uncommitted"],
    ),
    (
        "strong-session-serializable",
        &["serializable", "strong-session-snapshot-isolation"],
    ),
    (
        "strong-session-snapshot-isolation",
        &["snapshot-isolation", "strong-session-read-committed"],
    ),
    (
        "strong-snapshot-isolation",
        &["strong-session-snapshot-isolation", "strong-read-committed"],
    ),
];

const ALIASES: &[(&str, &str)] = &[
    ("strong-serializable", "strict-serializable"),
    ("conflict-serializable", "serializable"),
    ("PL-SS", "strict-serializable"),
    ("PL-3", "serializable"),
    ("PL-2.99", "repeatable-read"),
    ("PL-SI", "snapshot-isolation"),
    ("PL-2", "read-committed"),
    ("PL-1", "read-uncommitted"),
];

/// `model -> [anomaly]`: what each model forbids directly.
const PROSCRIBED: Dag = &[
    ("causal-cerone", &["internal", "G1a"]),
    ("cursor-stability", &["G1", "G-cursor", "lost-update"]),
    ("monotonic-view", &["G1", "G-monotonic"]),
    ("monotonic-snapshot-read", &["G1", "G-MSR"]),
    ("consistent-view", &["G1", "G-single"]),
    ("forward-consistent-view", &["G1", "G-SIb"]),
    ("parallel-snapshot-isolation", &["internal", "G1a"]),
    (
        "serializable",
        &["G1", "G2", "internal", "PL-3-cycle-exists"],
    ),
    ("read-committed", &["G1", "PL-2-cycle-exists"]),
    (
        "read-uncommitted",
        &[
            "G0",
            "duplicate-elements",
            "cyclic-versions",
            "PL-1-cycle-exists",
        ],
    ),
    ("prefix", &["internal", "G1a"]),
    (
        "snapshot-isolation",
        &[
            "internal",
            "G1",
            "G-SI",
            "G-nonadjacent",
            "PL-SI-cycle-exists",
        ],
    ),
    ("read-atomic", &["internal", "G1a", "future-read"]),
    (
        "repeatable-read",
        &["G1", "G2-item", "lost-update", "PL-2.99-cycle-exists"],
    ),
    ("update-atomic", &["lost-update"]),
    (
        "strict-serializable",
        &["G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"],
    ),
    (
        "strong-session-read-uncommitted",
        &["G0-process", "strong-session-PL-1-cycle-exists"],
    ),
    (
        "strong-session-read-committed",
        &["G1c-process", "strong-session-PL-2-cycle-exists"],
    ),
    (
        "strong-read-uncommitted",
        &["G0-realtime", "strong-PL-1-cycle-exists"],
    ),
    (
        "strong-read-committed",
        &["G1c-realtime", "strong-PL-2-cycle-exists"],
    ),
    (
        "strong-session-snapshot-isolation",
        &[
            "internal",
            "G1-process",
            "G-nonadjacent-process",
            "strong-session-snapshot-isolation-cycle-exists",
        ],
    ),
    (
        "strong-snapshot-isolation",
        &[
            "internal",
            "G1-realtime",
            "G-nonadjacent-realtime",
            "strong-snapshot-isolation-cycle-exists",
        ],
    ),
    (
        "strong-session-serializable",
        &[
            "G1-process",
            "G2-process",
            "strong-session-serializable-cycle-exists",
        ],
    ),
    ("update-serializable", &["G1", "G-update"]),
];

/// `a -> [b]`: finding anomaly `a` also demonstrates `b`.
const IMPLIED: Dag = &[
    ("G0", &["G1c", "G0-process"]),
    ("G0-process", &["G1c-process", "G0-realtime"]),
    ("G0-realtime", &["G1c-realtime"]),
    ("G1a", &["G1"]),
    ("G1b", &["G1"]),
    ("G1c", &["G1", "G1c-process"]),
    ("G1c-process", &["G1c-realtime", "G1-process"]),
    ("G1c-realtime", &["G1-realtime"]),
    ("G1", &["G1-process"]),
    ("G1-process", &["G1-realtime"]),
    ("G-single", &["G-nonadjacent", "G-SIb", "G-single-process"]),
    (
        "G-single-process",
        &["G-nonadjacent-process", "G-single-realtime"],
    ),
    ("G-single-realtime", &["G-nonadjacent-realtime"]),
    ("G-nonadjacent", &["G2", "G2-item", "G-nonadjacent-process"]),
    (
        "G-nonadjacent-process",
        &["G2-process", "G2-item-process", "G-nonadjacent-realtime"],
    ),
    (
        "G-nonadjacent-realtime",
        &["G2-realtime", "G2-item-realtime"],
    ),
    ("G2", &["G2-process"]),
    ("G2-item", &["G2", "G2-item-process"]),
    ("G2-item-process", &["G2-process", "G2-item-realtime"]),
    ("G2-item-realtime", &["G2-realtime"]),
    ("G2-process", &["G2-realtime"]),
    ("G-SIb", &["G-SI"]),
    ("incompatible-order", &["G1a"]),
    ("future-read", &["G1c"]),
    ("dirty-update", &["G1a"]),
    ("garbage-read", &["G1a"]),
    ("lost-update", &["write-skew", "G2-item"]),
    ("write-skew", &["G2"]),
];

fn out(dag: Dag, v: &str) -> Vec<&'static str> {
    dag.iter()
        .filter(|(a, _)| *a == v)
        .flat_map(|(_, bs)| bs.iter().copied())
        .collect()
}

fn inbound(dag: Dag, v: &str) -> Vec<&'static str> {
    dag.iter()
        .filter(|(_, bs)| bs.contains(&v))
        .map(|(a, _)| *a)
        .collect()
}

fn closure(start: Vec<&str>, next: impl Fn(&str) -> Vec<&'static str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = start.into_iter().map(String::from).collect();
    while let Some(v) = queue.pop_front() {
        if seen.insert(v.clone()) {
            queue.extend(next(&v).into_iter().map(String::from));
        }
    }
    seen
}

/// The canonical name of a model (aliases resolved), or `None` if unknown.
pub fn canonical(model: &str) -> Option<&'static str> {
    let m = ALIASES
        .iter()
        .find(|(a, _)| *a == model)
        .map_or(model, |(_, b)| *b);
    MODELS
        .iter()
        .flat_map(|(a, bs)| std::iter::once(*a).chain(bs.iter().copied()))
        .find(|x| *x == m)
}

/// Every model name this checker knows.
pub fn all_models() -> BTreeSet<&'static str> {
    MODELS
        .iter()
        .flat_map(|(a, bs)| std::iter::once(*a).chain(bs.iter().copied()))
        .collect()
}

/// Every anomaly that, found, means `model` does not hold.
pub fn forbidden_by(model: &str) -> BTreeSet<String> {
    let models = closure(vec![model], |m| out(MODELS, m));
    let direct: Vec<&str> = models.iter().flat_map(|m| out(PROSCRIBED, m)).collect();
    closure(direct, |a| inbound(IMPLIED, a))
}

/// Every anomaly that finding `anomaly` also demonstrates (itself included).
pub fn implied(anomaly: &str) -> BTreeSet<String> {
    closure(vec![anomaly], |a| out(IMPLIED, a))
}

/// `model` and every model that implies it: what a proof against `model` rules out.
pub fn stronger_or_equal(model: &str) -> BTreeSet<String> {
    closure(vec![model], |m| inbound(MODELS, m))
}

/// The weakest models the found anomalies rule out (Elle's `:not`), and all models they
/// rule out.
pub fn boundary(anomalies: &[&str]) -> (BTreeSet<String>, BTreeSet<String>) {
    let implied = closure(anomalies.to_vec(), |a| out(IMPLIED, a));
    let direct: Vec<&str> = implied
        .iter()
        .flat_map(|a| inbound(PROSCRIBED, a))
        .collect();
    let impossible = closure(direct, |m| inbound(MODELS, m));
    let weakest = impossible
        .iter()
        .filter(|m| {
            let below = closure(vec![m.as_str()], |x| out(MODELS, x));
            !below.iter().any(|b| b != *m && impossible.contains(b))
        })
        .cloned()
        .collect();
    (weakest, impossible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_forbid_as_elle_says() {
        let ser = forbidden_by("serializable");
        assert!(ser.contains("G2-item") && ser.contains("G-single") && ser.contains("G0"));
        assert!(!ser.contains("G-single-realtime") && !ser.contains("G1c-realtime"));
        let si = forbidden_by("snapshot-isolation");
        assert!(si.contains("G-single") && si.contains("lost-update") && !si.contains("G2-item"));
        let rc = forbidden_by("read-committed");
        assert!(rc.contains("G1a") && rc.contains("G1c") && rc.contains("dirty-update"));
        assert!(!rc.contains("G-single") && !rc.contains("lost-update"));
        // Item-level cycles: a lost update (G-single on one key) breaks repeatable-read.
        let rr = forbidden_by("repeatable-read");
        assert!(rr.contains("G-single") && rr.contains("G-nonadjacent") && rr.contains("G2-item"));
        assert!(!rr.contains("G-single-process") && !rr.contains("G-single-realtime"));
        let ss = forbidden_by("strict-serializable");
        assert!(ss.contains("G-single-realtime") && ss.contains("G0-realtime"));
        assert!(forbidden_by("repeatable-read").contains("lost-update"));
        assert!(forbidden_by("strong-session-snapshot-isolation").contains("G-single-process"));
    }

    #[test]
    fn boundary_of_write_skew_is_repeatable_read() {
        let (not, all) = boundary(&["G2-item"]);
        assert_eq!(not.into_iter().collect::<Vec<_>>(), ["repeatable-read"]);
        assert!(all.contains("serializable") && !all.contains("snapshot-isolation"));
        assert_eq!(canonical("PL-3"), Some("serializable"));
        assert_eq!(canonical("nope"), None);
    }
}
