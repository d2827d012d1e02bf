//! `rw-register`: transactions writing and reading registers against a cluster under
//! faults, checked for isolation anomalies (Elle's rw-register). `rw-register --help` lists
//! the options.

use clap::Parser;
use faultline_harness::RunArgs;
use faultline_workloads::cli;
use faultline_workloads::rw_register::{self, RwRegisterOptions};

/// Read-write register transactions under faults: which isolation anomalies show up?
#[derive(Parser)]
#[command(name = "rw-register", version)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    rw: RwRegisterOptions,
}

fn main() {
    let cli: Cli = cli::parse_or_exit();
    let opts = cli.rw.clone();
    cli::run_main("rw-register", &cli.run, move |endpoints| {
        Box::new(rw_register::workload(opts, endpoints))
    })
}
