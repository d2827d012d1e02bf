//! A divergence that does not replay because the two servers planned it alike on the
//! replay is reduced as the plan-dependent wrong result behind it, on a real MariaDB bug.
//!
//! MariaDB 10.11.19: with a DOUBLE primary key `c2`, `0 NOT BETWEEN c40 AND c2` finds no row
//! through the key (1 row with `IGNORE INDEX (PRIMARY)`). In the fault test a statement of
//! this kind changed 40 rows on one server and 12 on the other (their plans differed after
//! a restart) and did not replay on two fresh servers. Here the run's divergence is given
//! (both replay servers plan alike, so it does not replay) and the reducer must find the
//! plan change that shows it on one server, and write a plan-oracle reproducer.

use crate::sqlsmith_common::*;
use faultline_sqlsmith::ast::{ColumnDef, CreateTable, Expr, Literal};
use faultline_sqlsmith::schema::ColType;
use faultline_sqlsmith::Stmt;
use faultline_workloads::sqlsmith::replay::{Failure, Replayer};

fn column(name: &str, ty: ColType, default: Option<Literal>) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty,
        nullable: false,
        default,
        generated: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_divergence_that_does_not_replay_is_reduced_as_its_plan_dependent_wrong_result() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut rp = Replayer {
        sut: db(&server, "sut-replay", "replay_a"),
        reference: Some(db(&server, "ref-replay", "replay_b")),
    };
    let stmts = vec![
        Stmt::CreateTable(CreateTable {
            name: "t5".into(),
            columns: vec![
                column("c0", ColType::Varchar(16), None),
                column("c2", ColType::Double, None),
                column("c40", ColType::Int, Some(Literal::Int(2137))),
            ],
            primary_key: vec!["c2".into()],
            indexes: vec![],
        }),
        Stmt::Insert {
            table: "t5".into(),
            columns: vec!["c0".into(), "c2".into()],
            rows: vec![vec![
                Expr::Lit(Literal::Str(String::new())),
                Expr::Lit(Literal::Str("92000".into())),
            ]],
        },
        Stmt::Delete {
            table: "t5".into(),
            filter: Some(Expr::Between {
                e: Box::new(Expr::Lit(Literal::Int(0))),
                lo: Box::new(Expr::col("t5", "c40")),
                hi: Box::new(Expr::col("t5", "c2")),
                negated: true,
            }),
        },
    ];
    let dir = temp("plan-dependent");
    let path = dir.join("repro-diff-0.slt");
    let r = rp
        .reduce_and_write(
            "diff",
            stmts,
            &Failure::Diff,
            200,
            std::time::Duration::from_secs(60),
            vec!["test".into()],
            &path,
        )
        .await
        .expect("reduced");
    let text = std::fs::read_to_string(&path).unwrap();
    println!("{text}\n{r:?}");
    let why = r.converted.expect("the divergence is explained by a plan");
    assert!(why.contains("change with the plan"), "{why}");
    assert!(
        r.signature.id.starts_with("wrong-result-"),
        "{:?}",
        r.signature
    );
    assert_eq!(
        r.oracle_records.len(),
        2,
        "the query and the query under the plan change"
    );
    assert!(r
        .verdict
        .as_deref()
        .is_some_and(|v| v.contains("another plan changed the result")));
    // The reproducer replays on its own on a fresh database: a plan-oracle finding.
    let replayed = replay_oracle_finding(&server, "plan", &text).await;
    assert!(
        replayed.is_err(),
        "the plan-oracle reproducer does not reproduce"
    );
    std::fs::remove_dir_all(&dir).ok();
}
