//! `sqlsmith`: `faultline list workloads` says what it does; `sqlsmith --help` lists its options.

fn main() {
    faultline_workloads::main("sqlsmith")
}
