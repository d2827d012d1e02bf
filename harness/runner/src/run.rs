//! A whole run: start the cluster, set up the workload, run the main phase with the nemesis,
//! heal every fault, wait for every node to serve again, run the final reads, check, write
//! the evidence, tear down.
//!
//! Every path out (success, error, Ctrl-C or SIGTERM, a panic) ends with the faults healed
//! and the cluster torn down: Ctrl-C and SIGTERM stop the schedule and go through the heal
//! and check steps; errors and panics drop the cluster, whose `Drop` kills every server and
//! removes the namespaces and temp dirs.

use crate::analyze::{check_run_dir, Checked};
use crate::interpreter::{BoundClient, Interpreter, Recorder};
use crate::options::RunSpec;
use crate::store::RunDir;
use crate::Workload;
use anyhow::Context;
use faultline_cluster::external::External;
use faultline_cluster::{Endpoint, GaleraOptions, LocalGalera, TidbPlayground};
use faultline_core::db::Db;
use faultline_core::generator::{clients_nemesis, clients_only, stagger, time_limit};
use faultline_core::{Nemesis, OpType, Process};
use faultline_nemesis::{schedule, NemesisExecutor, ScheduleOptions};
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

/// The system under test of a run: the database and how clients reach each node.
pub struct Sut {
    pub db: Arc<dyn Db>,
    pub endpoints: Vec<Endpoint>,
    /// The Galera provider's version, when there is one.
    pub galera_version: Option<String>,
}

/// Starts (or, for `mysql://...`, checks) the system under test the spec names.
pub async fn start_db(spec: &RunSpec) -> anyhow::Result<Sut> {
    if spec.db.starts_with("mysql://") {
        let external = External::parse(&spec.db)?;
        external.check().await?;
        let endpoints = external.endpoints();
        return Ok(Sut {
            db: Arc::new(external),
            endpoints,
            galera_version: None,
        });
    }
    if let Some(tidb) = &spec.tidb {
        let cluster = Arc::new(TidbPlayground::start(tidb.options()).await?);
        return Ok(Sut {
            endpoints: cluster.endpoints(),
            db: cluster,
            galera_version: None,
        });
    }
    let opts = GaleraOptions {
        nodes: spec.nodes,
        galera: spec.db == "local-galera",
        server_options: spec.server_options.clone(),
        // Data dirs on FUSE only when a disk fault is asked for (and can be had: otherwise the
        // fault's `unsupported` refuses the run before it starts, saying what to do).
        disk_faults: spec
            .nemesis
            .iter()
            .any(|n| faultline_nemesis::faults::disk::NAMES.contains(&n.trim()))
            && faultline_cluster::disk::available().is_ok(),
        ..Default::default()
    };
    let cluster = Arc::new(LocalGalera::start(opts).await?);
    let galera_version = cluster
        .statuses()
        .await
        .into_iter()
        .map(|(_, s)| s.provider_version)
        .find(|v| !v.is_empty());
    Ok(Sut {
        endpoints: cluster.endpoints(),
        db: cluster,
        galera_version,
    })
}

/// Runs one test end to end. `make` builds the workload once the endpoints are known.
pub async fn run_test(
    spec: RunSpec,
    dir: &RunDir,
    mut cancel: watch::Receiver<bool>,
    make: impl FnOnce(&[Endpoint]) -> Box<dyn Workload>,
) -> anyhow::Result<Outcome> {
    let faults = Arc::new(faultline_nemesis::lookup(&spec.nemesis)?);
    tracing::info!("starting {} with {} node(s)", spec.db_masked(), spec.nodes);
    let sut = tokio::select! {
        c = start_db(&spec) => c?,
        _ = cancel.wait_for(|c| *c) => anyhow::bail!("cancelled while the cluster was starting"),
    };
    let Sut {
        db,
        endpoints,
        galera_version,
    } = sut;
    faultline_nemesis::check_supported(&faults, db.as_ref())?;
    for e in &endpoints {
        tracing::info!("{} at {e}", e.node);
    }
    let workload = make(&endpoints);
    let started = chrono::Utc::now().to_rfc3339();
    dir.write_json(
        "test.json",
        &json!({
            "spec": spec,
            "started": started,
            "db": db.facts(),
            "galera_version": galera_version,
            "workload": { "name": workload.name(), "options": workload.options() },
            "endpoints": endpoints.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "faultline_version": env!("CARGO_PKG_VERSION"),
        }),
    )?;
    workload.setup().await.context("setting up the workload")?;
    if !faults.is_empty() {
        // Admission: faults go only into a healthy cluster (every node ready, full membership).
        db.wait_ready(Duration::from_secs(60)).await.map_err(|e| {
            anyhow::anyhow!("admission check failed, refusing to inject faults: {e}")
        })?;
    }

    let nodes = db.nodes();
    let client_nodes = db.client_nodes();
    let clients = || -> Vec<BoundClient> {
        (0..spec.concurrency)
            .map(|i| {
                let node = client_nodes[i % client_nodes.len()].clone();
                BoundClient {
                    client: workload.client(&node),
                    node,
                }
            })
            .collect()
    };
    let recorder = Recorder::create(&dir.file("history.jsonl"))?;
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
        },
    );
    let main = time_limit(
        Duration::from_secs(spec.time_limit_s),
        clients_nemesis(
            stagger(
                Duration::from_millis(spec.op_interval_ms),
                workload.generator(),
            ),
            schedule,
        ),
    );
    tracing::info!(
        "running {} for {}s, seed {}",
        workload.name(),
        spec.time_limit_s,
        spec.seed
    );
    let mut bound = interp
        .run_phase(main, clients(), Some(nemesis.clone()), cancel.clone())
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
            tracing::info!("final reads");
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
    if let Err(e) = db.collect_logs(&dir.file("nodes")) {
        tracing::warn!("collecting node logs: {e}");
    }
    let ops = interp.recorder.ops_recorded();
    drop(nemesis);
    // Tear down before checking: nothing of ours keeps running while we think.
    if let Err(e) = db.teardown().await {
        tracing::warn!("teardown: {e}");
    }
    drop(db);
    tracing::info!("checking {ops} history events");
    let checked = check_run_dir(
        &dir.path,
        &workload.checkers(),
        json!({ "cancelled": cancelled, "healed": healed.is_ok(), "recovered": ready }),
    )?;
    Ok(Outcome { checked, cancelled })
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
