//! `append`: transactions appending to and reading lists against a cluster under faults,
//! checked for isolation anomalies (Elle's list-append). `append --help` lists the options.

use clap::Parser;
use faultline_harness::RunArgs;
use faultline_workloads::append::{self, AppendOptions};
use faultline_workloads::cli;

/// List-append transactions under faults: which isolation anomalies does the database show?
#[derive(Parser)]
#[command(name = "append", version)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    append: AppendOptions,
}

fn main() {
    let cli: Cli = cli::parse_or_exit();
    let opts = cli.append.clone();
    cli::run_main("append", &cli.run, move |endpoints| {
        Box::new(append::workload(opts, endpoints))
    })
}
