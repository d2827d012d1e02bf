//! What each fuzz target of `fuzz/` feeds an input to, kept here so that the fuzzers and the
//! corpus replay test (`tests/it/fuzz_corpus.rs`, run by CI) run exactly the same code. None
//! of these may panic, hang or allocate without bound on any input; errors are fine.

use crate::bank_import::{jepsen_bank, JepsenBankOptions};
use crate::edn;
use crate::elle::fastline::{self, Scratch};
use crate::elle::history::{parse_jsonl, TxnValue};
use crate::elle::{import, Workload};
use crate::linearizable::import as lin_import;
use faultline_core::{History, Op};

/// `fuzz_edn`: the EDN reader, Elle's Jepsen importer for both workloads (EDN and the JSON
/// form), the Jepsen bank importer, the Jepsen set importer and both set checkers.
pub fn edn(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = edn::parse_all(text);
    let _ = edn::history_forms(text);
    for w in [Workload::Append, Workload::RwRegister] {
        let _ = import::jepsen_history(text, w);
    }
    let _ = jepsen_bank(text, &JepsenBankOptions::default());
    if let Ok(h) = crate::set::jepsen_set_history(text) {
        use faultline_core::Checker;
        let _ = crate::set::SetChecker.check(&h);
        let _ = crate::set::SetFullChecker { linearizable: true }.check(&h);
    }
}

/// `fuzz_porcupine`: both Porcupine importers (etcd log lines, kv EDN) and the Knossos
/// register EDN reader.
pub fn porcupine(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = lin_import::porcupine_etcd_str(text);
    let _ = lin_import::porcupine_kv_str(text);
    let _ = lin_import::jepsen_edn_register_str(text);
}

/// `fuzz_jsonl`: faultline-core's JSONL reader, the Elle fast-path reader, and a
/// differential check: a line the byte-level fast parser accepts must parse with serde to
/// the same op (a difference panics, so the fuzzer reports it).
pub fn jsonl(data: &[u8]) {
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
}
