//! The rw-register workload (Elle's): transactions write unique integers to registers and
//! read them. Reads reveal less than list-append (a read shows only the last write), so the
//! checker infers fewer dependencies, but the shape is the same and some databases are only
//! tested this way.
//!
//! Schema: `--tables` tables `rw0, rw1, ...` of `(id BIGINT PRIMARY KEY, val BIGINT)`, key
//! `k` in table `k % tables`.
//! - write: `INSERT INTO t (id, val) VALUES (k, v) ON DUPLICATE KEY UPDATE val = v`, `v`
//!   unique per key;
//! - read: `SELECT val FROM t WHERE id = k` (`FOR UPDATE` with `--read-lock for-update`);
//!   no row is `null`, the initial state.
//!
//! History values (the elle checker's convention): `f = "txn"`, value
//! `[["w", k, v], ["r", k, null]]` on invoke, the reads filled in on `ok`: `["r", k, 3]`.
//! Options, key rotation, classification and the default model are described in
//! [`crate::txn`].

use crate::txn::{TxnKind, TxnWorkload};
use faultline_checkers::elle::{ElleChecker, ElleError, Workload as ElleWorkload};
use faultline_core::{Checker, Endpoint};
use faultline_harness::{Defaults, RunSpec, Sut, Workload, WorkloadDef};

pub use crate::txn::TxnOptions as RwRegisterOptions;

/// `rw-register`: transactions of writes and reads on registers, checked by Elle's rules.
pub struct RwRegister;

impl WorkloadDef for RwRegister {
    type Options = RwRegisterOptions;
    fn name(&self) -> &'static str {
        "rw-register"
    }
    fn about(&self) -> &'static str {
        "write/read transactions on registers; Elle-style isolation anomalies"
    }
    fn defaults(&self) -> Defaults {
        // Unpaced: the Elle rw-register checker is linear in the history, so nothing is gained by pacing and
        // anomalies that need contention show up sooner.
        Defaults {
            op_interval_ms: Some("0"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &RwRegisterOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(workload(opts.clone(), &sut.endpoints)))
    }
    fn checkers(&self, opts: &RwRegisterOptions) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(checker(opts)?)])
    }
}

/// The rw-register workload with these options against these endpoints.
pub fn workload(opts: RwRegisterOptions, endpoints: &[Endpoint]) -> TxnWorkload {
    TxnWorkload::new(TxnKind::RwRegister, opts, endpoints)
}

/// The checker for an rw-register run with these options (also used by analyze).
pub fn checker(opts: &RwRegisterOptions) -> Result<ElleChecker, ElleError> {
    opts.checker(ElleWorkload::RwRegister)
}

/// The statement writing `value` to `key`.
pub fn write_sql(table: &str, key: i64, value: i64) -> String {
    format!(
        "INSERT INTO {table} (id, val) VALUES ({key}, {value}) \
         ON DUPLICATE KEY UPDATE val = {value}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_upsert() {
        let s = write_sql("rw0", 4, 9);
        assert!(s.contains("VALUES (4, 9)") && s.ends_with("val = 9"), "{s}");
    }

    #[test]
    fn the_checker_is_rw_register() {
        let c = checker(&RwRegisterOptions::default()).unwrap();
        assert_eq!(c.workload, ElleWorkload::RwRegister);
    }
}
