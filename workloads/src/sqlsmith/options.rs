//! The run loop's options, its report (statistics and findings) and the history recorder
//! it writes statements into.

use super::switches::SwitchProbe;
use faultline_core::{OpType, Process};
use faultline_harness::interpreter::Recorder;
use faultline_sqlsmith::metamorphic::Partitioning;
use faultline_sqlsmith::plan::PlanChange;
use faultline_sqlsmith::Config;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which oracles run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Oracles {
    pub diff: bool,
    pub tlp: bool,
    pub norec: bool,
    /// The query-plan oracle: the same query under another plan.
    pub plan: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct LoopOptions {
    pub seed: u64,
    pub statements: usize,
    pub smith: Config,
    pub oracles: Oracles,
    /// Compare every live table every this many statements (0: never).
    pub snapshot_every: usize,
    /// Run TLP / NoREC / the plan oracle every this many statements.
    pub oracle_every: usize,
    /// Stop after this many divergences / oracle failures.
    pub max_failures: usize,
    /// Reduce at most this many failures; each reduction gets `reduce_tests` replays and
    /// `reduce_timeout`.
    pub reduce: usize,
    pub reduce_tests: usize,
    pub reduce_timeout: Duration,
    /// Where reproducers go (`<dir>/repro-<n>.slt`).
    pub repro_dir: PathBuf,
    /// How TLP partitions are derived: always `Ternary`, except in the test that plants a
    /// TLP failure (`ForgetNull`).
    pub tlp_rule: Partitioning,
    /// The plan oracle's change: drawn per check (None), except in the test that plants a
    /// plan-oracle failure with a change that really alters results
    /// (`SET STATEMENT sql_select_limit=1`).
    #[serde(skip)]
    pub plan_change: Option<PlanChange>,
}

/// One divergence or oracle failure.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Finding {
    pub oracle: String,
    /// The statement stream (worker) it came from, and its statement index there.
    pub worker: usize,
    pub index: usize,
    pub sql: String,
    pub what: String,
    pub sut: String,
    pub reference: String,
    pub reproducer: Option<PathBuf>,
    pub reduced_statements: Option<usize>,
    /// The oracle's query after reduction (TLP / NoREC findings).
    pub reduced_query: Option<String>,
    /// The signature of the reduced form (its reproducer: `repro/<signature>.slt`).
    pub signature: Option<String>,
    /// The normalised shape the signature hashes.
    pub shape: Option<String>,
    /// Why the reduction stopped where it did (said when it kept more than 20 statements,
    /// or when the finding did not replay at all).
    pub reduction_note: Option<String>,
}

/// Findings grouped by signature: one entry per reduced form.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SignatureCount {
    pub signature: String,
    pub shape: String,
    /// The oracle of the representative (the finding reduced furthest).
    pub oracle: String,
    /// Every oracle that saw it (TLP, NoREC and the plan oracle share signatures).
    pub oracles: Vec<String>,
    /// How many findings have it, and which (statement indexes of their worker's stream).
    pub count: usize,
    pub findings: Vec<usize>,
    /// The workers whose streams found it (with --workers).
    pub workers: Vec<usize>,
    /// The smallest reduced statement count among them.
    pub statements: Option<usize>,
    /// The report of the bug it belongs to (`repro/bug-<id>.md`; its `.slt` is
    /// `repro/<signature>.slt`).
    pub report: Option<PathBuf>,
    /// A wrong result's failing condition on its own (see `signature::condition_shape`).
    pub condition: Option<String>,
    /// The `optimizer_switch` flags that clear it (None: not probed).
    pub switches: Option<SwitchProbe>,
    /// The bug it was grouped into.
    pub bug: Option<String>,
    /// The representative's server version and its report section (how to repeat,
    /// expected, actual), for the bug's report.
    #[serde(skip)]
    pub version: String,
    #[serde(skip)]
    pub form_md: String,
}

/// Signatures grouped into bugs: the same failing condition needing the same optimizer
/// features, whatever FROM clause it was reduced over. One report per bug.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Bug {
    /// `bug-<fnv32>` of the grouping key (a differential finding: its signature).
    pub id: String,
    /// Its forms, the representative (smallest reduction) first.
    pub signatures: Vec<String>,
    pub condition: Option<String>,
    pub switches: Option<SwitchProbe>,
    /// Findings over all its forms, and every oracle that saw it.
    pub count: usize,
    pub oracles: Vec<String>,
    /// The representative's statement count.
    pub statements: Option<usize>,
    /// `repro/bug-<id>.md`.
    pub report: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub statements: usize,
    pub by_kind: BTreeMap<String, u64>,
    pub sut_errors: BTreeMap<u16, u64>,
    pub syntax_errors: u64,
    pub unknown: u64,
    pub compared: u64,
    pub snapshots: u64,
    pub tlp_checks: u64,
    /// Aggregate TLP checks (COUNT / SUM / MIN / MAX where the identity is exact).
    pub tlp_agg_checks: u64,
    pub norec_checks: u64,
    pub plan_checks: u64,
    /// Plan-oracle checks per kind of plan change (both queries answered).
    pub plan_changes: BTreeMap<String, u64>,
    pub oracle_skipped: u64,
    pub retired: Vec<String>,
    pub elapsed_s: f64,
    pub statements_per_s: f64,
    /// TLP, aggregate TLP, NoREC and plan checks per second.
    pub oracle_checks_per_s: f64,
    /// Per construct of `faultline_sqlsmith::coverage::CONSTRUCTS` (every one, zeros
    /// included): statements generated with it, and those the system under test executed
    /// without an error.
    pub coverage: BTreeMap<String, Coverage>,
}

/// How often one construct was generated and executed without an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub generated: u64,
    pub ok: u64,
}

impl Stats {
    pub fn syntax_error_rate(&self) -> f64 {
        self.syntax_errors as f64 / self.statements.max(1) as f64
    }

    /// The oracle checks of every kind.
    pub fn oracle_checks(&self) -> u64 {
        self.tlp_checks + self.tlp_agg_checks + self.norec_checks + self.plan_checks
    }

    /// Counts the constructs of one statement; `ok`: it ran without an error.
    pub fn cover(&mut self, sql: &str, ok: bool) {
        for c in faultline_sqlsmith::coverage::constructs(sql) {
            let e = self.coverage.entry(c.to_string()).or_default();
            e.generated += 1;
            e.ok += u64::from(ok);
        }
    }

    /// Sets the rates from `elapsed_s` (and lists every construct, zeros included).
    pub fn set_rates(&mut self, elapsed_s: f64) {
        for c in faultline_sqlsmith::coverage::CONSTRUCTS {
            self.coverage.entry(c.to_string()).or_default();
        }
        self.elapsed_s = elapsed_s;
        self.statements_per_s = self.statements as f64 / elapsed_s.max(1e-9);
        self.oracle_checks_per_s = self.oracle_checks() as f64 / elapsed_s.max(1e-9);
    }

    /// Adds another stream's statistics (side by side: the elapsed time is the longer).
    pub fn add(&mut self, o: &Stats) {
        self.statements += o.statements;
        for (k, v) in &o.by_kind {
            *self.by_kind.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.sut_errors {
            *self.sut_errors.entry(*k).or_default() += v;
        }
        for (k, v) in &o.plan_changes {
            *self.plan_changes.entry(k.clone()).or_default() += v;
        }
        self.syntax_errors += o.syntax_errors;
        self.unknown += o.unknown;
        self.compared += o.compared;
        self.snapshots += o.snapshots;
        self.tlp_checks += o.tlp_checks;
        self.tlp_agg_checks += o.tlp_agg_checks;
        self.norec_checks += o.norec_checks;
        self.plan_checks += o.plan_checks;
        self.oracle_skipped += o.oracle_skipped;
        self.retired.extend(o.retired.iter().cloned());
        for (k, v) in &o.coverage {
            let e = self.coverage.entry(k.clone()).or_default();
            e.generated += v.generated;
            e.ok += v.ok;
        }
        self.set_rates(self.elapsed_s.max(o.elapsed_s));
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct LoopReport {
    pub stats: Stats,
    pub findings: Vec<Finding>,
    /// Distinct signatures of the reduced findings, most frequent first.
    pub signatures: Vec<SignatureCount>,
    /// The signatures grouped into bugs, most frequent first (filled once the streams'
    /// reports are merged).
    pub bugs: Vec<Bug>,
}

pub type SharedRecorder = Arc<Mutex<Recorder>>;

/// Records one op of client 0 (no-op without a recorder).
pub(super) fn record(
    rec: Option<&SharedRecorder>,
    kind: OpType,
    f: &str,
    value: serde_json::Value,
    error: Option<String>,
) {
    if let Some(r) = rec {
        if let Ok(mut r) = r.lock() {
            r.record(Process::Client(0), kind, f, value, None, error);
        }
    }
}
