//! `register`: `faultline list workloads` says what it does; `register --help` lists its options.

fn main() {
    faultline_workloads::main("register")
}
