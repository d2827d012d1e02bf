//! Running a suite: every repeat of every case through the registry's `plan_run` and the
//! runner's `run_test`, `parallel` at a time (for systems that can run side by side: the
//! atom system, separate labs), then suite.json and junit.xml in
//! `store/suites/<suite>/<UTC time>/`.

use crate::suite::{Suite, SuiteError};
use faultline_core::{CheckResult, Validity};
use faultline_harness::run::run_test;
use faultline_harness::store::RunDir;
use faultline_harness::Registry;
use futures_util::future::join_all;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tokio::sync::{watch, Semaphore};

pub struct SuiteOptions {
    pub store: PathBuf,
    /// How many runs at a time (1: in order).
    pub parallel: usize,
}

/// One run of one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseRun {
    pub case: String,
    pub workload: String,
    pub repeat: u32,
    /// The workload's command line of this run (its seed included): the replay command.
    pub args: Vec<String>,
    pub seed: Option<u64>,
    pub verdict: Validity,
    /// The run folder (absent when the run could not start one).
    pub run: Option<PathBuf>,
    pub results: Vec<CheckResult>,
    /// Why the harness failed (the run's verdict is then unknown).
    pub error: Option<String>,
    pub cancelled: bool,
}

#[derive(Debug, Serialize)]
pub struct SuiteOutcome {
    pub suite: String,
    pub verdict: Validity,
    pub runs: Vec<CaseRun>,
    /// The folder of suite.json and junit.xml.
    pub dir: PathBuf,
}

/// Validates every case, runs them, writes the summary. Ctrl-C (`cancel`) stops the runs
/// under way (each heals, checks and tears down as a run does) and starts no more.
pub async fn run_suite(
    registry: &Registry,
    suite: &Suite,
    options: &SuiteOptions,
    cancel: watch::Receiver<bool>,
) -> Result<SuiteOutcome, SuiteError> {
    suite.validate(registry, &options.store)?;
    let gate = Semaphore::new(options.parallel.max(1));
    let jobs = suite
        .cases
        .iter()
        .flat_map(|c| (0..c.repeat).map(move |i| (c, i)));
    let runs = join_all(jobs.map(|(case, i)| {
        let (gate, cancel) = (&gate, cancel.clone());
        async move {
            let _slot = gate.acquire().await.expect("the gate is never closed");
            let mut run = CaseRun {
                case: case.name().to_string(),
                workload: case.workload.clone(),
                repeat: i,
                args: vec![],
                seed: None,
                verdict: Validity::Unknown,
                run: None,
                results: vec![],
                error: None,
                cancelled: *cancel.borrow(),
            };
            if run.cancelled {
                run.error = Some("not run: the suite was interrupted".into());
                return run;
            }
            let argv = case.argv(suite, &options.store, i);
            if let Err(e) = one_run(
                registry,
                &case.workload,
                argv,
                &options.store,
                &mut run,
                cancel,
            )
            .await
            {
                run.error = Some(format!("{e:#}"));
                run.verdict = Validity::Unknown;
            }
            let store = run
                .run
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string());
            println!(
                "{:<28} {:<8} seed {:<20} {store}",
                format!("{}#{}", run.case, run.repeat),
                run.verdict.to_string(),
                run.seed.map_or("-".into(), |s| s.to_string()),
            );
            run
        }
    }))
    .await;
    let verdict = runs.iter().fold(Validity::Valid, |v, r| v.merge(r.verdict));
    let dir = summary_dir(&options.store, &suite.name).map_err(|source| SuiteError::Write {
        path: options.store.clone(),
        source,
    })?;
    let outcome = SuiteOutcome {
        suite: suite.name.clone(),
        verdict,
        runs,
        dir,
    };
    outcome.write().map_err(|source| SuiteError::Write {
        path: outcome.dir.clone(),
        source,
    })?;
    Ok(outcome)
}

async fn one_run(
    registry: &Registry,
    workload: &str,
    argv: Vec<std::ffi::OsString>,
    store: &Path,
    run: &mut CaseRun,
    cancel: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    run.args = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let plan = registry.plan_run(workload, argv)?;
    run.seed = Some(plan.spec.seed);
    if !run.args.iter().any(|a| a == "--seed") {
        run.args
            .extend(["--seed".into(), plan.spec.seed.to_string()]);
    }
    let dir = RunDir::create(&plan.spec.store, workload).map_err(|e| {
        anyhow::anyhow!("cannot create a run folder under {}: {e}", store.display())
    })?;
    run.run = Some(dir.path.clone());
    let outcome = run_test(plan, &dir, cancel).await?;
    run.verdict = outcome.checked.verdict;
    run.results = outcome.checked.results;
    run.cancelled = outcome.cancelled;
    Ok(())
}

fn summary_dir(store: &Path, suite: &str) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let mut dir = store.join("suites").join(suite).join(&stamp);
    let mut n = 1;
    while dir.exists() {
        dir = store
            .join("suites")
            .join(suite)
            .join(format!("{stamp}-{n}"));
        n += 1;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

impl SuiteOutcome {
    fn write(&self) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(self.dir.join("suite.json"), json + "\n")?;
        std::fs::write(self.dir.join("junit.xml"), crate::junit::render(self))
    }
}
