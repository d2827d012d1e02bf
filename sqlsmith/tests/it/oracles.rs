//! TLP / NoREC transformations and checks, and the reducer, on pure data. The reducer test
//! uses a fake "still fails?" closure (fails when one statement is present): that is the
//! reducer's logic alone; the real-server reduction is tested in faultline-workloads.

use faultline_sqlsmith::ast::{AggFunc, Stmt};
use faultline_sqlsmith::compare::Row;
use faultline_sqlsmith::metamorphic::{norec, norec_check, tlp, tlp_aggregate, tlp_check, Combine};
use faultline_sqlsmith::reduce::{expr_candidates, reduce};
use faultline_sqlsmith::{Config, Smith};

fn r(v: &[&str]) -> Vec<Row> {
    v.iter()
        .map(|x| {
            vec![if *x == "NULL" {
                None
            } else {
                Some(x.to_string())
            }]
        })
        .collect()
}

#[test]
fn tlp_adds_the_three_predicates_to_where() {
    let mut s = Smith::new(1, Config::default());
    for _ in 0..20 {
        let st = s.next_stmt();
        s.record(&st, true);
    }
    let (q, scope) = s.oracle_query().unwrap();
    let p = s.predicate(&scope);
    let case = tlp(&q, &p).unwrap();
    let ps = p.to_string();
    assert!(case.partitions[0].to_string().contains(&ps));
    assert!(case.partitions[1]
        .to_string()
        .contains(&format!("(NOT {ps})")));
    assert!(case.partitions[2]
        .to_string()
        .contains(&format!("({ps} IS NULL)")));
    if let Some(w) = &q.filter {
        for part in &case.partitions {
            assert!(part.to_string().contains(&format!("WHERE ({w} AND")));
        }
    }
    // Multiset: the union must match, with multiplicity.
    let c = faultline_sqlsmith::metamorphic::TlpCase {
        combine: Combine::Multiset,
        ..case.clone()
    };
    assert!(tlp_check(
        &c,
        &r(&["1", "2", "2", "NULL"]),
        [&r(&["2"]), &r(&["1", "NULL"]), &r(&["2"])]
    )
    .is_ok());
    assert!(tlp_check(&c, &r(&["1", "2", "2"]), [&r(&["2"]), &r(&["1"]), &r(&[])]).is_err());
    let d = faultline_sqlsmith::metamorphic::TlpCase {
        combine: Combine::Distinct,
        ..case
    };
    assert!(tlp_check(&d, &r(&["1", "2"]), [&r(&["2"]), &r(&["1", "2"]), &r(&[])]).is_ok());
}

#[test]
fn tlp_aggregates_combine() {
    let mut s = Smith::new(2, Config::default());
    let st = s.next_stmt();
    s.record(&st, true);
    let (from, scope) = s.from_clause().unwrap();
    let p = s.predicate(&scope);
    let count = tlp_aggregate(&from, &None, AggFunc::Count, None, &p);
    assert!(count
        .original
        .to_string()
        .starts_with("SELECT COUNT(*) FROM"));
    assert!(tlp_check(&count, &r(&["5"]), [&r(&["2"]), &r(&["3"]), &r(&["0"])]).is_ok());
    assert!(tlp_check(&count, &r(&["5"]), [&r(&["2"]), &r(&["2"]), &r(&["0"])]).is_err());
    let max = tlp_aggregate(&from, &None, AggFunc::Max, None, &p);
    assert!(tlp_check(&max, &r(&["9"]), [&r(&["NULL"]), &r(&["9"]), &r(&["-1"])]).is_ok());
    assert!(tlp_check(&max, &r(&["8"]), [&r(&["NULL"]), &r(&["9"]), &r(&["-1"])]).is_err());
    let sum = tlp_aggregate(&from, &None, AggFunc::Sum, None, &p);
    assert!(tlp_check(
        &sum,
        &r(&["NULL"]),
        [&r(&["NULL"]), &r(&["NULL"]), &r(&["NULL"])]
    )
    .is_ok());
    assert!(tlp_check(&sum, &r(&["7"]), [&r(&["3"]), &r(&["NULL"]), &r(&["4"])]).is_ok());
}

#[test]
fn norec_counts_true_rows() {
    let mut s = Smith::new(4, Config::default());
    let st = s.next_stmt();
    s.record(&st, true);
    let (from, scope) = s.from_clause().unwrap();
    let p = s.predicate(&scope);
    let c = norec(&from, &p);
    // (A CTE in the FROM clause is printed before the SELECT.)
    let optimized = c.optimized.to_string();
    assert!(
        optimized.ends_with(&format!("SELECT COUNT(*) FROM {from} WHERE {p}")),
        "{optimized}"
    );
    let unoptimized = c.unoptimized.to_string();
    assert!(
        unoptimized.ends_with(&format!("SELECT ({p} IS TRUE) FROM {from}")),
        "{unoptimized}"
    );
    assert!(norec_check(&r(&["2"]), &r(&["1", "0", "1", "NULL"])).is_ok());
    assert!(norec_check(&r(&["3"]), &r(&["1", "0", "1"])).is_err());
}

#[test]
fn reducer_finds_the_one_statement_with_a_fake_closure() {
    let mut s = Smith::new(9, Config::default());
    let stmts: Vec<Stmt> = (0..300)
        .map(|_| {
            let st = s.next_stmt();
            s.record(&st, true);
            st
        })
        .collect();
    let culprit = stmts
        .iter()
        .rposition(|s| {
            matches!(
                s,
                Stmt::Update {
                    filter: Some(_),
                    ..
                }
            )
        })
        .unwrap();
    let table = stmts[culprit].written_table().unwrap().to_string();
    // "Fails" when an UPDATE of that table is present together with its CREATE TABLE.
    let mut fails = |v: &[Stmt]| {
        v.iter()
            .any(|s| matches!(s, Stmt::CreateTable(c) if c.name == table))
            && v.iter()
                .any(|s| matches!(s, Stmt::Update { table: t, .. } if *t == table))
    };
    let out = reduce(stmts, 5000, &mut fails);
    assert_eq!(
        out.stmts.len(),
        2,
        "{:?}",
        out.stmts.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    assert!(fails(&out.stmts));
    // Simplification removed the WHERE and trimmed the CREATE TABLE's indexes.
    match &out.stmts[1] {
        Stmt::Update { filter, sets, .. } => {
            assert!(filter.is_none());
            assert_eq!(sets.len(), 1);
        }
        other => panic!("expected the UPDATE last, got {other}"),
    }
    assert!(
        matches!(&out.stmts[0], Stmt::CreateTable(c) if c.indexes.is_empty() && c.primary_key.is_empty())
    );
}

#[test]
fn expression_candidates_are_smaller() {
    let mut s = Smith::new(12, Config::default());
    let st = s.next_stmt();
    s.record(&st, true);
    let (_, scope) = s.from_clause().unwrap();
    for _ in 0..50 {
        let p = s.predicate(&scope);
        let len = p.to_string().len();
        for c in expr_candidates(&p) {
            assert!(
                c.to_string().len() <= len + 4,
                "{c} is not smaller than {p}"
            );
        }
    }
}

/// No server: the combining logic alone, fed partial results by hand. A planted wrong
/// partial result (one partition's SUM / COUNT / MAX off) must be caught; correct parts,
/// NULL parts (an empty partition's SUM, MIN, MAX) and BIGINTs beyond a double's precision
/// must not.
#[test]
fn aggregate_tlp_catches_a_planted_wrong_partial_result() {
    use faultline_sqlsmith::metamorphic::aggregate_partitions;
    use faultline_sqlsmith::ColType;
    let mut s = Smith::new(2, Config::default());
    let st = s.next_stmt();
    s.record(&st, true);
    let (from, scope) = s.from_clause().unwrap();
    let p = s.predicate(&scope);
    let case = |f| tlp_aggregate(&from, &None, f, None, &p);
    let (sum, count, max, min) = (
        case(AggFunc::Sum),
        case(AggFunc::Count),
        case(AggFunc::Max),
        case(AggFunc::Min),
    );
    // Correct partial results.
    assert!(tlp_check(&sum, &r(&["12"]), [&r(&["5"]), &r(&["NULL"]), &r(&["7"])]).is_ok());
    assert!(tlp_check(
        &sum,
        &r(&["-3"]),
        [&r(&["NULL"]), &r(&["-3"]), &r(&["NULL"])]
    )
    .is_ok());
    assert!(tlp_check(&count, &r(&["4"]), [&r(&["0"]), &r(&["4"]), &r(&["0"])]).is_ok());
    let big = ["9007199254740993", "9007199254740992"];
    assert!(tlp_check(
        &max,
        &r(&[big[0]]),
        [&r(&[big[1]]), &r(&[big[0]]), &r(&["NULL"])]
    )
    .is_ok());
    assert!(tlp_check(
        &min,
        &r(&[big[1]]),
        [&r(&[big[1]]), &r(&[big[0]]), &r(&["NULL"])]
    )
    .is_ok());
    // Planted: one partition lies.
    assert!(tlp_check(&sum, &r(&["12"]), [&r(&["5"]), &r(&["NULL"]), &r(&["8"])]).is_err());
    assert!(tlp_check(
        &sum,
        &r(&["NULL"]),
        [&r(&["NULL"]), &r(&["0"]), &r(&["NULL"])]
    )
    .is_err());
    assert!(tlp_check(
        &sum,
        &r(&["5"]),
        [&r(&["NULL"]), &r(&["NULL"]), &r(&["NULL"])]
    )
    .is_err());
    assert!(tlp_check(&count, &r(&["4"]), [&r(&["1"]), &r(&["4"]), &r(&["0"])]).is_err());
    // A double cannot tell these apart; the integer comparison can.
    assert!(tlp_check(
        &max,
        &r(&[big[1]]),
        [&r(&[big[1]]), &r(&[big[0]]), &r(&["NULL"])]
    )
    .is_err());
    assert!(tlp_check(
        &min,
        &r(&[big[0]]),
        [&r(&[big[1]]), &r(&[big[0]]), &r(&["NULL"])]
    )
    .is_err());
    // Only exact combinations are checked at all.
    assert!(aggregate_partitions(AggFunc::Count, None));
    assert!(aggregate_partitions(AggFunc::Sum, Some(ColType::BigInt)));
    assert!(!aggregate_partitions(AggFunc::Sum, Some(ColType::Double)));
    assert!(!aggregate_partitions(AggFunc::Sum, Some(ColType::Decimal)));
    assert!(!aggregate_partitions(
        AggFunc::Max,
        Some(ColType::Varchar(10))
    ));
    assert!(!aggregate_partitions(AggFunc::Avg, Some(ColType::Int)));
}

/// No server: the query reducer's candidates for a TLP case keep the case well formed
/// (partitions rebuilt from the smaller query and p) and are smaller.
#[test]
fn tlp_candidates_shrink_query_and_predicate() {
    use faultline_sqlsmith::reduce_oracle::{reduce_case, tlp_candidates};
    let mut s = Smith::new(5, Config::default());
    for _ in 0..30 {
        let st = s.next_stmt();
        s.record(&st, true);
    }
    let (q, scope) = s.oracle_query().unwrap();
    let p = s.predicate(&scope);
    let case = tlp(&q, &p).unwrap();
    let size = |c: &faultline_sqlsmith::metamorphic::TlpCase| {
        c.original.to_string().len() + c.predicate.to_string().len()
    };
    for c in tlp_candidates(&case) {
        // Never larger, never the same (a simpler literal may print as long).
        assert!(
            size(&c) <= size(&case)
                && c.original.to_string() + &c.predicate.to_string()
                    != case.original.to_string() + &case.predicate.to_string(),
            "{} not smaller than {} / {}",
            c.original,
            case.original,
            case.predicate
        );
        assert_eq!(
            c.partitions[0].filter.as_ref().unwrap().to_string(),
            match &c.original.filter {
                Some(w) => format!("({w} AND {})", c.predicate),
                None => c.predicate.to_string(),
            }
        );
    }
    // A fake "still fails?" (always yes) shrinks it to the fixed point.
    let (small, n) = reduce_case(case.clone(), tlp_candidates, 1000, &mut |_| true);
    println!(
        "{} / p = {} after {n} steps",
        small.original, small.predicate
    );
    assert!(size(&small) < size(&case));
    assert!(tlp_candidates(&small).is_empty() || n == 1000);
}
