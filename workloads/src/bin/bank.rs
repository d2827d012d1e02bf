//! `bank`: transfers between accounts and reads of all balances against a cluster under
//! faults; the total must never change. `bank --help` lists the options.

use clap::Parser;
use faultline_harness::RunArgs;
use faultline_workloads::bank::{Bank, BankOptions};
use faultline_workloads::cli;

/// Bank transfers under faults: does the total stay the same?
#[derive(Parser)]
#[command(name = "bank", version)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    bank: BankOptions,
}

fn main() {
    let cli: Cli = cli::parse_or_exit();
    let bank = cli.bank.clone();
    cli::run_main("bank", &cli.run, move |endpoints| {
        Box::new(Bank::new(bank, endpoints))
    })
}
