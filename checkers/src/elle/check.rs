//! The checker: runs the pipeline and turns its findings into a verdict and a report.

use super::anomalies::{Anomaly, Sink};
use super::cycles::{self, Found};
use super::graph::{self, Graph, ALL};
use super::history::{Status, Txns};
use super::scc::SccFinder;
use super::{append, exists, explain, models, register, ElleError, Workload};
use faultline_core::{CheckResult, Checker, History, Validity};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// With `FAULTLINE_ELLE_PROBE` set, prints the process's resident memory now and at its
/// peak (VmRSS, VmHWM) after `stage`, to stderr: where a large check's memory goes.
pub(super) fn probe(stage: &str) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("FAULTLINE_ELLE_PROBE").is_some()) {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mib = |field: &str| {
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    eprintln!(
        "elle memory after {stage}: {} MiB resident, peak {} MiB",
        mib("VmRSS:"),
        mib("VmHWM:")
    );
}

/// Tuning knobs; the defaults suit histories up to millions of transactions.
#[derive(Clone, Debug)]
pub struct Options {
    /// Anomalies explained (with txns, sentences and dot) per class; all are counted.
    pub explain_limit: usize,
    /// rw-register: assume a txn's writes follow its reads (see [`super::register`]).
    pub wfr_keys: bool,
    /// Total time for cycle search; classes left unsearched are reported.
    pub search_budget: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            explain_limit: 10,
            wfr_keys: true,
            search_budget: Duration::from_secs(10),
        }
    }
}

/// The Elle-style checker for one workload and consistency model.
#[derive(Clone, Debug)]
pub struct ElleChecker {
    pub workload: Workload,
    /// Canonical model name, e.g. `serializable`.
    pub model: &'static str,
    pub options: Options,
}

/// Everything the checker found; serialised into `CheckResult.details`.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub workload: Workload,
    pub model: String,
    pub valid: Validity,
    /// Every anomaly class found, sorted.
    pub anomaly_types: Vec<String>,
    /// The found classes the model forbids (non-empty iff invalid).
    pub forbidden: Vec<String>,
    /// Occurrences per class (cycles: one per strongly connected component and class).
    pub counts: BTreeMap<String, usize>,
    /// The first few anomalies of each class, explained.
    pub anomalies: BTreeMap<String, Vec<Anomaly>>,
    /// The weakest models the anomalies rule out, and all models they rule out.
    pub not: Vec<String>,
    pub also_not: Vec<String>,
    /// Preconditions the inference relies on that did not hold.
    pub preconditions: Vec<String>,
    pub precondition_count: usize,
    /// Cycle classes whose search ran out of budget.
    pub incomplete: Vec<String>,
    pub stats: Stats,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub ok: usize,
    pub info: usize,
    pub fail: usize,
    pub edges: BTreeMap<String, usize>,
    pub sccs: usize,
    pub largest_scc: usize,
    pub infer_ms: u128,
    pub graph_ms: u128,
    pub cycles_ms: u128,
}

impl ElleChecker {
    /// A checker for `workload` against `model` (Elle's names: serializable,
    /// strict-serializable, snapshot-isolation, repeatable-read, read-committed, ...).
    pub fn new(workload: Workload, model: &str) -> Result<Self, ElleError> {
        let model = models::canonical(model).ok_or_else(|| {
            let known: Vec<&str> = models::all_models().into_iter().collect();
            ElleError::UnknownModel(model.to_string(), known.join(", "))
        })?;
        Ok(ElleChecker {
            workload,
            model,
            options: Options::default(),
        })
    }

    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Reads a history.jsonl (or run directory) on the typed fast path and checks it.
    pub fn check_file(&self, path: &Path) -> Result<CheckResult, ElleError> {
        Ok(self.check_txns(&super::history::read_jsonl(path)?))
    }

    pub fn check_txns(&self, txns: &Txns) -> CheckResult {
        let a = self.analyze(txns);
        let summary = summary(&a);
        let valid = a.valid;
        let details = serde_json::to_value(&a).unwrap_or_default();
        CheckResult::new("elle", valid, summary, details)
    }

    /// The dependency graph's edges, as `(from, to, kind)` with positions in `txns.txns`:
    /// what the cycle search works on, for tests and debugging.
    pub fn edges(&self, txns: &Txns) -> BTreeSet<(usize, usize, &'static str)> {
        let ts = &txns.txns;
        let mut sink = Sink::new(0);
        let inf = match self.workload {
            Workload::Append => append::infer(ts, &mut sink),
            Workload::RwRegister => register::infer(ts, &mut sink, self.options.wfr_keys),
        };
        let g = Graph::with_order_edges(ts, inf.edges);
        let mut out = BTreeSet::new();
        for a in 0..ts.len() as u32 {
            for i in g.out_range(a) {
                let (b, k) = g.edge(i);
                out.insert((a as usize, b as usize, graph::kind_name(k)));
            }
        }
        out
    }

    /// Runs the whole pipeline.
    pub fn analyze(&self, txns: &Txns) -> Analysis {
        let t0 = Instant::now();
        let ts = &txns.txns;
        // Inference indexes a transaction's micro-ops in 16 bits; a longer transaction is
        // refused (unknown) rather than misread.
        if let Some(t) = ts.iter().find(|t| t.mops().len() > MAX_MOPS_PER_TXN) {
            return self.refused(format!(
                "{} has {} micro-ops: at most {MAX_MOPS_PER_TXN} per transaction can be checked",
                t.name(),
                t.mops().len()
            ));
        }
        let mut sink = Sink::new(self.options.explain_limit);
        let mut inf = match self.workload {
            Workload::Append => append::infer(ts, &mut sink),
            Workload::RwRegister => register::infer(ts, &mut sink, self.options.wfr_keys),
        };
        let t1 = Instant::now();
        probe("inference");
        let g = Graph::with_order_edges(ts, std::mem::take(&mut inf.edges));
        probe("graph");
        let mut finder = SccFinder::new(ts.len());
        let sccs = finder.all(&g, ALL);
        probe("scc");
        if !sccs.is_empty() && self.workload == Workload::Append {
            inf.evidence.written = append::written_index(ts, &inf.evidence.order);
        }
        let t2 = Instant::now();
        let deadline = t2 + self.options.search_budget;
        let mut incomplete = BTreeSet::new();
        let mut proofs = Vec::new();
        for scc in &sccs {
            let mut timed_out = Vec::new();
            // As in Elle, a class another class found here already implies is not
            // searched (a G-single is a G-single-process too): it would say nothing new.
            let mut implied = BTreeSet::new();
            for spec in cycles::specs() {
                if implied.contains(spec.name) {
                    continue;
                }
                match cycles::find(&g, &mut finder, scc, &spec, deadline) {
                    Found::Cycle(steps) => {
                        implied.extend(models::implied(spec.name));
                        sink.add(spec.name, || {
                            explain::cycle(spec.name, &steps, ts, &inf.evidence)
                        })
                    }
                    Found::OutOfBudget => {
                        incomplete.insert(spec.name.to_string());
                        timed_out.push(spec.name);
                    }
                    Found::None => {}
                }
            }
            if !timed_out.is_empty() {
                sink.add("cycle-search-timeout", || {
                    explain::search_timeout(&timed_out, scc, ts)
                });
            }
            proofs.extend(existence(&g, &mut finder, scc));
        }
        // A cycle-exists proof is reported only when the anomalies found say less: it
        // rules out a model nothing else rules out (Elle's remove-redundant-cycle-exists).
        let found: Vec<String> = sink.classes().map(String::from).collect();
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        let (_, ruled_out) = models::boundary(&found);
        for (spec, comp) in proofs {
            if !ruled_out.contains(spec.model) {
                sink.add(spec.anomaly, || explain::cycle_exists(&spec, &comp, ts));
            }
        }
        let relevant = relevant_edges(self.model);
        if g.counts()
            .iter()
            .all(|(k, n)| *n == 0 || !relevant.contains(k))
        {
            sink.add("empty-transaction-graph", || {
                explain::empty_graph(&relevant)
            });
        }
        let t3 = Instant::now();

        let mut preconditions = txns.problems.clone();
        preconditions.extend(inf.preconditions.iter().cloned());
        let precondition_count = txns.problems.len() + inf.precondition_count;
        let forbidden_all = models::forbidden_by(self.model);
        let types: Vec<String> = sink.classes().map(String::from).collect();
        let forbidden: Vec<String> = types
            .iter()
            .filter(|t| forbidden_all.contains(*t))
            .cloned()
            .collect();
        let type_refs: Vec<&str> = types.iter().map(String::as_str).collect();
        let (not, also_not) = models::boundary(&type_refs);
        let count = |s: Status| ts.iter().filter(|t| t.status == s).count();
        let ok = count(Status::Ok);
        let valid = if !forbidden.is_empty() {
            Validity::Invalid
        } else if precondition_count > 0
            || incomplete.iter().any(|c| forbidden_all.contains(c))
            || ok == 0
            || sink.counts.contains_key("empty-transaction-graph")
        {
            Validity::Unknown
        } else {
            Validity::Valid
        };
        Analysis {
            workload: self.workload,
            model: self.model.to_string(),
            valid,
            anomaly_types: types,
            forbidden,
            counts: sink.counts,
            anomalies: sink.kept,
            not: not.into_iter().collect(),
            also_not: also_not.into_iter().collect(),
            preconditions,
            precondition_count,
            incomplete: incomplete.into_iter().collect(),
            stats: Stats {
                ok,
                info: count(Status::Info),
                fail: count(Status::Fail),
                edges: g
                    .counts()
                    .iter()
                    .map(|(k, n)| (k.to_string(), *n))
                    .collect(),
                sccs: sccs.len(),
                largest_scc: sccs.iter().map(Vec::len).max().unwrap_or(0),
                infer_ms: (t1 - t0).as_millis(),
                graph_ms: (t2 - t1).as_millis(),
                cycles_ms: (t3 - t2).as_millis(),
            },
        }
    }
}

/// The most micro-ops one transaction may have (inference indexes them in 16 bits).
pub const MAX_MOPS_PER_TXN: usize = u16::MAX as usize;

impl ElleChecker {
    /// An analysis that checked nothing: unknown, for `why`.
    fn refused(&self, why: String) -> Analysis {
        Analysis {
            workload: self.workload,
            model: self.model.to_string(),
            valid: Validity::Unknown,
            anomaly_types: Vec::new(),
            forbidden: Vec::new(),
            counts: BTreeMap::new(),
            anomalies: BTreeMap::new(),
            not: Vec::new(),
            also_not: Vec::new(),
            preconditions: vec![why],
            precondition_count: 1,
            incomplete: Vec::new(),
            stats: Stats::default(),
        }
    }
}

/// For each cycle-carrying spec (weakest first), the smallest component proving it;
/// specs whose model an earlier proof already rules out are skipped.
fn existence(
    g: &Graph,
    finder: &mut SccFinder,
    scc: &[u32],
) -> Vec<(exists::ExistsSpec, Vec<u32>)> {
    let mut out = Vec::new();
    let mut ruled_out: BTreeSet<String> = BTreeSet::new();
    for spec in exists::SPECS {
        if ruled_out.contains(spec.model) {
            continue;
        }
        if let Some(comp) = exists::smallest(g, finder, scc, &spec) {
            ruled_out.extend(models::stronger_or_equal(spec.model));
            out.push((spec, comp));
        }
    }
    out
}

/// The edge kinds whose absence means nothing could be inferred for `model` (Elle's
/// empty-transaction-graph): data edges, plus process or realtime edges when the model
/// forbids cycles through them.
fn relevant_edges(model: &str) -> Vec<&'static str> {
    let forbidden = models::forbidden_by(model);
    let mut kinds = vec!["ww", "wr", "rw"];
    if forbidden.iter().any(|a| a.ends_with("-process")) {
        kinds.push("process");
    }
    if forbidden.iter().any(|a| a.ends_with("-realtime")) {
        kinds.extend(["process", "realtime"]);
    }
    kinds.dedup();
    kinds
}

fn summary(a: &Analysis) -> String {
    let list = |classes: &mut dyn Iterator<Item = &String>| {
        classes
            .map(|c| format!("{c} x{}", a.counts[c]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let allowed: Vec<&String> = a
        .anomaly_types
        .iter()
        .filter(|t| !a.forbidden.contains(t))
        .collect();
    let mut s = format!("{} ({}): {}", a.model, a.workload, a.valid);
    if !a.forbidden.is_empty() {
        s.push_str(&format!("; forbidden: {}", list(&mut a.forbidden.iter())));
    }
    if !allowed.is_empty() {
        s.push_str(&format!(
            "; also found (allowed by the model): {}",
            list(&mut allowed.into_iter())
        ));
    }
    if a.precondition_count > 0 {
        s.push_str(&format!(
            "; {} precondition violation(s), first: {}",
            a.precondition_count, a.preconditions[0]
        ));
    }
    if !a.incomplete.is_empty() {
        s.push_str(&format!(
            "; search incomplete for {}",
            a.incomplete.join(", ")
        ));
    }
    if a.stats.ok == 0 {
        s.push_str("; no committed transactions");
    }
    s
}

impl Checker for ElleChecker {
    fn name(&self) -> &str {
        "elle"
    }

    fn check(&self, history: &History) -> CheckResult {
        self.check_txns(&Txns::from_history(history))
    }
}
