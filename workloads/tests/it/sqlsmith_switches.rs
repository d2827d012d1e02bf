//! Which optimizer feature a wrong result needs, on a real MariaDB bug: toggling each
//! `optimizer_switch` flag alone names the one that clears it, and the session is left as
//! it was.
//!
//! The case is a reproducer the documented hunt reduced (MariaDB 10.11.19): a condition
//! pushed into a derived table with EXCEPT over a NATURAL LEFT JOIN loses the row whose
//! column is NULL from the `p IS NULL` partition (TLP: 1 row vs 0). With
//! `condition_pushdown_for_derived=off` the partitions add up. If a MariaDB update fixes
//! the bug, the test says so (the case no longer fails) rather than passing on nothing.

use crate::sqlsmith_common::*;
use faultline_sqlsmith::Outcome;
use faultline_workloads::sqlsmith::switches::probe;
use std::collections::BTreeMap;

const SETUP: &[&str] = &[
    "CREATE TABLE t0 (c0 INT NOT NULL, c2 INT NOT NULL, c4 INT NOT NULL DEFAULT 1932) ENGINE=InnoDB",
    "CREATE TABLE t5 (c64 INT NULL) ENGINE=InnoDB",
    "CREATE VIEW v2 AS SELECT DISTINCT r0.c4 AS a0 FROM t0 AS r0 WHERE (LEFT('', 0) NOT LIKE '')",
    "INSERT INTO t0 (c0, c2) VALUES ('32.59', '-4')",
];
const FROM: &str = "SELECT 0 FROM (SELECT r1.c64 AS a0 FROM t0 AS r0 NATURAL LEFT JOIN t5 AS r1 EXCEPT SELECT UPPER(NULL) FROM v2 AS r2) AS r3";
const P: &str = "(CONVERT(TIMESTAMP '2000-01-01 00:00:00', CHAR) BETWEEN r3.a0 AND 'a')";

type Rows = Vec<Vec<Option<String>>>;

async fn rows(db: &mut faultline_workloads::sqlsmith::exec::SqlDb, sql: &str) -> Option<Rows> {
    match db.run(sql).await {
        Outcome::Rows { rows } => Some(rows),
        _ => None,
    }
}

fn multiset(rows: &Rows) -> BTreeMap<Vec<Option<String>>, usize> {
    let mut m = BTreeMap::new();
    for r in rows {
        *m.entry(r.clone()).or_default() += 1;
    }
    m
}

/// TLP on the case: Some(true) when the partitions do not add up to the query's rows.
async fn tlp_fails(db: &mut faultline_workloads::sqlsmith::exec::SqlDb) -> Option<bool> {
    let all = rows(db, FROM).await?;
    let mut parts = Vec::new();
    for w in [
        P.to_string(),
        format!("(NOT {P})"),
        format!("({P} IS NULL)"),
    ] {
        parts.extend(rows(db, &format!("{FROM} WHERE {w}")).await?);
    }
    Some(multiset(&all) != multiset(&parts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flag_that_clears_a_real_wrong_result_is_named() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut db = db(&server, "sut", "switches");
    for sql in SETUP {
        assert!(
            matches!(db.run(sql).await, Outcome::Affected { .. }),
            "setup: {sql}"
        );
    }
    assert_eq!(
        tlp_fails(&mut db).await,
        Some(true),
        "the reduced MariaDB bug no longer shows on this server (fixed?): pick another case"
    );
    let before = rows(&mut db, "SELECT @@SESSION.optimizer_switch").await;
    let p = probe(&mut db, |db| Box::pin(tlp_fails(db)))
        .await
        .expect("MariaDB has @@optimizer_switch");
    println!("{p:?}\n{}", p.describe());
    assert!(p.tried >= 30, "every flag toggled: {}", p.tried);
    assert_eq!(p.clearing, ["condition_pushdown_for_derived=off"]);
    assert_eq!(
        rows(&mut db, "SELECT @@SESSION.optimizer_switch").await,
        before,
        "the session's flags are as they were"
    );
    assert_eq!(
        tlp_fails(&mut db).await,
        Some(true),
        "and the bug shows again"
    );
}
