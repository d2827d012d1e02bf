//! `faultline`: everything that is not a test run: analyze a stored run, list the faults,
//! clean up after a killed harness.

use clap::{Parser, Subcommand};
use faultline_harness::analyze::{check_run_dir, print_verdict};
use faultline_harness::run::read_test_json;
use faultline_harness::{logging, EXIT_HARNESS_FAILURE};
use faultline_workloads::cluster_cli::ClusterAction;
use faultline_workloads::{cli, registry};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "faultline",
    version,
    about = "faultline: analyze runs, list faults, clean up"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Re-check a stored run from its history alone (rewrites its results.json and report),
    /// or check a history another tool wrote (`--format`).
    Analyze {
        /// A run folder (e.g. store/latest), or a file with `--format`.
        run: PathBuf,
        /// native (a faultline run), porcupine-etcd, porcupine-kv or jepsen-edn.
        #[arg(long, default_value = "native")]
        format: String,
        /// For jepsen-edn: register, cas-register, append or rw-register.
        #[arg(long)]
        workload: Option<String>,
        /// For append / rw-register: the consistency model (serializable, snapshot-isolation, ...).
        #[arg(long)]
        model: Option<String>,
        /// Seconds the linearizability check may take before it says unknown.
        #[arg(long)]
        check_timeout: Option<f64>,
        /// A register's value before any write, as JSON (default: nothing written yet).
        #[arg(long)]
        initial_value: Option<String>,
    },
    /// List what can be used.
    List {
        #[command(subcommand)]
        what: ListWhat,
    },
    /// A local cluster that keeps running between commands: start, status, kill, partition, heal, ...
    Cluster {
        /// Which cluster, when several run side by side.
        #[arg(long, default_value = "default")]
        name: String,
        #[command(subcommand)]
        action: ClusterAction,
    },
}

#[derive(Subcommand)]
enum ListWhat {
    /// Every fault `--nemesis` accepts.
    Nemeses,
}

fn main() {
    let cli: Cli = cli::parse_or_exit();
    logging::init(None);
    let code = match cli.command {
        Command::Analyze {
            run,
            format,
            workload,
            model,
            check_timeout,
            initial_value,
        } => {
            if format == "native" {
                analyze(&run)
            } else {
                let args = faultline_workloads::import::ImportArgs {
                    format: &format,
                    workload: workload.as_deref(),
                    model: model.as_deref(),
                    check_timeout: check_timeout.map(std::time::Duration::from_secs_f64),
                    initial_value: initial_value.as_deref(),
                };
                analyze_file(&run, &args)
            }
        }
        Command::List {
            what: ListWhat::Nemeses,
        } => {
            for f in faultline_nemesis::catalogue() {
                println!("{:<18} {}", f.name(), f.description());
            }
            0
        }
        Command::Cluster { name, action } => faultline_workloads::cluster_cli::run(&name, action),
    };
    std::process::exit(code);
}

fn analyze_file(path: &std::path::Path, args: &faultline_workloads::import::ImportArgs) -> i32 {
    match faultline_workloads::import::check_file(path, args) {
        Ok(results) => {
            let verdict = faultline_core::CheckResult::merged(&results);
            for r in &results {
                if let Some(anomalies) = r.details.get("anomaly_types") {
                    println!("  anomalies: {anomalies}");
                }
            }
            for r in &results {
                println!(
                    "  {:<14} {:<8} {}",
                    r.checker,
                    r.valid.to_string(),
                    r.summary
                );
            }
            println!("verdict: {verdict}");
            println!("file: {}", path.display());
            verdict.exit_code()
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            faultline_harness::EXIT_BAD_ARGS
        }
    }
}

fn analyze(run: &std::path::Path) -> i32 {
    let result = (|| {
        let test = read_test_json(run)?;
        let checkers = registry::all_checkers_for(&test)?;
        let checked = check_run_dir(run, &checkers, serde_json::json!({"analyzed": true}))?;
        Ok::<_, anyhow::Error>((checked, test["spec"]["seed"].as_u64()))
    })();
    match result {
        Ok((checked, seed)) => {
            print_verdict(checked.verdict, &checked.results, seed, run);
            checked.verdict.exit_code()
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            EXIT_HARNESS_FAILURE
        }
    }
}
