//! `register`: reads, writes and compare-and-sets on independent registers against a
//! cluster under faults, checked for linearizability per key. `register --help` lists the
//! options; `--sync-wait` turns on Galera's causal reads.

use clap::Parser;
use faultline_harness::RunArgs;
use faultline_workloads::cli;
use faultline_workloads::register::{Register, RegisterOptions};

/// Registers under faults: is every read the latest write, as if each op took one instant?
#[derive(Parser)]
#[command(name = "register", version)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    register: RegisterOptions,
}

fn main() {
    let cli: Cli = cli::parse_or_exit();
    let opts = cli.register.clone();
    cli::run_main("register", &cli.run, move |endpoints| {
        Box::new(Register::new(opts, endpoints))
    })
}
