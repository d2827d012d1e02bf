//! Pure generator and printer tests (no server): determinism per seed, statement mix, and
//! the printer's output for hand-built statements.

use faultline_sqlsmith::ast::{BinOp, Expr, Literal, Select, Stmt};
use faultline_sqlsmith::{Config, Smith};

fn stream(seed: u64, n: usize) -> Vec<String> {
    let mut s = Smith::new(seed, Config::default());
    (0..n)
        .map(|_| {
            let st = s.next_stmt();
            // Pretend every statement succeeded.
            s.record(&st, true);
            st.to_string()
        })
        .collect()
}

#[test]
fn same_seed_same_statements_other_seed_others() {
    assert_eq!(stream(7, 500), stream(7, 500));
    assert_ne!(stream(7, 500), stream(8, 500));
}

#[test]
fn every_statement_kind_appears() {
    let mut s = Smith::new(3, Config::default());
    let mut kinds = std::collections::BTreeSet::new();
    let mut text = String::new();
    for _ in 0..5000 {
        let st = s.next_stmt();
        s.record(&st, true);
        kinds.insert(st.kind());
        text.push_str(&st.to_string());
        text.push('\n');
    }
    for k in [
        "create-table",
        "create-index",
        "add-column",
        "drop-column",
        "insert",
        "update",
        "delete",
        "select",
        "select-for-update",
        "begin",
        "commit",
        "rollback",
    ] {
        assert!(kinds.contains(k), "no {k} in 5000 statements");
    }
    for needle in [
        " JOIN ",
        "GROUP BY",
        "HAVING",
        "DISTINCT",
        "ORDER BY",
        "LIMIT",
        "CASE",
        "EXISTS (",
        " IN (SELECT",
        "IS NULL",
        "FOR UPDATE",
    ] {
        assert!(text.contains(needle), "no {needle:?} in 5000 statements");
    }
    assert!(
        !text.contains("RAND(") && !text.contains("NOW(") && !text.contains("UUID("),
        "stable mode has no nondeterministic functions"
    );
}

#[test]
fn unstable_mode_uses_nondeterministic_functions() {
    let mut s = Smith::new(
        3,
        Config {
            stable: false,
            ..Config::default()
        },
    );
    let text: String = (0..5000)
        .map(|_| {
            let st = s.next_stmt();
            s.record(&st, true);
            st.to_string()
        })
        .collect();
    assert!(text.contains("RAND()") || text.contains("NOW()") || text.contains("UUID()"));
}

#[test]
fn limit_only_under_a_total_order() {
    let mut s = Smith::new(11, Config::default());
    for _ in 0..5000 {
        let st = s.next_stmt();
        s.record(&st, true);
        if let Stmt::Select(q) = &st {
            if q.limit.is_some() {
                assert!(q.order_is_total(), "{st}");
            }
        }
    }
}

#[test]
fn failed_ddl_leaves_the_schema_alone() {
    let mut s = Smith::new(5, Config::default());
    let first = s.next_stmt();
    assert!(
        matches!(first, Stmt::CreateTable(_)),
        "the first statement creates a table"
    );
    s.record(&first, false);
    assert_eq!(s.schema().live_count(), 0);
    let second = s.next_stmt();
    assert!(matches!(second, Stmt::CreateTable(_)));
    s.record(&second, true);
    assert_eq!(s.schema().live_count(), 1);
}

#[test]
fn printer_parenthesises_and_quotes() {
    let e = Expr::Binary {
        op: BinOp::Or,
        l: Box::new(Expr::IsNull {
            e: Box::new(Expr::col("r0", "c1")),
            negated: true,
        }),
        r: Box::new(Expr::Binary {
            op: BinOp::Eq,
            l: Box::new(Expr::col("r0", "c2")),
            r: Box::new(Expr::Lit(Literal::Str("it's \\".into()))),
        }),
    };
    assert_eq!(
        e.to_string(),
        r"((r0.c1 IS NOT NULL) OR (r0.c2 = 'it''s \\'))"
    );
    assert_eq!(Expr::Lit(Literal::Int(-3)).to_string(), "(-3)");
    let q = Select {
        distinct: true,
        items: vec![Expr::col("r0", "c0")],
        aliases: vec![],
        from: None,
        filter: None,
        group_by: vec![],
        having: None,
        order_by: vec![(1, true)],
        limit: Some(2),
        for_update: true,
    };
    assert_eq!(
        q.to_string(),
        "SELECT DISTINCT r0.c0 ORDER BY 1 DESC LIMIT 2 FOR UPDATE"
    );
    assert!(q.order_is_total());
}

/// Every construct the coverage report counts is generated within 20,000 statements (the
/// workloads' syntax test then shows each also runs on MariaDB without an error).
#[test]
fn every_counted_construct_is_generated() {
    use faultline_sqlsmith::coverage::{constructs, CONSTRUCTS};
    let mut s = Smith::new(5, Config::default());
    let mut seen = std::collections::BTreeMap::<&str, u32>::new();
    for _ in 0..20_000 {
        let st = s.next_stmt();
        s.record(&st, true);
        for c in constructs(&st.to_string()) {
            *seen.entry(c).or_default() += 1;
        }
    }
    println!("{seen:?}");
    let missing: Vec<&&str> = CONSTRUCTS
        .iter()
        .filter(|c| !seen.contains_key(**c))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}
