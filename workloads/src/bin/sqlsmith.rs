//! `sqlsmith`: random SQL on the system under test, compared with a reference server and
//! checked by TLP and NoREC; `sqlsmith --help` lists the options.

use clap::Parser;
use faultline_harness::analyze::print_verdict;
use faultline_harness::{EXIT_BAD_ARGS, EXIT_HARNESS_FAILURE};
use faultline_workloads::cli::{open_run_dir, parse_or_exit};
use faultline_workloads::sqlsmith::cli::{run, SqlsmithArgs};

/// Random SQL against MariaDB / Galera, diffed against a reference.
#[derive(Parser)]
#[command(name = "sqlsmith", version)]
struct Cli {
    #[command(flatten)]
    args: SqlsmithArgs,
}

fn main() {
    let cli: Cli = parse_or_exit();
    let resolved = match cli.args.resolve() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(EXIT_BAD_ARGS);
        }
    };
    if let Err(e) = faultline_cluster::preflight::check(resolved.args.db == "local-galera") {
        eprintln!("error: {e}");
        std::process::exit(EXIT_HARNESS_FAILURE);
    }
    let dir = open_run_dir(&resolved.args.store, "sqlsmith");
    let seed = resolved.seed;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(async {
        let cancel = faultline_harness::run::cancel_on_signals();
        run(&resolved, &dir, cancel).await
    });
    drop(rt);
    match result {
        Ok((checked, report)) => {
            let s = &report.stats;
            println!(
                "{} statements, {:.0}/s, syntax errors {:.3}%, {} unknown, {} TLP, {} aggregate TLP and {} NoREC checks",
                s.statements,
                s.statements_per_s,
                100.0 * s.syntax_error_rate(),
                s.unknown,
                s.tlp_checks,
                s.tlp_agg_checks,
                s.norec_checks
            );
            for f in &report.findings {
                let repro = f
                    .reproducer
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                println!(
                    "  {} at statement {}: {} {repro}",
                    f.oracle, f.index, f.what
                );
            }
            println!("report: {}", dir.file("report.html").display());
            print_verdict(checked.verdict, &checked.results, Some(seed), &dir.path);
            std::process::exit(checked.verdict.exit_code());
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
