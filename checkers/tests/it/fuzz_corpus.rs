//! The fuzzers' corpus (`fuzz/corpus/<target>/`, seeds plus what the fuzz runs kept) fed to
//! the same target functions the fuzzers run (`faultline_checkers::fuzz_targets`): a smoke
//! run for CI, which does not build cargo-afl. A panic here is a fuzzer finding.

use faultline_checkers::fuzz_targets;
use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            // A truncated copy too: histories cut mid-line are the common real input.
            run(&data[..data.len() / 2]);
            run(&data);
            inputs += 1;
        }
    }
    assert!(inputs >= 2, "{}: only {inputs} inputs", dir.display());
}

#[test]
fn edn_corpus_replays_without_a_panic() {
    replay("edn", fuzz_targets::edn);
}

#[test]
fn porcupine_corpus_replays_without_a_panic() {
    replay("porcupine", fuzz_targets::porcupine);
}

#[test]
fn jsonl_corpus_replays_without_a_panic() {
    replay("jsonl", fuzz_targets::jsonl);
}
