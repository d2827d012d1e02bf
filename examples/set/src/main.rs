//! The `set` test binary: faultline's built-in systems and workloads, plus this one.
//! `cargo run -p faultline-example-set -- --nemesis random_kill,partition_one`

fn main() {
    faultline::builtin()
        .workload(faultline_example_set::Set)
        .main("set")
}
