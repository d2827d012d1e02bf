//! The command-line front end shared by the test binaries: parse (bad arguments exit 254
//! with one line), open the run folder, log, run, print the verdict, the seed and the store
//! path last, and exit 0 valid / 1 invalid / 2 unknown / 255 harness failure.

use clap::Parser;
use faultline_cluster::Endpoint;
use faultline_harness::analyze::print_verdict;
use faultline_harness::run::{cancel_on_signals, run_test};
use faultline_harness::store::RunDir;
use faultline_harness::{logging, RunArgs, Workload, EXIT_BAD_ARGS, EXIT_HARNESS_FAILURE};

/// Parses the command line; `--help` and `--version` exit 0, anything wrong exits 254.
pub fn parse_or_exit<C: Parser>() -> C {
    match C::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_ARGS } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    }
}

/// Runs test `test` with `args`, building the workload with `make`; never returns.
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

pub fn run_main(
    test: &str,
    args: &RunArgs,
    make: impl FnOnce(&[Endpoint]) -> Box<dyn Workload>,
) -> ! {
    let spec = match args.resolve(test) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(EXIT_BAD_ARGS);
        }
    };
    // Local MariaDB clusters need their packages; an external cluster needs nothing here,
    // and the TiDB playground checked its binaries when the arguments were resolved.
    let local = !spec.db.starts_with("mysql://") && spec.tidb.is_none();
    let preflight = if local {
        faultline_cluster::preflight::check(spec.db == "local-galera")
    } else {
        Ok(())
    };
    if let Err(e) = preflight {
        eprintln!("error: {e}");
        std::process::exit(EXIT_HARNESS_FAILURE);
    }
    let dir = open_run_dir(&spec.store, test);
    let seed = spec.seed;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async {
        let cancel = cancel_on_signals();
        let slo = spec.recovery_slo_s;
        run_test(spec, &dir, cancel, move |endpoints| {
            Box::new(crate::standard::WithStandardCheckers {
                inner: make(endpoints),
                recovery_slo_s: slo,
            })
        })
        .await
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
            std::process::exit(outcome.checked.verdict.exit_code());
        }
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            println!("verdict: unknown (the harness failed)");
            println!("seed: {seed}");
            println!("store: {}", dir.path.display());
            std::process::exit(EXIT_HARNESS_FAILURE);
        }
    }
}
