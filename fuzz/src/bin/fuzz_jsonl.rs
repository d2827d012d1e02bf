//! The JSONL history readers: faultline-core's generic reader, the Elle fast path, and a
//! differential check of the fast line parser against serde: a line the fast parser
//! accepts must parse with serde to the same op.
//! The body is `faultline_checkers::fuzz_targets::jsonl`, which CI replays on the corpus.

fn main() {
    afl::fuzz!(|data: &[u8]| faultline_checkers::fuzz_targets::jsonl(data));
}
