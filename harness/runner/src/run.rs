//! A whole run: start the cluster, set up the workload, run the main phase with the nemesis,
//! heal every fault, wait for every node to serve again, run the final reads, check, write
//! the evidence, tear down.
//!
//! Every path out (success, error, Ctrl-C or SIGTERM, a panic) ends with the faults healed
//! and the cluster torn down: Ctrl-C and SIGTERM stop the schedule and go through the heal
//! and check steps; errors tear the system down before they are returned; a panic drops the
//! system, whose `Drop` (for the local recipes) kills every server and removes the
//! namespaces and temp dirs. The runner knows no system: it starts what a recipe's
//! [`Plan`] returns, asking for the capabilities the faults need.

use crate::analyze::{check_run_dir, Checked};
use crate::interpreter::{BoundClient, Interpreter, Recorder};
use crate::options::RunSpec;
use crate::recipe::{Plan, Sut};
use crate::registry::WorkloadEntry;
use crate::store::RunDir;
use crate::Workload;
use anyhow::Context;
use faultline_checkers::recovery::RecoveryChecker;
use faultline_core::generator::{clients_nemesis, clients_only, stagger, time_limit};
use faultline_core::{Checker, Nemesis, OpType, Process, Validity};
use faultline_nemesis::{schedule, Fault, NemesisExecutor, ScheduleOptions};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub struct Outcome {
    pub checked: Checked,
    pub cancelled: bool,
}

/// Watches Ctrl-C and SIGTERM; the receiver turns true on the first.
pub fn cancel_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term_fut = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::warn!("Ctrl-C: stopping, healing and tearing down"),
            _ = term_fut => tracing::warn!("SIGTERM: stopping, healing and tearing down"),
        }
        let _ = tx.send(true);
        // Later signals must not kill us half-way through the heal.
        loop {
            let _ = tokio::signal::ctrl_c().await;
            tracing::warn!("already stopping: healing and tearing down first");
        }
    });
    rx
}

/// Every checker a run gets whatever its workload: recovery times after faults (with the
/// `--recovery-slo`). The runner adds them to a run, [`Registry::checkers_for`] to a re-check.
///
/// [`Registry::checkers_for`]: crate::Registry::checkers_for
pub fn standard_checkers(recovery_slo_s: Option<f64>) -> Vec<Box<dyn Checker>> {
    vec![Box::new(RecoveryChecker {
        slo_s: recovery_slo_s,
    })]
}

/// What a run is: the resolved options, the planned system, the workload and its options.
pub struct RunPlan<'a> {
    pub spec: RunSpec,
    pub system: Box<dyn Plan>,
    pub workload: &'a dyn WorkloadEntry,
    /// The workload's options, as test.json records them.
    pub options: Value,
    /// `--notify`: where to post when the run ends invalid or unknown (not in test.json).
    pub notify: Option<String>,
}

/// Runs one test end to end into `dir`.
pub async fn run_test(
    plan: RunPlan<'_>,
    dir: &RunDir,
    mut cancel: watch::Receiver<bool>,
) -> anyhow::Result<Outcome> {
    let RunPlan {
        spec,
        system,
        workload: entry,
        options,
        notify: _,
    } = plan;
    let faults = Arc::new(faultline_nemesis::lookup(&spec.nemesis)?);
    let mut checkers = entry.checkers(&options)?;
    checkers.extend(standard_checkers(spec.recovery_slo_s));
    tracing::info!("starting {} with {} node(s)", spec.db_masked(), spec.nodes);
    let needs = faultline_nemesis::needs(&faults);
    // The folder says what the run is from its first moment, so that a run killed (even by
    // SIGKILL) before its system is up still leaves a history `faultline analyze` can check.
    write_starting(&spec, entry, &options, dir, None)?;
    let sut = tokio::select! {
        c = system.start(&needs) => c?,
        // Dropping the start future removes whatever of the system had started.
        _ = cancel.wait_for(|c| *c) => {
            let checked = interrupted_while_starting(&spec, entry, &options, &checkers, dir)?;
            return Ok(Outcome { checked, cancelled: true });
        }
    };
    // From here on every path tears the system down (a panic drops it: its Drop cleans up).
    let result = run_started(&spec, entry, &options, &sut, &faults, dir, cancel).await;
    if let Err(e) = sut.db.collect_logs(&dir.file("nodes")) {
        tracing::warn!("collecting node logs: {e}");
    }
    let extra = match result {
        Ok(extra) => extra,
        Err(e) => {
            teardown(sut).await;
            return Err(e);
        }
    };
    let cancelled = extra["cancelled"].as_bool().unwrap_or(false);
    if !spec.keep_on_failure {
        // Tear down before checking: nothing of ours keeps running while we think.
        teardown(sut).await;
        let checked = check_run_dir(&dir.path, &checkers, extra)?;
        return Ok(Outcome { checked, cancelled });
    }
    // --keep-on-failure: check first (the system is healed and idle), keep it if it failed.
    let checked = check_run_dir(&dir.path, &checkers, extra);
    let failed = checked
        .as_ref()
        .map_or(true, |c| c.verdict != Validity::Valid);
    if failed && !cancelled {
        match sut.db.keep() {
            Ok(how) => {
                tracing::warn!("--keep-on-failure: the cluster stays up, faults healed:\n{how}");
                drop(sut);
                return Ok(Outcome {
                    checked: checked?,
                    cancelled,
                });
            }
            Err(e) => tracing::warn!("--keep-on-failure: not kept ({e}); tearing it down"),
        }
    }
    teardown(sut).await;
    Ok(Outcome {
        checked: checked?,
        cancelled,
    })
}

/// test.json as far as it is known before the system is up (no system facts, no
/// endpoints; `interrupted` when the run stopped there) and an empty history.
fn write_starting(
    spec: &RunSpec,
    entry: &dyn WorkloadEntry,
    options: &Value,
    dir: &RunDir,
    interrupted: Option<&str>,
) -> anyhow::Result<()> {
    let mut test = json!({
        "spec": spec,
        "started": chrono::Utc::now().to_rfc3339(),
        "workload": { "name": entry.name(), "options": options },
        "endpoints": [],
        "faultline_version": env!("CARGO_PKG_VERSION"),
    });
    if let Some(why) = interrupted {
        test["interrupted"] = json!(why);
    }
    dir.write_json("test.json", &test)?;
    faultline_core::HistoryWriter::create(&dir.file("history.jsonl"))?.sync()?;
    Ok(())
}

/// A run stopped (Ctrl-C, SIGTERM) while its system was starting: no op ran. Its folder
/// says so (test.json's `interrupted`), and its empty history is checked: unknown (no
/// client op), as `faultline analyze` of it says too.
fn interrupted_while_starting(
    spec: &RunSpec,
    entry: &dyn WorkloadEntry,
    options: &Value,
    checkers: &[Box<dyn Checker>],
    dir: &RunDir,
) -> anyhow::Result<Checked> {
    const WHY: &str = "while the system was starting";
    tracing::warn!("interrupted {WHY}: no op ran");
    write_starting(spec, entry, options, dir, Some(WHY))?;
    check_run_dir(
        &dir.path,
        checkers,
        json!({ "cancelled": true, "interrupted": WHY }),
    )
}

async fn teardown(sut: Sut) {
    if let Err(e) = sut.db.teardown().await {
        tracing::warn!("teardown: {e}");
    }
}

/// The run once the system is up: test.json, the workload's setup, its phases, its teardown.
/// Returns what goes into results.json under `run`.
async fn run_started(
    spec: &RunSpec,
    entry: &dyn WorkloadEntry,
    options: &Value,
    sut: &Sut,
    faults: &Arc<Vec<Box<dyn Fault>>>,
    dir: &RunDir,
    cancel: watch::Receiver<bool>,
) -> anyhow::Result<Value> {
    faultline_nemesis::check_supported(faults, sut.db.as_ref())?;
    for e in &sut.endpoints {
        tracing::info!("{} at {e}", e.node);
    }
    let workload = entry.build(options, sut, spec)?;
    dir.write_json(
        "test.json",
        &json!({
            "spec": spec,
            "started": chrono::Utc::now().to_rfc3339(),
            "db": sut.db.facts(),
            "workload": { "name": entry.name(), "options": options },
            "endpoints": sut.endpoints.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "log_patterns": sut.db.log_patterns(),
            "faultline_version": env!("CARGO_PKG_VERSION"),
        }),
    )?;
    let result = match workload.setup().await.context("setting up the workload") {
        Ok(()) => run_phases(spec, workload.as_ref(), sut, faults, dir, cancel).await,
        Err(e) => Err(e),
    };
    workload.teardown().await;
    result
}

/// Main phase with the nemesis, heal, recovery, final phase, after-run hook.
async fn run_phases(
    spec: &RunSpec,
    workload: &dyn Workload,
    sut: &Sut,
    faults: &Arc<Vec<Box<dyn Fault>>>,
    dir: &RunDir,
    cancel: watch::Receiver<bool>,
) -> anyhow::Result<Value> {
    let db = sut.db.clone();
    if !faults.is_empty() {
        // Admission: faults go only into a healthy cluster (every node ready, full membership).
        db.wait_ready(Duration::from_secs(60)).await.map_err(|e| {
            anyhow::anyhow!("admission check failed, refusing to inject faults: {e}")
        })?;
    }
    let nodes = db.nodes();
    let client_nodes = db.client_nodes();
    let clients: Vec<BoundClient> = (0..spec.concurrency)
        .map(|i| {
            let node = client_nodes[i % client_nodes.len()].clone();
            BoundClient {
                client: workload.client(&node),
                node,
            }
        })
        .collect();
    let tally = Arc::new(crate::progress::Tally::default());
    let recorder = Recorder::create(&dir.file("history.jsonl"))?.with_tally(tally.clone());
    let progress = crate::progress::start(spec.time_limit_s, tally);
    // The wall-clock time of the history's zero: node log lines are placed on its time axis.
    let history_started = chrono::Utc::now().to_rfc3339();
    let mut interp = Interpreter::new(
        recorder,
        spec.seed,
        nodes.clone(),
        spec.concurrency,
        spec.op_timeout(),
    );
    let mut executor = NemesisExecutor::new(db.clone(), faults.clone());
    if spec.nemesis_admit_each {
        executor = executor.admit_each(Duration::from_secs(spec.recovery_timeout_s));
    }
    let nemesis: Arc<dyn Nemesis> = Arc::new(executor);
    let schedule = schedule(
        faults.clone(),
        ScheduleOptions {
            interval: Duration::from_secs(spec.nemesis_interval_s),
            duration_min: Duration::from_secs(spec.nemesis_duration_s.0),
            duration_max: Duration::from_secs(spec.nemesis_duration_s.1),
            mode: spec.nemesis_mode,
            candidates: spec
                .nemesis_client_node
                .then(|| client_nodes.iter().take(1).cloned().collect()),
        },
    );
    let paced = if spec.op_interval_ms == 0 {
        workload.generator()
    } else {
        stagger(
            Duration::from_millis(spec.op_interval_ms),
            workload.generator(),
        )
    };
    let main = time_limit(
        Duration::from_secs(spec.time_limit_s),
        clients_nemesis(paced, schedule),
    );
    tracing::info!(
        "running {} for {}s, seed {}",
        spec.test,
        spec.time_limit_s,
        spec.seed
    );
    let mut bound = interp
        .run_phase(main, clients, Some(nemesis.clone()), cancel.clone())
        .await;

    // Heal everything, whatever happened, and record it.
    interp.recorder.record(
        Process::Nemesis,
        OpType::Invoke,
        "heal",
        json!({"fault": "all"}),
        None,
        None,
    );
    let healed = nemesis.heal_all().await;
    interp.recorder.record(
        Process::Nemesis,
        OpType::Info,
        "heal",
        json!({"fault": "all"}),
        None,
        healed.as_ref().err().map(|e| e.to_string()),
    );
    drop(nemesis);
    let recovery = Duration::from_secs(spec.recovery_timeout_s);
    let ready = match db.wait_ready(recovery).await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!("the cluster did not recover: {e}");
            false
        }
    };
    let cancelled = *cancel.borrow();
    if !cancelled && ready {
        if let Some(final_gen) = workload.final_generator() {
            tracing::info!("final phase");
            for b in &mut bound {
                b.client.reset();
            }
            let (_tx, no_cancel) = watch::channel(false);
            interp
                .run_phase(clients_only(final_gen), bound, None, no_cancel)
                .await;
        }
    }
    interp.recorder.sync();
    drop(progress);
    tracing::info!("{} history events", interp.recorder.ops_recorded());
    let after = if cancelled || !ready {
        Value::Null
    } else {
        workload.after_run(dir).await.unwrap_or_else(|e| {
            tracing::warn!("after the run: {e:#}");
            json!({ "error": format!("{e:#}") })
        })
    };
    let mut extra = json!({
        "cancelled": cancelled,
        "healed": healed.is_ok(),
        "recovered": ready,
        "history_started": history_started,
    });
    if let Value::Object(more) = after {
        extra.as_object_mut().expect("an object").extend(more);
    } else if !after.is_null() {
        extra["workload"] = after;
    }
    Ok(extra)
}

/// The test.json of a stored run.
pub fn read_test_json(dir: &std::path::Path) -> anyhow::Result<Value> {
    let path = dir.join("test.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (is {} a run folder?)",
            path.display(),
            dir.display()
        )
    })?;
    Ok(serde_json::from_str(&text)?)
}
