//! `rw-register`: `faultline list workloads` says what it does; `rw-register --help` lists its options.

fn main() {
    faultline_workloads::main("rw-register")
}
