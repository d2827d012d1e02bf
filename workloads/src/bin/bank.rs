//! `bank`: `faultline list workloads` says what it does; `bank --help` lists its options.

fn main() {
    faultline_workloads::main("bank")
}
