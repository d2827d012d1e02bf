//! `faultline`: the front door. `run <workload>` runs a test (as its own binary does),
//! `analyze` re-checks a stored run or another tool's history, `list` says what this build
//! can run, `cluster` keeps a system running between commands and injects faults into it,
//! `suite` runs (or renders for Argo) a nightly's cases, `index` and `serve` show the store,
//! `k8s render` prints the Chaos Mesh objects a schedule would create.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use faultline_harness::analyze::{check_run_dir, print_verdict};
use faultline_harness::run::read_test_json;
use faultline_harness::{logging, EXIT_BAD_ARGS, EXIT_HARNESS_FAILURE};
use faultline_workloads::cluster_cli::ClusterAction;
use std::ffi::OsString;
use std::path::PathBuf;

mod k8s;

#[derive(Parser)]
#[command(
    name = "faultline",
    version,
    about = "faultline: run tests, analyze runs, list what can be run, drive a cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a test: `faultline run bank -- --nemesis random_kill` (the same as the `bank`
    /// binary; `faultline run bank -- --help` lists its options).
    Run {
        /// A workload of `faultline list workloads`.
        workload: String,
        /// The test's own options, after `--`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Re-check a stored run from its history alone (rewrites its results.json and report),
    /// or check a history another tool wrote (`--format`).
    Analyze {
        /// A run folder (e.g. store/latest), or a file with `--format`.
        run: PathBuf,
        /// native (a faultline run), porcupine-etcd, porcupine-kv, jepsen-edn or jepsen-json
        /// (either of the last two reads EDN and elle-cli's JSON).
        #[arg(long, default_value = "native")]
        format: String,
        /// For jepsen-edn: register, cas-register, append, rw-register, bank, set or set-full.
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
        /// For a Jepsen bank history: negative balances are allowed.
        #[arg(long)]
        negative_balances: bool,
        /// For a Jepsen set history checked by set-full: a stale element is invalid.
        #[arg(long)]
        linearizable: bool,
    },
    /// Suites of cases for nightly jobs: `faultline suite run suites/smoke.toml`.
    Suite {
        #[command(subcommand)]
        action: SuiteAction,
    },
    /// Write STORE/index.html: every stored run, newest first, with links to its report.
    Index {
        #[arg(default_value = "store")]
        store: PathBuf,
    },
    /// Serve STORE read-only on 127.0.0.1 (index.html written first): reports in a browser.
    Serve {
        #[arg(default_value = "store")]
        store: PathBuf,
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// List what can be used.
    List {
        #[command(subcommand)]
        what: ListWhat,
    },
    /// Kubernetes: `faultline k8s render` prints the Chaos Mesh objects faults would create.
    K8s {
        #[command(subcommand)]
        action: k8s::K8sAction,
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
enum SuiteAction {
    /// Run every case of a suite file, store each run, write suite.json and junit.xml;
    /// exits with the worst verdict (0 valid, 1 invalid, 2 unknown).
    Run {
        /// A suite file (TOML): see suites/smoke.toml.
        file: PathBuf,
        /// Runs at a time (only for systems that can run side by side, e.g. --db atom).
        #[arg(long, default_value_t = 1)]
        parallel: usize,
        /// The store every case's run goes to (unless a case says `--store`).
        #[arg(long, default_value = "store")]
        store: PathBuf,
        /// Only plan every case (options, what its system needs installed) and say so.
        #[arg(long)]
        check: bool,
        /// Post a Slack incoming-webhook message here when the suite ends invalid or unknown.
        #[arg(long)]
        notify: Option<String>,
    },
    /// Print the suite as Argo objects: a WorkflowTemplate (a step per case) and a
    /// CronWorkflow that runs it nightly.
    Render {
        file: PathBuf,
        /// Argo Workflows (the only engine so far).
        #[arg(long, required = true)]
        argo: bool,
        /// The image with the faultline binaries.
        #[arg(long, default_value = "faultline:latest")]
        image: String,
        /// The namespace the workflow runs in.
        #[arg(long, default_value = "default")]
        namespace: String,
        /// The nightly's cron schedule.
        #[arg(long, default_value = "0 2 * * *")]
        schedule: String,
        /// Keep the Chaos Mesh objects of a failed night (the exit handler skips deleting them).
        #[arg(long)]
        keep_on_failure: bool,
        /// Print a Workflow that runs the template once, now (`kubectl create -f`), instead of
        /// the template and its CronWorkflow.
        #[arg(long)]
        once: bool,
    },
}

#[derive(Subcommand)]
enum ListWhat {
    /// Every fault `--nemesis` accepts.
    Nemeses,
    /// Every workload (`faultline run <workload>`, or its own binary).
    Workloads,
    /// Every system `--db` accepts.
    Systems,
}

fn main() {
    // The in-process atom system of the runner's testkit too: server-free smoke suites.
    // And etcd, the second real system (examples/etcd).
    let registry = faultline_example_etcd::register_all(
        faultline_workloads::builtin()
            .recipe(faultline_harness::testkit::AtomRecipe::default())
            .workload(faultline_harness::testkit::AtomRegister)
            .workload(faultline_harness::testkit::Noop),
    );
    // Pods on Kubernetes, faults through Chaos Mesh (with the `k8s` feature).
    let registry = k8s::register(registry);
    // `faultline cluster start` takes every system's own options, as a test does.
    let command = Cli::command().mut_subcommand("cluster", |c| {
        c.mut_subcommand("start", |s| {
            // An options struct's doc comment would otherwise replace the verb's own.
            let about = s.get_about().cloned();
            let s = registry.augment_recipes(s);
            match about {
                Some(a) => s.about(a),
                None => s,
            }
        })
    });
    let matches = match command.try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_ARGS } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(EXIT_BAD_ARGS);
        }
    };
    if let Command::Run { workload, args } = cli.command {
        let mut argv = vec![OsString::from(format!("faultline run {workload}"))];
        argv.extend(args.into_iter().skip_while(|a| a == "--"));
        registry.main_from(&workload, argv);
    }
    logging::init(None);
    let code = match cli.command {
        Command::Run { .. } => unreachable!("handled above"),
        Command::Analyze {
            run,
            format,
            workload,
            model,
            check_timeout,
            initial_value,
            negative_balances,
            linearizable,
        } => {
            if format == "native" {
                analyze(&registry, &run)
            } else {
                let args = faultline_workloads::import::ImportArgs {
                    format: &format,
                    workload: workload.as_deref(),
                    model: model.as_deref(),
                    check_timeout: check_timeout.map(std::time::Duration::from_secs_f64),
                    initial_value: initial_value.as_deref(),
                    negative_balances,
                    linearizable,
                };
                analyze_file(&run, &args)
            }
        }
        Command::Suite {
            action:
                SuiteAction::Run {
                    file,
                    parallel,
                    store,
                    check,
                    notify,
                },
        } => suite_run(&registry, &file, parallel, store, check, notify),
        Command::Suite {
            action:
                SuiteAction::Render {
                    file,
                    argo: _,
                    image,
                    namespace,
                    schedule,
                    keep_on_failure,
                    once,
                },
        } => {
            let opts = faultline_k8s::argo::ArgoOptions {
                image,
                namespace,
                schedule,
                keep_on_failure,
            };
            k8s::suite_render(&file, &opts, once)
        }
        Command::K8s { action } => k8s::k8s(action),
        Command::Index { store } => match faultline_nightly::index::write_index(&store) {
            Ok((path, n)) => {
                println!("index: {} ({n} runs)", path.display());
                0
            }
            Err(e) => {
                eprintln!("error: cannot index the store {}: {e}", store.display());
                EXIT_HARNESS_FAILURE
            }
        },
        Command::Serve { store, port } => serve(&store, port),
        Command::List {
            what: ListWhat::Nemeses,
        } => {
            for f in faultline_nemesis::catalogue() {
                println!("{:<18} {}", f.name(), f.description());
            }
            0
        }
        Command::List {
            what: ListWhat::Workloads,
        } => {
            for w in registry.workloads() {
                println!("{:<18} {}", w.name(), w.about());
            }
            0
        }
        Command::List {
            what: ListWhat::Systems,
        } => {
            for r in registry.recipes() {
                println!("{:<18} {}", r.name(), r.about());
            }
            0
        }
        Command::Cluster { name, action } => {
            let start = matches
                .subcommand_matches("cluster")
                .and_then(|c| c.subcommand_matches("start"));
            faultline_workloads::cluster_cli::run(&registry, &name, action, start)
        }
    };
    std::process::exit(code);
}

fn serve(store: &std::path::Path, port: u16) -> i32 {
    if let Err(e) = faultline_nightly::index::write_index(store) {
        eprintln!("error: cannot index the store {}: {e}", store.display());
        return EXIT_HARNESS_FAILURE;
    }
    match faultline_nightly::serve::bind(store, port) {
        Ok((server, root)) => {
            println!(
                "serving {} read-only at http://{}/ (Ctrl-C stops)",
                root.display(),
                server.server_addr()
            );
            faultline_nightly::serve::serve_forever(&server, &root);
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_ARGS
        }
    }
}

fn suite_run(
    registry: &faultline_harness::Registry,
    file: &std::path::Path,
    parallel: usize,
    store: PathBuf,
    check: bool,
    notify: Option<String>,
) -> i32 {
    let suite = match faultline_nightly::Suite::read(file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_ARGS;
        }
    };
    if check {
        return match suite.validate(registry, &store) {
            Ok(()) => {
                println!(
                    "suite {}: {} case(s), every one planned",
                    suite.name,
                    suite.cases.len()
                );
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_BAD_ARGS
            }
        };
    }
    let options = faultline_nightly::SuiteOptions { store, parallel };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let cancel = faultline_harness::run::cancel_on_signals();
        faultline_nightly::run_suite(registry, &suite, &options, cancel).await
    });
    match result {
        Ok(outcome) => {
            match faultline_nightly::index::write_index(&options.store) {
                Ok((path, _)) => println!("index: {}", path.display()),
                Err(e) => eprintln!("warning: the store's index was not written: {e}"),
            }
            if let Some(url) = &notify {
                // Logged when it fails; the verdict stays the suite's.
                faultline_nightly::notify::notify(url, &outcome);
            }
            println!("suite: {} ({} runs)", outcome.suite, outcome.runs.len());
            println!("verdict: {}", outcome.verdict);
            println!("summary: {}", outcome.dir.join("junit.xml").display());
            outcome.verdict.exit_code()
        }
        Err(e @ faultline_nightly::SuiteError::Case { .. }) => {
            eprintln!("error: {e}");
            EXIT_BAD_ARGS
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_HARNESS_FAILURE
        }
    }
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

fn analyze(registry: &faultline_harness::Registry, run: &std::path::Path) -> i32 {
    let result = (|| {
        let test = read_test_json(run)?;
        let checkers = registry.checkers_for(&test)?;
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
