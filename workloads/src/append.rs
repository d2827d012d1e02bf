//! The list-append workload (Elle's): transactions append unique integers to lists and read
//! whole lists, so every read reveals the order of the appends before it and the checker
//! can infer each key's version order and look for isolation anomalies.
//!
//! Schema: `--tables` tables `append0, append1, ...` of `(id BIGINT PRIMARY KEY, val TEXT)`,
//! key `k` in table `k % tables`; a list is its elements joined by commas.
//! - append: `INSERT INTO t (id, val) VALUES (k, 'v') ON DUPLICATE KEY UPDATE
//!   val = CONCAT(val, ',', 'v')`;
//! - read: `SELECT val FROM t WHERE id = k` (`FOR UPDATE` with `--read-lock for-update`),
//!   parsed back into a list of integers; no row is the empty list.
//!
//! History values (the elle checker's convention): `f = "txn"`, value
//! `[["append", k, v], ["r", k, null]]` on invoke, the reads filled in on `ok`:
//! `["r", k, [1, 2, 3]]`. Options, key rotation, classification and the default model are
//! described in [`crate::txn`].

use crate::txn::{TxnKind, TxnWorkload};
use faultline_checkers::elle::{ElleChecker, ElleError, Workload as ElleWorkload};
use faultline_core::{Checker, Endpoint};
use faultline_harness::{Defaults, RunSpec, Sut, Workload, WorkloadDef};
use serde_json::Value;

pub use crate::txn::TxnOptions as AppendOptions;

/// `append`: list-append transactions, checked by Elle's rules.
pub struct Append;

impl WorkloadDef for Append {
    type Options = AppendOptions;
    fn name(&self) -> &'static str {
        "append"
    }
    fn about(&self) -> &'static str {
        "list-append transactions; Elle-style isolation anomalies"
    }
    fn defaults(&self) -> Defaults {
        // Unpaced: the Elle list-append checker is linear in the history, so nothing is gained by pacing and
        // anomalies that need contention show up sooner.
        Defaults {
            op_interval_ms: Some("0"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &AppendOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(workload(opts.clone(), &sut.endpoints)))
    }
    fn checkers(&self, opts: &AppendOptions) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(checker(opts)?)])
    }
}

/// The append workload with these options against these endpoints.
pub fn workload(opts: AppendOptions, endpoints: &[Endpoint]) -> TxnWorkload {
    TxnWorkload::new(TxnKind::Append, opts, endpoints)
}

/// The checker for an append run with these options (also used by analyze).
pub fn checker(opts: &AppendOptions) -> Result<ElleChecker, ElleError> {
    opts.checker(ElleWorkload::Append)
}

/// The statement appending `value` to `key`'s list.
pub fn append_sql(table: &str, key: i64, value: i64) -> String {
    format!(
        "INSERT INTO {table} (id, val) VALUES ({key}, '{value}') \
         ON DUPLICATE KEY UPDATE val = CONCAT(val, ',', '{value}')"
    )
}

/// A stored list (`None`: no row) as the history's read value; an element that is not an
/// integer is an error carrying the raw text.
pub fn parse_list(text: Option<&str>) -> Result<Value, String> {
    let Some(text) = text else {
        return Ok(Value::Array(vec![]));
    };
    if text.is_empty() {
        return Ok(Value::Array(vec![]));
    }
    text.split(',')
        .map(|x| x.trim().parse::<i64>().map(Value::from))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
        .map_err(|_| format!("read a list that is not comma-separated integers: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_parse_back_into_integers() {
        assert_eq!(parse_list(None).unwrap(), json!([]));
        assert_eq!(parse_list(Some("")).unwrap(), json!([]));
        assert_eq!(parse_list(Some("3")).unwrap(), json!([3]));
        assert_eq!(parse_list(Some("1,2,10")).unwrap(), json!([1, 2, 10]));
        assert!(parse_list(Some("1,,2")).is_err());
        assert!(parse_list(Some("1,x")).is_err());
    }

    #[test]
    fn appends_concatenate() {
        let s = append_sql("append1", 7, 3);
        assert!(s.contains("VALUES (7, '3')"), "{s}");
        assert!(s.contains("CONCAT(val, ',', '3')"), "{s}");
    }

    #[test]
    fn default_model_follows_the_isolation_level() {
        use crate::sql::Isolation;
        let mut o = AppendOptions::default();
        assert_eq!(checker(&o).unwrap().model, "repeatable-read");
        o.isolation = Some(Isolation::Serializable);
        assert_eq!(checker(&o).unwrap().model, "serializable");
        o.isolation = Some(Isolation::ReadCommitted);
        assert_eq!(checker(&o).unwrap().model, "read-committed");
        o.model = Some("strict-serializable".into());
        assert_eq!(checker(&o).unwrap().model, "strict-serializable");
    }
}
