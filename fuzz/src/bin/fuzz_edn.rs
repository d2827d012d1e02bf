//! The EDN reader and everything built on it: Elle's importer (both workloads), the
//! Jepsen bank importer, and the JSON form they also read. None may panic, hang or
//! allocate without bound on any input; errors are fine.
//! The body is `faultline_checkers::fuzz_targets::edn`, which CI replays on the corpus.

fn main() {
    afl::fuzz!(|data: &[u8]| faultline_checkers::fuzz_targets::edn(data));
}
