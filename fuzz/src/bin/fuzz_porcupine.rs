//! Both Porcupine importers (etcd log lines, kv EDN) and the Knossos register EDN reader.
//! The body is `faultline_checkers::fuzz_targets::porcupine`, which CI replays on the corpus.

fn main() {
    afl::fuzz!(|data: &[u8]| faultline_checkers::fuzz_targets::porcupine(data));
}
