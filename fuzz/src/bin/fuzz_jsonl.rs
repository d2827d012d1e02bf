//! The JSONL history readers: faultline-core's generic reader, the Elle fast path, and a
//! differential check of the fast line parser against serde: a line the fast parser
//! accepts must parse with serde to the same op.
use faultline_checkers::elle::fastline::{self, Scratch};
use faultline_checkers::elle::history::{parse_jsonl, TxnValue};
use faultline_core::{History, Op};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = History::<serde_json::Value>::parse_str(text);
        let _ = parse_jsonl(text);
        let mut scratch = Scratch::default();
        for line in text.lines() {
            let line = line.trim();
            let Some(mut fast) = fastline::parse(line.as_bytes(), &mut scratch) else {
                continue;
            };
            if let Some(m) = fast.mops.as_mut() {
                scratch.pool.share(&mut [m]);
            }
            let slow: Op<TxnValue> = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("fast path accepted what serde rejects ({e}): {line}"));
            assert_eq!(fast.index, slow.index, "{line}");
            assert_eq!(fast.process, slow.process, "{line}");
            assert_eq!(fast.kind, slow.kind, "{line}");
            assert_eq!(fast.txn, slow.f == "txn", "{line}");
            assert_eq!(fast.mops, slow.value.0, "{line}");
        }
    });
}
