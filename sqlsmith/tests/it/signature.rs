//! Signatures group the sightings of one bug and keep two bugs apart; the reducer's
//! literal / type phase and its time budget. Pure data, no server.

use faultline_sqlsmith::ast::{Expr, Literal, Select, Stmt};
use faultline_sqlsmith::reduce::{reduce_within, Stop};
use faultline_sqlsmith::reduce_lit::stmt_literal_candidates;
use faultline_sqlsmith::signature::{of_rows, of_statement};
use faultline_sqlsmith::{Config, Smith};
use std::time::{Duration, Instant};

/// The known MariaDB 10.11 shape, over tables `a` and `b`, aliases, literal and MIN/MAX.
fn known_bug(a: &str, b: &str, alias: &str, lit: Literal, max: bool) -> (Select, Expr) {
    let sub = |t: &str, al: &str, item: Expr| Select {
        distinct: false,
        items: vec![item],
        from: Some(faultline_sqlsmith::ast::From {
            first: faultline_sqlsmith::ast::TableRef {
                table: t.into(),
                alias: al.into(),
                hint: None,
                derived: None,
            },
            joins: vec![],
        }),
        filter: None,
        group_by: vec![],
        having: None,
        order_by: vec![],
        limit: None,
        aliases: vec![],
        for_update: false,
    };
    let agg = Expr::Agg {
        func: if max {
            faultline_sqlsmith::ast::AggFunc::Max
        } else {
            faultline_sqlsmith::ast::AggFunc::Min
        },
        distinct: false,
        arg: Some(Box::new(Expr::Lit(lit))),
    };
    let p = Expr::InSubquery {
        e: Box::new(Expr::Subquery(Box::new(sub(a, "x1", agg)))),
        sub: Box::new(sub(b, "x2", Expr::col(alias, "c3"))),
        negated: false,
    };
    (sub(a, alias, Expr::Lit(Literal::Int(1))), p)
}

#[test]
fn one_shape_one_signature_whatever_the_tables_literals_and_aliases() {
    let (q1, p1) = known_bug("t3", "t0", "r0", Literal::Date("2017-02-02".into()), true);
    let (q2, p2) = known_bug("t5", "t1", "r7", Literal::Int(42), false);
    let s1 = of_rows(&q1, Some(&p1), &[]);
    let s2 = of_rows(&q2, Some(&p2), &[]);
    assert_eq!(s1, s2, "{} vs {}", s1.shape, s2.shape);
    assert!(
        s1.id.starts_with("wrong-result-") && s1.id.len() == 21,
        "{}",
        s1.id
    );
    assert!(
        s1.shape
            .contains("(SELECT MIN(0) FROM t AS a1) IN (SELECT 0 FROM t AS a1 WHERE outer.c0)"),
        "{}",
        s1.shape
    );
    // NoREC sees the same bug as a filter (`SELECT .. WHERE p`), the plan oracle as that
    // query under another plan (an index hint, DISTINCT or ORDER BY around it): one bug.
    let mut filtered = q1.clone();
    filtered.filter = Some(p1.clone());
    assert_eq!(of_rows(&filtered, None, &[]), s1);
    let mut hinted = filtered.clone();
    hinted.from.as_mut().unwrap().first.hint = Some(Box::new(
        faultline_sqlsmith::ast::IndexHint::Ignore("PRIMARY".into()),
    ));
    hinted.distinct = true;
    hinted.items = vec![Expr::col("r0", "c9"), Expr::col("r0", "c3")];
    assert_eq!(of_rows(&hinted, None, &[]), s1);
    // The reducer leaves the outer column in the subquery's select list in one sighting and
    // in its WHERE in another (seen in one hunt: one TLP and two NoREC sightings): what the
    // subquery computes (MIN, reads the outer row) is the same, and so is the signature.
    let Expr::InSubquery { e, sub, negated } = p1.clone() else {
        unreachable!()
    };
    let mut sub_where = (*sub).clone();
    sub_where.items = vec![Expr::Lit(Literal::Int(0))];
    sub_where.filter = Some(Expr::col("r0", "c1"));
    let p_where = Expr::InSubquery {
        e: e.clone(),
        sub: Box::new(sub_where),
        negated,
    };
    assert_eq!(of_rows(&q1, Some(&p_where), &[]), s1);
    // ... but a subquery that does not read the outer row is another shape.
    let mut uncorrelated = (*sub).clone();
    uncorrelated.items = vec![Expr::col("x2", "c1")];
    let p_unc = Expr::InSubquery {
        e,
        sub: Box::new(uncorrelated),
        negated,
    };
    assert_ne!(of_rows(&q1, Some(&p_unc), &[]).id, s1.id);
    // An aggregate over the subquery's own column reads it, not an outer one.
    let (q4, p4) = known_bug("t3", "t0", "r0", Literal::Int(1), true);
    let Expr::InSubquery { e, sub, negated } = p4 else {
        unreachable!()
    };
    let Expr::Subquery(mut scalar) = *e else {
        unreachable!()
    };
    scalar.items = vec![Expr::Agg {
        func: faultline_sqlsmith::ast::AggFunc::Min,
        distinct: false,
        arg: Some(Box::new(Expr::col("x1", "c5"))),
    }];
    let p4 = Expr::InSubquery {
        e: Box::new(Expr::Subquery(scalar)),
        sub,
        negated,
    };
    let s4 = of_rows(&q4, Some(&p4), &[]);
    assert!(
        s4.shape.contains("(SELECT MIN(a1.c0) FROM t AS a1) IN"),
        "{}",
        s4.shape
    );
    // The query's own WHERE is part of the condition: `w AND p` is another shape than `p`.
    let mut with_where = q1.clone();
    with_where.filter = Some(Expr::IsNull {
        e: Box::new(Expr::col("r0", "c1")),
        negated: false,
    });
    assert_ne!(of_rows(&with_where, Some(&p1), &[]).id, s1.id);
    // Another predicate shape, or NULL for a literal: other signatures.
    // NOT p and x NOT IN (..) partition the rows as p does: the same bug.
    let not_p = Expr::Unary {
        op: faultline_sqlsmith::ast::UnOp::Not,
        e: Box::new(p1.clone()),
    };
    assert_eq!(of_rows(&q1, Some(&not_p), &[]).id, s1.id);
    let Expr::InSubquery { e, sub, .. } = p1.clone() else {
        unreachable!()
    };
    let not_in = Expr::InSubquery {
        e,
        sub,
        negated: true,
    };
    assert_eq!(of_rows(&q1, Some(&not_in), &[]).id, s1.id);
    // ... but p IS NULL is another shape.
    let is_null = Expr::IsNull {
        e: Box::new(p1.clone()),
        negated: false,
    };
    assert_ne!(of_rows(&q1, Some(&is_null), &[]).id, s1.id);
    let (q3, p3) = known_bug("t3", "t0", "r0", Literal::Null, true);
    assert_ne!(of_rows(&q3, Some(&p3), &[]).id, s1.id);
    // a = b and b = a are one shape.
    let eq = |l: Expr, r: Expr| Expr::Binary {
        op: faultline_sqlsmith::ast::BinOp::Eq,
        l: Box::new(l),
        r: Box::new(r),
    };
    let c = Expr::col("r0", "c1");
    let one = Expr::Lit(Literal::Int(1));
    assert_eq!(
        of_rows(&q1, Some(&eq(c.clone(), one.clone())), &[]).id,
        of_rows(&q1, Some(&eq(one, c)), &[]).id
    );
}

#[test]
fn the_same_condition_over_another_from_clause_is_another_signature_but_one_condition() {
    // The hunt's IN-subquery bug over a base table and over a derived table (a window
    // function the reducer cannot drop without the bug vanishing): two signatures, one
    // condition, so the run can tell they may be one bug.
    let (q1, p1) = known_bug("t3", "t0", "r0", Literal::Int(1), true);
    let (inner, _) = known_bug("t5", "t6", "r9", Literal::Int(7), false);
    let mut q2 = q1.clone();
    q2.from.as_mut().unwrap().first = faultline_sqlsmith::ast::TableRef {
        table: "d0".into(),
        alias: "r0".into(),
        hint: None,
        derived: Some(Box::new(faultline_sqlsmith::ast::Derived {
            body: inner,
            set_ops: vec![],
            cte: false,
            columns: vec![],
        })),
    };
    let (s1, s2) = (of_rows(&q1, Some(&p1), &[]), of_rows(&q2, Some(&p1), &[]));
    assert_ne!(s1.id, s2.id, "{} vs {}", s1.shape, s2.shape);
    assert_eq!(s1.condition, s2.condition);
    assert_eq!(
        s1.condition.as_deref(),
        Some("((SELECT MIN(0) FROM t AS a0) IN (SELECT 0 FROM t AS a0 WHERE outer.c0))")
    );
    // Another condition over the same rows is another condition.
    let (q3, p3) = known_bug("t3", "t0", "r0", Literal::Null, true);
    assert_ne!(of_rows(&q3, Some(&p3), &[]).condition, s1.condition);
    // A differential finding has none.
    assert_eq!(of_statement("diff", &Stmt::Select(q1), &[]).condition, None);
}

#[test]
fn a_differential_signature_drops_table_and_column_names() {
    let ins = |t: &str, c: &str, v: i64| Stmt::Insert {
        table: t.into(),
        columns: vec![c.into()],
        rows: vec![vec![Expr::Lit(Literal::Int(v))]],
    };
    assert_eq!(
        of_statement("diff", &ins("t0", "c4", 7), &[]),
        of_statement("diff", &ins("t3", "c1", 9), &[])
    );
    let del = Stmt::Delete {
        table: "t0".into(),
        filter: None,
    };
    assert_ne!(
        of_statement("diff", &ins("t0", "c4", 7), &[]).id,
        of_statement("diff", &del, &[]).id
    );
}

#[test]
fn literal_and_type_candidates_are_simpler() {
    let mut s = Smith::new(3, Config::default());
    let create = loop {
        let st = s.next_stmt();
        s.record(&st, true);
        if let Stmt::CreateTable(_) = st {
            break st;
        }
    };
    let insert = loop {
        let st = s.next_stmt();
        s.record(&st, true);
        if let Stmt::Insert { .. } = st {
            break st;
        }
    };
    for c in stmt_literal_candidates(&insert) {
        assert_ne!(c, insert);
        assert!(c.to_string().len() <= insert.to_string().len() + 8, "{c}");
    }
    let types = stmt_literal_candidates(&create);
    if let Stmt::CreateTable(ct) = &create {
        if ct.columns.iter().any(|c| {
            c.ty != faultline_sqlsmith::ColType::Int && c.ty != faultline_sqlsmith::ColType::Date
        }) {
            assert!(!types.is_empty(), "a simpler type is offered for {create}");
        }
    }
}

#[test]
fn the_reducer_stops_on_time_and_does_not_count_refused_replays() {
    let mut s = Smith::new(5, Config::default());
    let stmts: Vec<Stmt> = (0..200)
        .map(|_| {
            let st = s.next_stmt();
            s.record(&st, true);
            st
        })
        .collect();
    let mut calls = 0;
    let mut slow = |_: &[Stmt]| {
        calls += 1;
        std::thread::sleep(Duration::from_millis(20));
        false
    };
    let deadline = Instant::now() + Duration::from_millis(100);
    let out = reduce_within(stmts.clone(), 1000, Some(deadline), &mut slow);
    assert_eq!(out.stop, Stop::Time);
    assert_eq!(out.stmts.len(), 200);
    assert!(
        out.tests <= 7,
        "only the replays that ran count: {}",
        out.tests
    );
    assert_eq!(out.tests, calls);
    // With time to spare and nothing failing, it ends at a fixpoint.
    let mut never = |_: &[Stmt]| false;
    let out = reduce_within(stmts[..10].to_vec(), 100_000, None, &mut never);
    assert_eq!(out.stop, Stop::Fixpoint);
}

/// The reducer reaches inside a subquery: one candidate of `x IN (SELECT .. WHERE w)` drops
/// `w`, so two sightings that differ only there can reduce to one shape.
#[test]
fn subqueries_are_reduced_too() {
    let (_, p) = known_bug("t3", "t0", "r0", Literal::Int(1), false);
    let Expr::InSubquery {
        e,
        mut sub,
        negated,
    } = p
    else {
        unreachable!()
    };
    sub.filter = Some(Expr::Lit(Literal::Bool(true)));
    let with_filter = Expr::InSubquery {
        e,
        sub: sub.clone(),
        negated,
    };
    let cands = faultline_sqlsmith::reduce::expr_candidates(&with_filter);
    assert!(
        cands
            .iter()
            .any(|c| matches!(c, Expr::InSubquery { sub, .. } if sub.filter.is_none())),
        "no candidate drops the subquery's WHERE"
    );
}

#[test]
fn derived_tables_are_reduced_inside() {
    // `SELECT 1 FROM (SELECT MAX(r0.c2) OVER (ORDER BY 2) AS a1 FROM t5 AS r0) AS r2`
    let (mut body, _) = known_bug("t5", "t0", "r0", Literal::Int(1), false);
    body.items = vec![Expr::Window {
        func: faultline_sqlsmith::ast::WinFunc::Max,
        arg: Some(Box::new(Expr::col("r0", "c2"))),
        partition_by: vec![],
        order_by: vec![Expr::Lit(Literal::Int(2))],
    }];
    body.aliases = vec!["a1".into()];
    let (mut q, _) = known_bug("t1", "t0", "r2", Literal::Int(1), false);
    let from = q.from.as_mut().unwrap();
    from.first.derived = Some(Box::new(faultline_sqlsmith::ast::Derived {
        body,
        set_ops: vec![],
        cte: false,
        columns: vec![("a1".into(), faultline_sqlsmith::schema::ColType::Int)],
    }));
    let cands = faultline_sqlsmith::reduce::stmt_candidates(&Stmt::Select(q));
    let plain = cands.iter().any(|c| {
        let Stmt::Select(c) = c else { return false };
        let Some(d) = c.from.as_ref().and_then(|f| f.first.derived.as_ref()) else {
            return false;
        };
        d.body.items == [Expr::col("r0", "c2")] && d.body.aliases == ["a1"]
    });
    assert!(
        plain,
        "no candidate replaces the window function by its argument"
    );
}

#[test]
fn any_kind_of_index_is_one_need() {
    use faultline_sqlsmith::ast::{CreateTable, IndexDef};
    let (q, p) = known_bug("t3", "t0", "r0", Literal::Int(1), false);
    let table = |primary_key: Vec<String>, indexes: Vec<IndexDef>| {
        vec![Stmt::CreateTable(CreateTable {
            name: "t3".into(),
            columns: vec![],
            primary_key,
            indexes,
        })]
    };
    let index = |unique| IndexDef {
        name: "i0".into(),
        unique,
        columns: vec![("c3".into(), None)],
    };
    let plain = of_rows(&q, Some(&p), &table(vec![], vec![]));
    let primary = of_rows(&q, Some(&p), &table(vec!["c3".into()], vec![]));
    let secondary = of_rows(&q, Some(&p), &table(vec![], vec![index(false)]));
    let unique = of_rows(&q, Some(&p), &table(vec![], vec![index(true)]));
    assert!(
        primary.shape.ends_with("[needs index]"),
        "{}",
        primary.shape
    );
    assert_eq!(primary, secondary);
    assert_eq!(primary, unique);
    assert_ne!(primary, plain, "a bug that needs an index is told apart");
}

#[test]
fn views_are_reduced_inside_and_keep_their_columns() {
    // `CREATE VIEW v2 AS SELECT MAX(r0.c2) OVER (ORDER BY 2) AS a1, 5 AS a2 FROM t5 AS r0
    //  WHERE r0.c1 < 0`: the hunt's view with a constant column over a window function.
    let (mut body, _) = known_bug("t5", "t0", "r0", Literal::Int(1), false);
    body.items = vec![
        Expr::Window {
            func: faultline_sqlsmith::ast::WinFunc::Max,
            arg: Some(Box::new(Expr::col("r0", "c2"))),
            partition_by: vec![],
            order_by: vec![Expr::Lit(Literal::Int(2))],
        },
        Expr::Lit(Literal::Int(5)),
    ];
    body.aliases = vec!["a1".into(), "a2".into()];
    body.filter = Some(Expr::IsNull {
        e: Box::new(Expr::col("r0", "c1")),
        negated: false,
    });
    let view = Stmt::CreateView {
        name: "v2".into(),
        query: Box::new(faultline_sqlsmith::ast::Derived {
            body,
            set_ops: vec![],
            cte: false,
            columns: vec![
                ("a1".into(), faultline_sqlsmith::schema::ColType::Int),
                ("a2".into(), faultline_sqlsmith::schema::ColType::Int),
            ],
        }),
    };
    let cands = faultline_sqlsmith::reduce::stmt_candidates(&view);
    let bodies: Vec<&Select> = cands
        .iter()
        .map(|c| match c {
            Stmt::CreateView { name, query } => {
                assert_eq!(name, "v2");
                &query.body
            }
            other => panic!("a view's candidate is a view: {other}"),
        })
        .collect();
    assert!(
        bodies
            .iter()
            .all(|b| b.items.len() == 2 && b.aliases.len() == 2),
        "every candidate keeps the view's two columns"
    );
    assert!(
        bodies.iter().any(|b| b.items[0] == Expr::col("r0", "c2")),
        "the window function replaced by its argument"
    );
    assert!(bodies.iter().any(|b| b.filter.is_none()), "WHERE dropped");
}

#[test]
fn the_query_reducer_reaches_a_fixpoint_instead_of_cycling() {
    // A "still fails?" that always says yes: every candidate is taken. `SELECT 1` (the
    // row-count form) and the literal phase (1 becomes 0) used to take turns until the
    // budget ran out: every TLP reduction of the hunt ended on the 3000-check cap.
    use faultline_sqlsmith::metamorphic::tlp;
    use faultline_sqlsmith::reduce_oracle::{reduce_case, tlp_candidates};
    let (q, p) = known_bug("t3", "t0", "r0", Literal::Int(7), true);
    let case = tlp(&q, &p).expect("a TLP case");
    let (small, used) = reduce_case(case, tlp_candidates, 1_000_000, &mut |_| true);
    assert!(used < 1_000, "a fixpoint after {used} checks");
    assert!(
        matches!(small.original.items.as_slice(), [Expr::Lit(_)]),
        "{}",
        small.original
    );
    // Candidates that undo each other cannot make it cycle either.
    let flip = |x: &i32| vec![1 - *x];
    let (_, used) = reduce_case(0, flip, 1_000, &mut |_| true);
    assert_eq!(used, 1, "0 -> 1, and 1 -> 0 is where it has been");
}
