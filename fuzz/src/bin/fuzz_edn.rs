//! The EDN reader and everything built on it: Elle's importer (both workloads), the
//! Jepsen bank importer, and the JSON form they also read. None may panic, hang or
//! allocate without bound on any input; errors are fine.
use faultline_checkers::bank_import::{jepsen_bank, JepsenBankOptions};
use faultline_checkers::edn;
use faultline_checkers::elle::{import, Workload};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = edn::parse_all(text);
        let _ = edn::history_forms(text);
        for w in [Workload::Append, Workload::RwRegister] {
            let _ = import::jepsen_history(text, w);
        }
        let _ = jepsen_bank(text, &JepsenBankOptions::default());
    });
}
