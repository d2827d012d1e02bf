//! Both Porcupine importers (etcd log lines, kv EDN) and the Knossos register EDN reader.
use faultline_checkers::linearizable::import;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = import::porcupine_etcd_str(text);
        let _ = import::porcupine_kv_str(text);
        let _ = import::jepsen_edn_register_str(text);
    });
}
