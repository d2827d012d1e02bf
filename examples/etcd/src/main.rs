//! The `faultline-etcd` test binary: faultline's built-ins plus the etcd system and its two
//! workloads; it runs `etcd-register`.
//! `cargo run -p faultline-example-etcd -- --nemesis random_kill,partition_one,pause_one`
//! (`faultline run etcd-append -- ...` runs the other one.)

fn main() {
    faultline_example_etcd::register_all(faultline::builtin()).main("etcd-register")
}
