//! The `sqlsmith` binary's options and orchestration: start the system under test and the
//! reference, run the loop (with the nemesis on the system under test), heal, check, write
//! the run folder, tear down, print verdict / seed / store last.

use super::exec::SqlDb;
use super::replay::Replayer;
use super::runloop::{run_loop, LoopOptions, LoopReport, Oracles, SharedRecorder};
use super::SqlsmithChecker;
use anyhow::{bail, Context};
use clap::Args;
use faultline_cluster::{GaleraOptions, LocalGalera};
use faultline_core::db::Db;
use faultline_core::{Invocation, Nemesis, OpType, Process};
use faultline_harness::analyze::{check_run_dir, Checked};
use faultline_harness::interpreter::Recorder;
use faultline_harness::store::RunDir;
use faultline_nemesis::NemesisExecutor;
use faultline_sqlsmith::Config;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Args, Clone, Debug)]
pub struct SqlsmithArgs {
    /// System under test: local-galera or local-mariadb.
    #[arg(long, default_value = "local-galera")]
    pub db: String,
    /// Nodes of local-galera.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// The reference: local-mariadb (a standalone server the harness starts) or none.
    #[arg(long, default_value = "local-mariadb")]
    pub reference: String,
    /// Oracles, comma separated: diff (against the reference), tlp (ternary logic
    /// partitioning of plain queries, and of COUNT(*) / COUNT(x) / MIN / MAX / SUM over
    /// integer columns, where the identity is exact), norec.
    #[arg(long, value_delimiter = ',', default_value = "diff,tlp,norec")]
    pub oracle: Vec<String>,
    /// Generated statements.
    #[arg(long, default_value_t = 2000)]
    pub statements: usize,
    /// Seed of the statement stream (random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Faults on the system under test, comma separated, or none.
    #[arg(long, value_delimiter = ',', default_value = "none")]
    pub nemesis: Vec<String>,
    /// Aim every fault at the node the sqlsmith client is connected to (the first node)
    /// instead of the fault's own choice among all nodes.
    #[arg(long)]
    pub nemesis_client_node: bool,
    /// Seconds of quiet before each fault.
    #[arg(long, default_value_t = 5)]
    pub nemesis_interval: u64,
    /// Seconds each fault lasts.
    #[arg(long, default_value_t = 10)]
    pub nemesis_duration: u64,
    /// `first`: the cluster is checked healthy before the first fault only (faults compound);
    /// `each`: every fault waits up to 120 s for a healthy cluster, or is skipped.
    #[arg(long, default_value = "first", value_parser = ["first", "each"])]
    pub nemesis_admission: String,
    /// Compare every live table every N statements (0: never).
    #[arg(long, default_value_t = 200)]
    pub snapshot_every: usize,
    /// Run TLP / NoREC every N statements.
    #[arg(long, default_value_t = 5)]
    pub oracle_every: usize,
    /// Stop after this many findings.
    #[arg(long, default_value_t = 5)]
    pub max_failures: usize,
    /// Reduce this many findings into reproducers.
    #[arg(long, default_value_t = 2)]
    pub reduce: usize,
    /// Replays per reduction at most.
    #[arg(long, default_value_t = 400)]
    pub reduce_tests: usize,
    /// Seconds per reduction at most.
    #[arg(long, default_value_t = 120)]
    pub reduce_timeout: u64,
    /// Seconds before a statement without an answer is abandoned (outcome unknown).
    #[arg(long, default_value_t = 10)]
    pub stmt_timeout: u64,
    /// Include nondeterministic functions (RAND, NOW, UUID): only sensible without diff.
    #[arg(long)]
    pub unstable: bool,
    /// `name=value` for the system under test's [mysqld] (repeatable).
    #[arg(long = "server-option")]
    pub server_options: Vec<String>,
    /// `name=value` for the reference's [mysqld] (repeatable).
    #[arg(long = "reference-option")]
    pub reference_options: Vec<String>,
    /// Where runs are kept.
    #[arg(long, default_value = "store")]
    pub store: std::path::PathBuf,
}

fn pairs(flag: &str, v: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    Ok(faultline_harness::options::parse_server_options(flag, v)?)
}

/// The validated arguments.
pub struct Resolved {
    pub args: SqlsmithArgs,
    pub seed: u64,
    pub oracles: Oracles,
}

impl SqlsmithArgs {
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        if !matches!(self.db.as_str(), "local-galera" | "local-mariadb") {
            bail!("--db {:?}: use local-galera or local-mariadb", self.db);
        }
        if !matches!(self.reference.as_str(), "local-mariadb" | "none") {
            bail!(
                "--reference {:?}: use local-mariadb or none",
                self.reference
            );
        }
        let mut oracles = Oracles::default();
        for o in &self.oracle {
            match o.as_str() {
                "diff" => oracles.diff = true,
                "tlp" => oracles.tlp = true,
                "norec" => oracles.norec = true,
                other => bail!("--oracle {other:?}: choose from diff, tlp, norec"),
            }
        }
        if self.reference == "none" {
            oracles.diff = false;
        }
        if !(oracles.diff || oracles.tlp || oracles.norec) {
            bail!("no oracle left to run (diff needs a --reference)");
        }
        faultline_nemesis::lookup(&self.nemesis)?;
        pairs("--server-option", &self.server_options)?;
        pairs("--reference-option", &self.reference_options)?;
        Ok(Resolved {
            args: self.clone(),
            seed: self.seed.unwrap_or_else(rand::random),
            oracles,
        })
    }
}

/// Runs a whole sqlsmith test into `dir`; `cancel` turns true on Ctrl-C.
pub async fn run(
    r: &Resolved,
    dir: &RunDir,
    cancel: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<(Checked, LoopReport)> {
    let a = &r.args;
    let faults = Arc::new(faultline_nemesis::lookup(&a.nemesis)?);
    let galera = a.db == "local-galera";
    let sut_opts = GaleraOptions {
        nodes: if galera { a.nodes } else { 1 },
        galera,
        server_options: pairs("--server-option", &a.server_options)?,
        ..Default::default()
    };
    let ref_options = pairs("--reference-option", &a.reference_options)?;
    let (sut_db, ref_db) = tokio::join!(LocalGalera::start(sut_opts), async {
        if r.oracles.diff {
            let o = GaleraOptions {
                nodes: 1,
                galera: false,
                server_options: ref_options,
                ..Default::default()
            };
            LocalGalera::start(o).await.map(Some)
        } else {
            Ok(None)
        }
    });
    let sut_db = Arc::new(sut_db.context("starting the system under test")?);
    let ref_db = ref_db.context("starting the reference")?;
    let db: Arc<dyn Db> = sut_db.clone();
    faultline_nemesis::check_supported(&faults, db.as_ref())?;
    let timeout = Duration::from_secs(a.stmt_timeout.max(1));
    let sut_ep = sut_db.endpoints()[0].clone();
    let ref_ep = ref_db.as_ref().map(|d| d.endpoints()[0].clone());
    let cfg = Config {
        stable: !a.unstable || r.oracles.diff,
        ..Config::default()
    };
    let opts = LoopOptions {
        seed: r.seed,
        statements: a.statements,
        smith: cfg,
        oracles: r.oracles,
        snapshot_every: a.snapshot_every,
        oracle_every: a.oracle_every,
        max_failures: a.max_failures.max(1),
        reduce: a.reduce,
        reduce_tests: a.reduce_tests,
        reduce_timeout: Duration::from_secs(a.reduce_timeout),
        repro_dir: dir.file("repro"),
        tlp_rule: Default::default(),
    };
    dir.write_json(
        "test.json",
        &json!({
            "spec": { "test": "sqlsmith", "db": a.db, "nodes": sut_db.nodes().len(), "seed": r.seed,
                      "reference": a.reference, "nemesis": a.nemesis, "store": a.store },
            "started": chrono_now(),
            "db": db.facts(),
            "reference": ref_db.as_ref().map(|d| d.facts()),
            "workload": { "name": "sqlsmith", "options": opts },
            "endpoints": { "sut": sut_ep.to_string(), "reference": ref_ep.as_ref().map(|e| e.to_string()) },
            "faultline_version": env!("CARGO_PKG_VERSION"),
        }),
    )?;
    let rec: SharedRecorder = Arc::new(Mutex::new(Recorder::create(&dir.file("history.jsonl"))?));
    let mut sut = SqlDb::new("sut", sut_ep.clone(), "sqlsmith", timeout);
    let mut reference = ref_ep
        .clone()
        .map(|e| SqlDb::new("reference", e, "sqlsmith", timeout));
    let replayer = Replayer {
        sut: SqlDb::new("sut-replay", sut_ep, "sqlsmith_replay", timeout),
        reference: ref_ep.map(|e| SqlDb::new("reference-replay", e, "sqlsmith_replay", timeout)),
    };

    let stop = Arc::new(AtomicBool::new(false));
    let mut executor = NemesisExecutor::new(db.clone(), faults.clone());
    if a.nemesis_admission == "each" {
        executor = executor.admit_each(Duration::from_secs(120));
    }
    let nemesis = Arc::new(executor);
    let nem_task = (!faults.is_empty()).then(|| {
        let (stop, rec, nemesis, faults, db) = (
            stop.clone(),
            rec.clone(),
            nemesis.clone(),
            faults.clone(),
            db.clone(),
        );
        let (interval, span, seed) = (a.nemesis_interval, a.nemesis_duration, r.seed);
        let client_node = a.nemesis_client_node;
        tokio::spawn(async move {
            use rand::SeedableRng;
            let mut rng = faultline_sqlsmith::ChaCha8Rng::seed_from_u64(seed ^ 0x6e656d);
            let mut turn = 0usize;
            let nap = |s: u64, stop: Arc<AtomicBool>| async move {
                for _ in 0..s * 10 {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            while !stop.load(Ordering::Relaxed) {
                nap(interval, stop.clone()).await;
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let fault = &faults[turn % faults.len()];
                turn += 1;
                let mut candidates = db.nodes();
                if client_node {
                    // The client uses the first node's endpoint.
                    candidates.truncate(1);
                }
                let nodes = fault.targets(&candidates, &mut rng);
                let params = fault.params(&nodes, &mut rng);
                let value = json!({ "fault": fault.name(), "nodes": nodes, "params": params });
                for (f, wait) in [("start", span), ("stop", 0)] {
                    let inv = Invocation::new(f, value.clone());
                    rec.lock().unwrap().record(
                        Process::Nemesis,
                        OpType::Invoke,
                        f,
                        value.clone(),
                        None,
                        None,
                    );
                    let done = nemesis.invoke(&inv).await;
                    // The executor's value: it may add `hit` or `skipped`.
                    rec.lock().unwrap().record(
                        Process::Nemesis,
                        done.kind,
                        f,
                        done.value.unwrap_or_else(|| value.clone()),
                        None,
                        done.error,
                    );
                    nap(wait, stop.clone()).await;
                }
            }
        })
    });
    let stop_fn = {
        let c = cancel.clone();
        move || *c.borrow()
    };
    let report = run_loop(
        &mut sut,
        reference.as_mut(),
        Some(replayer),
        &opts,
        Some(&rec),
        &stop_fn,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = nem_task {
        let _ = t.await;
    }
    let healed = nemesis.heal_all().await;
    rec.lock().unwrap().record(
        Process::Nemesis,
        OpType::Info,
        "heal",
        json!({"fault": "all"}),
        None,
        healed.as_ref().err().map(|e| e.to_string()),
    );
    let ready = db.wait_ready(Duration::from_secs(120)).await.is_ok();
    rec.lock().unwrap().sync();
    if let Err(e) = db.collect_logs(&dir.file("nodes")) {
        tracing::warn!("collecting node logs: {e}");
    }
    drop(nemesis);
    drop(db);
    if let Err(e) = sut_db.teardown().await {
        tracing::warn!("teardown: {e}");
    }
    if let Some(r) = ref_db {
        let _ = r.teardown().await;
    }
    let extra = json!({ "stats": report.stats, "findings": report.findings, "healed": healed.is_ok(), "recovered": ready,
                        "syntax_error_rate": report.stats.syntax_error_rate() });
    let checked = check_run_dir(&dir.path, &[Box::new(SqlsmithChecker)], extra)?;
    Ok((checked, report))
}

fn chrono_now() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}s since the epoch", t.as_secs())
}
