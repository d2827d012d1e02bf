//! Jepsen's set, as one workload file: clients add unique integers to a table, a final read
//! after the faults are healed returns the whole set, and the checker compares the two.
//!
//! - add: `INSERT INTO set_elements (element) VALUES (v)`, `v` unique in the run;
//! - read (final phase only): `SELECT element FROM set_elements`.
//!
//! The checker is Jepsen's `checker/set`, from faultline's checkers (`faultline analyze
//! --format jepsen-edn --workload set` runs the same one on Jepsen's own set histories): an
//! element whose add was `ok` but is missing from the final read is **lost** (invalid: the
//! database acknowledged a write it did not keep); an element in the read that no add ever
//! attempted is **unexpected** (invalid); an element whose add was not acknowledged and is
//! present was **recovered** (fine: it happened). No ok read at all is unknown. A workload
//! with a checker of its own implements `Checker` (`name`, `check(&History) -> CheckResult`)
//! in this file and returns it from `checkers`.
//!
//! Everything a workload is lives here: its options (a clap `Args`, stored in test.json),
//! the client and the generators. `main.rs` registers it with one line.

use faultline::checkers::set::SetChecker;
use faultline::prelude::*;
use faultline::sql::mysql_async::prelude::Queryable;
use faultline::sql::{conn::setup_connection, SqlConn, Stage};
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
