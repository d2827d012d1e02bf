//! The command line of a test: one `main` for every test binary and for `faultline run`.
//!
//! [`Registry::main`] parses (bad arguments exit 254 with one line), plans the system, checks
//! what it needs is installed (255 with the apt-get line), opens the run folder, logs to its
//! harness.log, runs, prints the verdict, the seed and the store path last, and exits
//! 0 valid / 1 invalid / 2 unknown / 255 harness failure.

use crate::analyze::print_verdict;
use crate::notify;
use crate::options::{BadArgs, RunArgs};
use crate::registry::{Registry, WorkloadEntry};
use crate::run::{cancel_on_signals, run_test, RunPlan};
use crate::store::RunDir;
use crate::{logging, EXIT_BAD_ARGS, EXIT_HARNESS_FAILURE};
use clap::{Args, FromArgMatches};
use std::ffi::OsString;

/// Parses the command line; `--help` and `--version` exit 0, anything wrong exits 254.
pub fn parse_or_exit<C: clap::Parser>() -> C {
    match C::try_parse() {
        Ok(c) => c,
        Err(e) => exit_on_clap_error(e),
    }
}

fn exit_on_clap_error(e: clap::Error) -> ! {
    let code = if e.use_stderr() { EXIT_BAD_ARGS } else { 0 };
    let _ = e.print();
    std::process::exit(code);
}

fn bad_args(e: impl std::fmt::Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(EXIT_BAD_ARGS);
}

/// The run's folder under `store`, with logging going to its harness.log; exits with one
/// line when the folder cannot be made.
pub fn open_run_dir(store: &std::path::Path, test: &str) -> RunDir {
    let dir = match RunDir::create(store, test) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "error: cannot create a run folder under {}: {e}",
                store.display()
            );
            std::process::exit(EXIT_HARNESS_FAILURE);
        }
    };
    logging::init(Some(&dir.file("harness.log")));
    dir
}

/// The command line of workload `entry`: the run options, its own, every recipe's, with
/// the defaults the workload sets for itself.
pub fn command(registry: &Registry, entry: &dyn WorkloadEntry) -> clap::Command {
    let mut cmd = clap::Command::new(entry.name()).version(env!("CARGO_PKG_VERSION"));
    cmd = RunArgs::augment_args(cmd);
    cmd = entry.augment(cmd);
    cmd = registry.augment_recipes(cmd);
    // Last: an options struct's doc comment would otherwise become the command's about.
    cmd = cmd.about(entry.about());
    let d = entry.defaults();
    // `--db`: the workload's own default, else the registry's first system.
    let db = d.db.or_else(|| registry.recipes().next().map(|r| r.name()));
    for (id, value) in [
        ("concurrency", d.concurrency),
        ("op_interval_ms", d.op_interval_ms),
        ("db", db),
        ("op_timeout", d.op_timeout),
        ("time_limit", d.time_limit),
    ] {
        if let Some(v) = value {
            cmd = cmd.mut_arg(id, |a| a.default_value(v).required(false));
        }
    }
    cmd
}

impl Registry {
    /// A test binary's `main`: runs workload `workload` with the process's arguments.
    pub fn main(&self, workload: &str) -> ! {
        self.main_from(workload, std::env::args_os().collect())
    }

    /// [`Registry::main`] with the arguments given (`argv[0]` is the program name).
    pub fn main_from(&self, workload: &str, argv: Vec<OsString>) -> ! {
        let plan = match self.plan_run(workload, argv.clone()) {
            Ok(p) => p,
            Err(e) => bad_args(e),
        };
        let notify = plan.notify.clone();
        if let Err(e) = plan.system.preflight() {
            eprintln!("error: {e:#}");
            std::process::exit(EXIT_HARNESS_FAILURE);
        }
        let dir = open_run_dir(&plan.spec.store, workload);
        let seed = plan.spec.seed;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let result = runtime.block_on(async {
            let cancel = cancel_on_signals();
            run_test(plan, &dir, cancel).await
        });
        drop(runtime);
        match result {
            Ok(outcome) => {
                if outcome.cancelled {
                    println!("(the run was interrupted; the history so far was checked)");
                }
                println!("report: {}", dir.file("report.html").display());
                print_verdict(
                    outcome.checked.verdict,
                    &outcome.checked.results,
                    Some(seed),
                    &dir.path,
                );
                if let Some(url) = &notify {
                    let replay = notify::replay_command(workload, &argv, seed);
                    let verdict = outcome.checked.verdict;
                    let results = &outcome.checked.results;
                    let m = notify::run_message(
                        workload, verdict, results, None, seed, &replay, &dir.path,
                    );
                    if let Some(m) = m {
                        notify::post(url, &m);
                    }
                }
                std::process::exit(outcome.checked.verdict.exit_code());
            }
            Err(e) => {
                tracing::error!("{e:#}");
                eprintln!("error: {e:#}");
                println!("verdict: unknown (the harness failed)");
                println!("seed: {seed}");
                println!("store: {}", dir.path.display());
                if let Some(url) = &notify {
                    let replay = notify::replay_command(workload, &argv, seed);
                    let error = format!("{e:#}");
                    let m = notify::run_message(
                        workload,
                        faultline_core::Validity::Unknown,
                        &[],
                        Some(&error),
                        seed,
                        &replay,
                        &dir.path,
                    );
                    if let Some(m) = m {
                        notify::post(url, &m);
                    }
                }
                std::process::exit(EXIT_HARNESS_FAILURE);
            }
        }
    }

    /// Parses `argv` for workload `workload` and plans the run: everything that can be
    /// refused is refused here, before anything starts. `--help` exits here.
    pub fn plan_run(&self, workload: &str, argv: Vec<OsString>) -> Result<RunPlan<'_>, BadArgs> {
        let entry = self.find_workload(workload)?;
        let matches = match command(self, entry).try_get_matches_from(&argv) {
            Ok(m) => m,
            Err(e) if !e.use_stderr() => exit_on_clap_error(e),
            Err(e) => {
                // clap's message up to its usage lines, as one line.
                let text = e.render().to_string();
                let message: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .take_while(|l| !l.starts_with("Usage:"))
                    .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
                    .collect();
                return Err(BadArgs(format!(
                    "{} (see --help)",
                    message.join(" ").trim_start_matches("error: ")
                )));
            }
        };
        let run = RunArgs::from_arg_matches(&matches).map_err(|e| BadArgs(e.to_string()))?;
        let options = entry
            .options_from(&matches)
            .map_err(|e| BadArgs(e.to_string()))?;
        let system = self.plan(&run.system_args(), &matches)?;
        let mut spec = run.resolve(workload, system.as_ref())?;
        if let Some(n) = entry.concurrency(&options) {
            let given =
                matches.value_source("concurrency") == Some(clap::parser::ValueSource::CommandLine);
            if given && spec.concurrency != n {
                return Err(BadArgs(format!(
                    "--concurrency {} and {workload}'s own client count {n} disagree: leave --concurrency out",
                    spec.concurrency
                )));
            }
            spec.concurrency = n;
        }
        entry.validate(&options, &spec)?;
        spec.replay = Some(faultline_core::mask_url_passwords(&notify::replay_command(
            workload, &argv, spec.seed,
        )));
        Ok(RunPlan {
            spec,
            system,
            workload: entry,
            options,
            notify: run.notify.clone(),
        })
    }
}
