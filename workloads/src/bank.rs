//! The bank workload: money moves between accounts, the total never changes.
//!
//! A transfer reads the two balances and writes both back, computed, in one transaction
//! (Jepsen's bank: read-modify-write, so it exercises the isolation level: with
//! `--read-lock none` at REPEATABLE READ, InnoDB permits lost updates, which the checker
//! will see as a changed total). A read returns all balances in one transaction. Ops go to
//! whichever node the worker is bound to. A transfer that would overdraw is a `fail`.
//!
//! History values: transfer `{"from": a, "to": b, "amount": n}`, on ok also
//! `"read": {"<a>": balance, "<b>": balance}` (what it read); read `null` on invoke and
//! `{"balances": {"0": 20, ...}}` on ok.

pub use crate::sql::isolation::{Isolation, ReadLock};
use crate::sql::{SqlConn, Stage};
use async_trait::async_trait;
use clap::Args;
use faultline_checkers::bank::{BankChecker, BankSettings};
use faultline_core::generator::{from_fn, mix, once, seq, Gen};
use faultline_core::{Checker, Client, Completion, Endpoint, Invocation};
use faultline_harness::{Defaults, RunSpec, Sut, Workload, WorkloadDef};
use mysql_async::prelude::Queryable;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct BankOptions {
    /// Number of accounts.
    #[arg(long, default_value_t = 5)]
    pub accounts: u64,
    /// Money in the bank, spread evenly over the accounts.
    #[arg(long, default_value_t = 100)]
    pub total_amount: i64,
    /// Largest amount of one transfer.
    #[arg(long, default_value_t = 5)]
    pub max_transfer: i64,
    /// Transaction isolation level (default: the server's, REPEATABLE READ on MariaDB).
    #[arg(long, value_enum)]
    pub isolation: Option<Isolation>,
    /// Lock the rows a transfer reads (`SELECT ... FOR UPDATE`) or not.
    #[arg(long, value_enum, default_value = "none")]
    pub read_lock: ReadLock,
}

/// `bank`: the workload as the registry knows it.
pub struct Bank;

impl WorkloadDef for Bank {
    type Options = BankOptions;
    fn name(&self) -> &'static str {
        "bank"
    }
    fn about(&self) -> &'static str {
        "transfers between accounts and reads of all balances; the total never changes"
    }
    fn defaults(&self) -> Defaults {
        // Unpaced: the bank checker is linear in the history, so nothing is gained by pacing and
        // anomalies that need contention show up sooner.
        Defaults {
            op_interval_ms: Some("0"),
            ..Defaults::default()
        }
    }
    fn build(
        &self,
        opts: &BankOptions,
        sut: &Sut,
        _spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        Ok(Box::new(BankRun::new(opts.clone(), &sut.endpoints)))
    }
    fn checkers(&self, opts: &BankOptions) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        Ok(vec![Box::new(Bank::checker(opts))])
    }
}

impl Bank {
    /// The checker for a bank run with these options.
    pub fn checker(opts: &BankOptions) -> BankChecker {
        BankChecker {
            accounts: (0..opts.accounts).collect(),
            total: opts.total_amount,
            settings: BankSettings {
                isolation: opts.isolation.map(|i| kebab(&i)),
                read_lock: Some(kebab(&opts.read_lock)),
            },
        }
    }
}

/// An option's value as the command line spells it (`for-update`).
fn kebab(v: &impl Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// One bank run against a system's endpoints.
pub struct BankRun {
    opts: BankOptions,
    endpoints: Vec<Endpoint>,
}

impl BankRun {
    pub fn new(opts: BankOptions, endpoints: &[Endpoint]) -> Self {
        BankRun {
            opts,
            endpoints: endpoints.to_vec(),
        }
    }

    fn init_statements(&self) -> Vec<String> {
        crate::sql::conn::session(self.opts.isolation, false)
    }
}

#[async_trait]
impl Workload for BankRun {
    async fn setup(&self) -> anyhow::Result<()> {
        let mut conn = crate::sql::conn::setup_connection(&self.endpoints[0]).await?;
        conn.query_drop(
            "CREATE TABLE IF NOT EXISTS accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)",
        )
        .await?;
        conn.query_drop("DELETE FROM accounts").await?;
        let n = self.opts.accounts as i64;
        let each = self.opts.total_amount / n;
        let values: Vec<String> = (0..n)
            .map(|i| {
                let b = if i == n - 1 {
                    self.opts.total_amount - each * (n - 1)
                } else {
                    each
                };
                format!("({i}, {b})")
            })
            .collect();
        conn.query_drop(format!("INSERT INTO accounts VALUES {}", values.join(",")))
            .await?;
        Ok(())
    }

    fn client(&self, node: &str) -> Box<dyn Client> {
        let endpoint = crate::sql::conn::endpoint_for(&self.endpoints, node);
        Box::new(BankClient {
            conn: SqlConn::new(endpoint, self.init_statements()),
            read_lock: self.opts.read_lock,
        })
    }

    fn generator(&self) -> Gen<Invocation> {
        let accounts = self.opts.accounts;
        let max = self.opts.max_transfer.max(1);
        mix(vec![
            from_fn(|_| Invocation::new("read", Value::Null)),
            from_fn(move |ctx| {
                let from = ctx.rng.random_range(0..accounts);
                let mut to = ctx.rng.random_range(0..accounts - 1);
                if to >= from {
                    to += 1;
                }
                let amount = ctx.rng.random_range(1..=max);
                Invocation::new(
                    "transfer",
                    json!({"from": from, "to": to, "amount": amount}),
                )
            }),
        ])
    }

    fn final_generator(&self) -> Option<Gen<Invocation>> {
        Some(seq((0..self.endpoints.len() * 2)
            .map(|_| once(Invocation::new("read", Value::Null)))
            .collect()))
    }
}

struct BankClient {
    conn: SqlConn,
    read_lock: ReadLock,
}

impl BankClient {
    fn lock_clause(&self) -> &'static str {
        match self.read_lock {
            ReadLock::None => "",
            ReadLock::ForUpdate => " FOR UPDATE",
        }
    }

    async fn read(&mut self) -> Result<Value, crate::sql::conn::OpError> {
        let lock = self.lock_clause();
        self.conn.exec("START TRANSACTION", Stage::ReadOnly).await?;
        let rows: Result<Vec<(i64, i64)>, _> = self
            .conn
            .get()
            .await?
            .query(format!("SELECT id, balance FROM accounts{lock}"))
            .await;
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                let err = self.conn.error(e, Stage::ReadOnly);
                self.conn.rollback().await;
                return Err(err);
            }
        };
        self.conn.commit(Stage::ReadOnly).await?;
        let balances: BTreeMap<String, i64> = rows
            .into_iter()
            .map(|(id, b)| (id.to_string(), b))
            .collect();
        Ok(json!({ "balances": balances }))
    }

    async fn transfer(&mut self, from: i64, to: i64, amount: i64) -> Completion {
        let lock = self.lock_clause();
        if let Err(e) = self
            .conn
            .exec("START TRANSACTION", Stage::BeforeCommit)
            .await
        {
            return e.completion();
        }
        let select = format!("SELECT id, balance FROM accounts WHERE id IN ({from}, {to}){lock}");
        let rows: Vec<(i64, i64)> = match self.conn.get().await {
            Ok(c) => match c.query(select).await {
                Ok(r) => r,
                Err(e) => {
                    let err = self.conn.error(e, Stage::BeforeCommit);
                    self.conn.rollback().await;
                    return err.completion();
                }
            },
            Err(e) => return e.completion(),
        };
        let balance = |id| rows.iter().find(|(i, _)| *i == id).map(|(_, b)| *b);
        let (Some(b_from), Some(b_to)) = (balance(from), balance(to)) else {
            self.conn.rollback().await;
            return Completion::fail(format!("accounts {from} or {to} not found"));
        };
        if b_from - amount < 0 {
            self.conn.rollback().await;
            return Completion::fail("insufficient funds");
        }
        for (id, b) in [(from, b_from - amount), (to, b_to + amount)] {
            if let Err(e) = self
                .conn
                .exec(
                    &format!("UPDATE accounts SET balance = {b} WHERE id = {id}"),
                    Stage::BeforeCommit,
                )
                .await
            {
                self.conn.rollback().await;
                return e.completion();
            }
        }
        match self.conn.commit(Stage::Commit).await {
            // What it read, so the checker can find lost updates (two transfers that read
            // the same balance and neither saw the other's write).
            Ok(()) => Completion::ok(Some(json!({
                "from": from, "to": to, "amount": amount,
                "read": {from.to_string(): b_from, to.to_string(): b_to},
            }))),
            Err(e) => e.completion(),
        }
    }
}

#[async_trait]
impl Client for BankClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        match op.f.as_str() {
            "read" => match self.read().await {
                Ok(v) => Completion::ok(Some(v)),
                Err(e) => e.completion(),
            },
            "transfer" => {
                let get = |k: &str| op.value.get(k).and_then(Value::as_i64).unwrap_or(0);
                self.transfer(get("from"), get("to"), get("amount")).await
            }
            other => Completion::fail(format!("unknown bank op {other}")),
        }
    }

    fn reset(&mut self) {
        self.conn.reset();
    }

    fn is_read_only(&self, op: &Invocation) -> bool {
        op.f == "read"
    }
}
