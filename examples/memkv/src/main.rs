//! The `memkv` test binary: faultline's built-ins, plus the memkv system and its register
//! workload. `cargo run -p faultline-example-memkv -- --nemesis random_kill,partition_one`

fn main() {
    faultline::builtin()
        .recipe(faultline_example_memkv::MemKvRecipe)
        .workload(faultline_example_memkv::Register)
        .main("memkv-register")
}
