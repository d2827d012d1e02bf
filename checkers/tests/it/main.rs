//! faultline-checkers' integration tests, one binary, one module per topic: Elle's own test
//! suite and histories, hand-written anomalies, EDN and elle-cli imports, property tests,
//! the linearizability checker on hand-made, generated and Porcupine's published
//! histories, and Jepsen's bank and set histories.

mod common;

mod bank_jepsen;
mod elle_anomalies;
mod elle_edn;
mod elle_histories;
mod elle_import;
mod elle_props;
mod elle_suite_append;
mod elle_suite_register;
mod fuzz_corpus;
mod linearizable_checker;
mod linearizable_kv;
mod linearizable_porcupine;
mod linearizable_props;
mod set_jepsen;
