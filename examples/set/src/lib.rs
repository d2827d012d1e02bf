//! Jepsen's set, as one workload file: clients add unique integers to a table, a final read
//! after the faults are healed returns the whole set, and the checker compares the two.
//!
//! - add: `INSERT INTO set_elements (element) VALUES (v)`, `v` unique in the run;
//! - read (final phase only): `SELECT element FROM set_elements`.
//!
//! The checker, after Jepsen's `checker/set`: an element whose add was `ok` but is missing
//! from the final read is **lost** (invalid: the database acknowledged a write it did not
//! keep); an element in the read that no add ever attempted is **unexpected** (invalid); an
//! element whose add was `info` (unknown outcome) and is present was **recovered** (fine:
//! it happened). No ok read at all is unknown.
//!
//! Everything a workload is lives here: its options (a clap `Args`, stored in test.json),
//! the client, the generators and the checker. `main.rs` registers it with one line.

use faultline::prelude::*;
use faultline::sql::mysql_async::prelude::Queryable;
use faultline::sql::{conn::setup_connection, SqlConn, Stage};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// The options of the set workload.
#[derive(clap::Args, Clone, Debug, Serialize, Deserialize)]
#[serde(crate = "faultline::serde")]
pub struct SetOptions {
    /// Final reads, each on its own client, after the faults are healed.
    #[arg(long, default_value_t = 2)]
    pub final_reads: usize,
}

/// `set`: the workload as the registry knows it.
pub struct Set;

impl WorkloadDef for Set {
    type Options = SetOptions;
    fn name(&self) -> &'static str {
        "set"
    }
    fn about(&self) -> &'static str {
        "unique adds, then a final read: lost, unexpected and recovered elements (Jepsen's set)"
    }
    fn defaults(&self) -> Defaults {
        // The checker is linear: as fast as the database answers.
        Defaults {
            op_interval_ms: Some("0"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &SetOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> faultline::anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(SetRun {
            opts: opts.clone(),
            sut: sut.clone(),
            next: Arc::new(AtomicI64::new(0)),
        }))
    }
    fn checkers(&self, _opts: &SetOptions) -> faultline::anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(SetChecker)])
    }
}

struct SetRun {
    opts: SetOptions,
    sut: Sut,
    next: Arc<AtomicI64>,
}

#[async_trait]
impl Workload for SetRun {
    async fn setup(&self) -> faultline::anyhow::Result<()> {
        let mut conn = setup_connection(&self.sut.endpoints[0]).await?;
        conn.query_drop("CREATE TABLE IF NOT EXISTS set_elements (element BIGINT PRIMARY KEY)")
            .await?;
        conn.query_drop("DELETE FROM set_elements").await?;
        Ok(())
    }

    fn client(&self, node: &str) -> Box<dyn Client> {
        Box::new(SetClient {
            conn: SqlConn::new(self.sut.endpoint_for(node), vec![]),
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        let next = self.next.clone();
        from_fn(move |_| Invocation::new("add", json!(next.fetch_add(1, Ordering::Relaxed))))
    }

    fn final_generator(&self) -> Option<Gen<Invocation>> {
        let reads = (0..self.opts.final_reads.max(1))
            .map(|_| once(Invocation::new("read", Value::Null)))
            .collect();
        Some(seq(reads))
    }
}

struct SetClient {
    conn: SqlConn,
}

#[async_trait]
impl Client for SetClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        match op.f.as_str() {
            "add" => {
                let v = op.value.as_i64().unwrap_or(-1);
                // One statement in autocommit: its answer is its commit's.
                let sql = format!("INSERT INTO set_elements (element) VALUES ({v})");
                match self.conn.exec(&sql, Stage::Commit).await {
                    Ok(()) => Completion::ok(None),
                    Err(e) => e.completion(),
                }
            }
            "read" => {
                let rows: Result<Vec<i64>, _> = match self.conn.get().await {
                    Ok(c) => c.query("SELECT element FROM set_elements").await,
                    Err(e) => return e.completion(),
                };
                match rows {
                    Ok(v) => Completion::ok(Some(json!(v))),
                    Err(e) => self.conn.error(e, Stage::ReadOnly).completion(),
                }
            }
            other => Completion::fail(format!("unknown set op {other}")),
        }
    }

    fn reset(&mut self) {
        self.conn.reset();
    }

    fn is_read_only(&self, op: &Invocation) -> bool {
        op.f == "read"
    }
}

/// Jepsen's set checker over the last ok read (see the module doc).
pub struct SetChecker;

fn elements(v: &Value) -> BTreeSet<i64> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect()
}

/// At most this many elements are listed per kind in the details.
const SHOWN: usize = 20;

impl Checker for SetChecker {
    fn name(&self) -> &str {
        "set"
    }

    fn check(&self, history: &History) -> CheckResult {
        let client = || history.ops.iter().filter(|o| o.is_client());
        let adds = |kind: OpType| -> BTreeSet<i64> {
            client()
                .filter(|o| o.f == "add" && o.kind == kind)
                .filter_map(|o| o.value.as_i64())
                .collect()
        };
        let (ok, info) = (adds(OpType::Ok), adds(OpType::Info));
        let attempted: BTreeSet<i64> = client()
            .filter(|o| o.f == "add" && o.is_invoke())
            .filter_map(|o| o.value.as_i64())
            .collect();
        let Some(read) = client().rfind(|o| o.f == "read" && o.is_ok()) else {
            return CheckResult::new(
                "set",
                Validity::Unknown,
                "no final read succeeded: nothing to compare the adds with",
                Value::Null,
            );
        };
        let read = elements(&read.value);
        let lost: Vec<i64> = ok.difference(&read).copied().collect();
        let unexpected: Vec<i64> = read.difference(&attempted).copied().collect();
        let recovered: Vec<i64> = info.intersection(&read).copied().collect();
        let valid = if lost.is_empty() && unexpected.is_empty() {
            Validity::Valid
        } else {
            Validity::Invalid
        };
        let summary = match valid {
            Validity::Valid => format!(
                "{} acknowledged adds all read back; {} of {} unknown adds recovered",
                ok.len(),
                recovered.len(),
                info.len()
            ),
            _ => format!(
                "{} acknowledged add(s) lost, {} unexpected element(s): the database lost \
                 committed writes or returned values nobody wrote",
                lost.len(),
                unexpected.len()
            ),
        };
        let head = |v: &[i64]| v.iter().take(SHOWN).copied().collect::<Vec<_>>();
        CheckResult::new(
            "set",
            valid,
            summary,
            json!({
                "attempted": attempted.len(), "acknowledged": ok.len(), "unknown": info.len(),
                "read": read.len(), "lost_count": lost.len(), "lost": head(&lost),
                "unexpected_count": unexpected.len(), "unexpected": head(&unexpected),
                "recovered_count": recovered.len(), "recovered": head(&recovered),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    //! The checker on hand-written histories: each verdict it can reach.
    use super::*;

    fn op(index: u64, process: u64, kind: OpType, f: &str, value: Value) -> Op {
        Op {
            index,
            time: index * 1000,
            process: Process::Client(process),
            kind,
            f: f.into(),
            value,
            node: None,
            error: None,
        }
    }

    /// Adds 1 (ok), 2 (info), 3 (ok), then a read of `read`.
    fn history(read: Option<Value>) -> History {
        let mut ops = vec![
            op(0, 0, OpType::Invoke, "add", json!(1)),
            op(1, 0, OpType::Ok, "add", json!(1)),
            op(2, 1, OpType::Invoke, "add", json!(2)),
            op(3, 1, OpType::Info, "add", json!(2)),
            op(4, 2, OpType::Invoke, "add", json!(3)),
            op(5, 2, OpType::Ok, "add", json!(3)),
        ];
        if let Some(r) = read {
            ops.push(op(6, 3, OpType::Invoke, "read", Value::Null));
            ops.push(op(7, 3, OpType::Ok, "read", r));
        }
        History::new(ops)
    }

    #[test]
    fn every_acknowledged_add_read_back_is_valid_and_unknown_ones_are_recovered() {
        let r = SetChecker.check(&history(Some(json!([1, 2, 3]))));
        assert_eq!(r.valid, Validity::Valid, "{}", r.summary);
        assert_eq!(r.details["recovered"], json!([2]));
        let r = SetChecker.check(&history(Some(json!([1, 3]))));
        assert_eq!(r.valid, Validity::Valid, "an unknown add may have failed");
    }

    #[test]
    fn a_missing_acknowledged_add_is_lost() {
        let r = SetChecker.check(&history(Some(json!([1, 2]))));
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!(r.details["lost"], json!([3]));
        assert!(r.summary.contains("lost"), "{}", r.summary);
    }

    #[test]
    fn an_element_nobody_added_is_unexpected() {
        let r = SetChecker.check(&history(Some(json!([1, 3, 99]))));
        assert_eq!(r.valid, Validity::Invalid);
        assert_eq!(r.details["unexpected"], json!([99]));
    }

    #[test]
    fn without_a_final_read_nothing_is_decided() {
        assert_eq!(SetChecker.check(&history(None)).valid, Validity::Unknown);
    }
}
