//! The check driver: prepare, run one search per key in parallel, combine the verdicts.
//! A kv key whose ops never overlap is replayed instead ([`super::replay`]).
//!
//! Keys are handed out to `threads` workers (std::thread::scope) largest first. The first
//! key found not linearizable cancels the others: the verdict is invalid whatever they say
//! (and the parts not started yet are never built).
//! A time or memory budget that runs out ends every search with the verdict unknown and a
//! report of which keys were done and which were left.

use super::counterexample::{build, Counterexample};
use super::model::SeqModel;
use super::prepare::{collect, prepare, Part, PartSource, PrepareError, Prepared, PreparedOp};
use super::wgl::{search, Abort, Budget, Outcome, Scratch, SearchResult};
use super::ModelKind;
use faultline_core::{CheckResult, Checker, History, Validity};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Default memory budget for the memo of one check: 2 GiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 2 << 30;

thread_local! {
    /// Search buffers of the calling thread, kept between checks (see `run_parts`).
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Histories with fewer ops than this are checked on the calling thread.
const SMALL_HISTORY: usize = 1000;
/// At most this many key names are listed as unfinished or failed in a report.
const MAX_LISTED_KEYS: usize = 100;

/// How to check: the model, the budgets and the register's initial value.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearizableOptions {
    pub model: ModelKind,
    /// Wall-clock budget for the whole check; `None` means no limit.
    pub timeout: Option<Duration>,
    /// Bytes the memo of visited configurations may hold, summed over concurrent keys.
    pub memory_budget: usize,
    /// The value every key holds before the first write; `None` is nil (nothing written).
    pub initial_value: Option<Value>,
    /// Worker threads; 0 means the machine's available parallelism.
    pub threads: usize,
}

impl Default for LinearizableOptions {
    fn default() -> Self {
        LinearizableOptions {
            model: ModelKind::CasRegister,
            timeout: None,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            initial_value: None,
            threads: 0,
        }
    }
}

/// The outcome of a check, with what was learned. Serialised into `CheckResult::details`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearizabilityReport {
    pub valid: Validity,
    pub model: ModelKind,
    pub summary: String,
    pub keys: usize,
    pub keys_linearizable: usize,
    /// Keys proven not linearizable (usually one: the first failure stops the rest).
    pub keys_not_linearizable: Vec<String>,
    /// Keys not decided (budget ran out or stopped after a failure), at most 100 listed.
    pub keys_unfinished: Vec<String>,
    pub keys_unfinished_count: usize,
    /// Why keys are unfinished: "timeout", "memory" or "stopped after a failure".
    pub unfinished_reason: Option<String>,
    pub ops: usize,
    /// Distinct (linearized set, state) configurations explored over all keys.
    pub configurations: u64,
    pub elapsed_ms: f64,
    pub counterexample: Option<Counterexample>,
    /// Why the history could not be checked at all (unsupported op, malformed value).
    pub error: Option<String>,
}

impl LinearizabilityReport {
    pub fn to_check_result(&self) -> CheckResult {
        let mut details = serde_json::to_value(self).unwrap_or(Value::Null);
        // The report embeds `details.html` as is: the counterexample's timeline.
        if let (Some(cx), Some(o)) = (&self.counterexample, details.as_object_mut()) {
            o.insert(
                "html".into(),
                Value::String(super::render_counterexample_html(cx)),
            );
        }
        CheckResult::new("linearizable", self.valid, self.summary.clone(), details)
    }
}

/// The linearizability checker for the runner and `faultline analyze`.
#[derive(Clone, Debug)]
pub struct LinearizableChecker {
    pub model: ModelKind,
    pub check_timeout: Option<Duration>,
    pub memory_budget: usize,
    pub initial_value: Option<Value>,
}

impl LinearizableChecker {
    pub fn new(model: ModelKind) -> Self {
        LinearizableChecker {
            model,
            check_timeout: None,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            initial_value: None,
        }
    }

    pub fn options(&self) -> LinearizableOptions {
        LinearizableOptions {
            model: self.model,
            timeout: self.check_timeout,
            memory_budget: self.memory_budget,
            initial_value: self.initial_value.clone(),
            threads: 0,
        }
    }
}

impl Checker for LinearizableChecker {
    fn name(&self) -> &str {
        "linearizable"
    }
    fn check(&self, history: &History) -> CheckResult {
        check(history, &self.options()).to_check_result()
    }
}

enum KeyOutcome {
    Linearizable,
    Failed(Box<Counterexample>),
    Aborted(Abort),
    NotRun,
}

struct KeyResult<'h> {
    key: Cow<'h, str>,
    outcome: KeyOutcome,
    configurations: usize,
}

/// Checks `history` for linearizability. Never panics on odd input: what cannot be
/// checked is reported as unknown with [`LinearizabilityReport::error`].
pub fn check(history: &History, opts: &LinearizableOptions) -> LinearizabilityReport {
    let start = Instant::now();
    let budget = Budget {
        deadline: opts.timeout.map(|t| start + t),
        memory_limit: opts.memory_budget,
        memory_used: AtomicUsize::new(0),
        cancel: AtomicBool::new(false),
    };
    let threads = if opts.threads == 0 {
        static CORES: OnceLock<usize> = OnceLock::new();
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    } else {
        opts.threads
    };
    let collected = match collect(history, opts.model) {
        Ok(c) => c,
        Err(e) => return error_report(opts.model, e, start),
    };
    let prepared = prepare(&collected, history, opts.model, opts.initial_value.as_ref());
    let (results, ops) = match prepared {
        Err(e) => return error_report(opts.model, e, start),
        Ok(Prepared::Register(parts)) => run_parts(parts, &budget, threads, history, opts.model),
        Ok(Prepared::Kv(parts)) => run_parts(parts, &budget, threads, history, opts.model),
    };
    summarise(opts.model, results, ops, start)
}

fn error_report(model: ModelKind, e: PrepareError, start: Instant) -> LinearizabilityReport {
    LinearizabilityReport {
        valid: Validity::Unknown,
        model,
        summary: format!("unknown: cannot check this history against the {model} model: {e}"),
        keys: 0,
        keys_linearizable: 0,
        keys_not_linearizable: Vec::new(),
        keys_unfinished: Vec::new(),
        keys_unfinished_count: 0,
        unfinished_reason: None,
        ops: 0,
        configurations: 0,
        elapsed_ms: start.elapsed().as_secs_f64() * 1e3,
        counterexample: None,
        error: Some(e.to_string()),
    }
}

fn run_one<'h, M: SeqModel>(
    part: &mut Part<'h, M>,
    budget: &Budget,
    history: &History,
    kind: ModelKind,
    scratch: &mut Scratch,
) -> KeyResult<'h> {
    let r = search(&mut part.model, &part.ops, budget, scratch);
    let key = std::mem::take(&mut part.key);
    key_result(key, r, &part.ops, budget, history, kind)
}

/// What a search (or a replay) of one key's `ops` found. The first key found not
/// linearizable stops the others.
fn key_result<'h, O: Copy>(
    key: Cow<'h, str>,
    r: SearchResult,
    ops: &[PreparedOp<O>],
    budget: &Budget,
    history: &History,
    kind: ModelKind,
) -> KeyResult<'h> {
    let outcome = match r.outcome {
        Outcome::Linearizable => KeyOutcome::Linearizable,
        Outcome::Aborted(a) => KeyOutcome::Aborted(a),
        Outcome::NotLinearizable(f) => {
            budget.cancel.store(true, Ordering::Relaxed);
            KeyOutcome::Failed(Box::new(build(history, kind, &key, ops, f)))
        }
    };
    KeyResult {
        key,
        outcome,
        configurations: r.configurations,
    }
}

/// `part` replayed without its model, if it can be.
fn replayed<'h, S: PartSource<'h>>(
    part: &S,
    budget: &Budget,
    history: &History,
    kind: ModelKind,
) -> Option<KeyResult<'h>> {
    let r = part.replay(budget)?;
    Some(key_result(
        part.key(),
        r.result,
        &r.ops,
        budget,
        history,
        kind,
    ))
}

fn run_parts<'h, S: PartSource<'h>>(
    mut parts: Vec<S>,
    budget: &Budget,
    threads: usize,
    history: &History,
    kind: ModelKind,
) -> (Vec<KeyResult<'h>>, usize) {
    let ops = parts.iter().map(S::ops).sum();
    parts.sort_by_key(|p| std::cmp::Reverse(p.ops()));
    // Spawning threads costs tens of microseconds: more than checking a small history.
    let threads = if ops < SMALL_HISTORY {
        1
    } else {
        threads.clamp(1, parts.len().max(1))
    };
    if threads == 1 {
        let mut out = Vec::with_capacity(parts.len());
        // The calling thread keeps its search buffers for its next check: a caller that
        // checks many small histories (a test suite, a fuzzer) should not pay a dozen
        // allocations per check. What is kept is bounded ([`Scratch::keep`]).
        let mut scratch = SCRATCH
            .with(|s| s.try_borrow_mut().ok().map(|mut s| std::mem::take(&mut *s)))
            .unwrap_or_default();
        let mut previous = None;
        for part in parts {
            if budget.cancel.load(Ordering::Relaxed) {
                out.push(not_run(part.key()));
                continue;
            }
            if let Some(r) = replayed(&part, budget, history, kind) {
                out.push(r);
                continue;
            }
            let mut part = match previous.take() {
                Some(p) => part.rebuild(p),
                None => part.build_with_room(ops),
            };
            out.push(run_one(&mut part, budget, history, kind, &mut scratch));
            previous = Some(part);
        }
        if scratch.keep() {
            SCRATCH.with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    *s = scratch;
                }
            });
        }
        return (out, ops);
    }
    let slots: Vec<Mutex<Option<S>>> = parts.into_iter().map(|p| Mutex::new(Some(p))).collect();
    let results: Mutex<Vec<KeyResult<'h>>> = Mutex::new(Vec::with_capacity(slots.len()));
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut scratch = Scratch::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = slots.get(i) else { break };
                    let Some(part) = slot.lock().ok().and_then(|mut g| g.take()) else {
                        continue;
                    };
                    let r = if budget.cancel.load(Ordering::Relaxed) {
                        not_run(part.key())
                    } else if let Some(r) = replayed(&part, budget, history, kind) {
                        r
                    } else {
                        run_one(&mut part.build(), budget, history, kind, &mut scratch)
                    };
                    if let Ok(mut g) = results.lock() {
                        g.push(r);
                    }
                }
            });
        }
    });
    (results.into_inner().unwrap_or_default(), ops)
}

fn not_run(key: Cow<'_, str>) -> KeyResult<'_> {
    KeyResult {
        key,
        outcome: KeyOutcome::NotRun,
        configurations: 0,
    }
}

fn summarise(
    model: ModelKind,
    results: Vec<KeyResult<'_>>,
    ops: usize,
    start: Instant,
) -> LinearizabilityReport {
    let keys = results.len();
    let mut linearizable = 0;
    let mut configurations = 0u64;
    // Only the keys not proven linearizable are named, in key order; the others are
    // counted.
    let mut named = Vec::new();
    for r in results {
        configurations += r.configurations as u64;
        match r.outcome {
            KeyOutcome::Linearizable => linearizable += 1,
            _ => named.push((number(&r.key), r)),
        }
    }
    // Keys are distinct, so this order is total.
    named.sort_unstable_by(|(m, a), (n, b)| m.cmp(n).then_with(|| a.key.cmp(&b.key)));
    let mut failed = Vec::new();
    let mut unfinished = Vec::new();
    let mut reason: Option<&str> = None;
    let mut counterexample = None;
    for (_, r) in named {
        match r.outcome {
            KeyOutcome::Linearizable => {}
            KeyOutcome::Failed(cx) => {
                failed.push(r.key.into_owned());
                counterexample.get_or_insert(*cx);
            }
            KeyOutcome::Aborted(a) => {
                unfinished.push(r.key.into_owned());
                let why = match a {
                    Abort::Timeout => "timeout",
                    Abort::Memory => "memory",
                    Abort::Cancelled => "stopped after a failure",
                };
                // A budget running out explains more than a cancellation does.
                if reason.is_none() || reason == Some("stopped after a failure") {
                    reason = Some(why);
                }
            }
            KeyOutcome::NotRun => {
                unfinished.push(r.key.into_owned());
                reason.get_or_insert("stopped after a failure");
            }
        }
    }
    let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    let unfinished_count = unfinished.len();
    let (valid, summary) = if let Some(cx) = &counterexample {
        // As `format!` would write it, without the formatting machinery (the explanation
        // is long).
        let mut summary = String::with_capacity(cx.explanation.len() + model.name().len() + 22);
        summary.push_str("not linearizable (");
        summary.push_str(model.name());
        summary.push_str("): ");
        summary.push_str(&cx.explanation);
        (Validity::Invalid, summary)
    } else if unfinished_count > 0 {
        let why = match reason {
            Some("timeout") => "the time budget ran out",
            Some("memory") => "the memory budget ran out",
            _ => "the check was stopped",
        };
        (
            Validity::Unknown,
            format!(
                "unknown ({model}): {why} with {linearizable} of {keys} keys proven linearizable, {unfinished_count} left undecided"
            ),
        )
    } else {
        (
            Validity::Valid,
            format!("linearizable ({model}): {keys} keys, {ops} ops checked in {elapsed_ms:.1} ms"),
        )
    };
    unfinished.truncate(MAX_LISTED_KEYS);
    failed.truncate(MAX_LISTED_KEYS);
    LinearizabilityReport {
        valid,
        model,
        summary,
        keys,
        keys_linearizable: linearizable,
        keys_not_linearizable: failed,
        keys_unfinished: unfinished,
        keys_unfinished_count: unfinished_count,
        unfinished_reason: reason.map(str::to_string),
        ops,
        configurations,
        elapsed_ms,
        counterexample,
        error: None,
    }
}

/// Sort key that puts "2" before "10" (and numbers before other keys, which then sort as
/// text).
fn number(k: &str) -> (u8, i128) {
    match k.parse::<i128>() {
        Ok(n) => (0, n),
        Err(_) => (1, 0),
    }
}
