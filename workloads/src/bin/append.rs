//! `append`: `faultline list workloads` says what it does; `append --help` lists its options.

fn main() {
    faultline_workloads::main("append")
}
