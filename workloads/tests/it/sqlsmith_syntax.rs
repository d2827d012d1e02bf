//! Over 100,000 generated statements on a real MariaDB (local-mariadb), none is a syntax
//! error (1064 / 1149), and the constructs the coverage report counts were each generated
//! and executed without an error. Prints the rate, the error mix, statements per second and
//! the coverage.

use crate::sqlsmith_common::*;

use faultline_workloads::sqlsmith::runloop::{run_loop, Oracles};

const STATEMENTS: usize = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_statements_parse_on_mariadb() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = mariadb(&[]).await;
    let mut sut = db(&server, "sut", "sqlsmith");
    let opts = options(20240601, STATEMENTS, Oracles::default(), temp("syntax"));
    let report = run_loop(&mut sut, None, None, &opts, None, &|| false).await;
    let s = &report.stats;
    let errors: u64 = s.sut_errors.values().sum();
    println!(
        "{} statements, {:.0}/s, syntax-error rate {:.3}% ({}), all errors {:.1}%: {:?}",
        s.statements,
        s.statements_per_s,
        100.0 * s.syntax_error_rate(),
        s.syntax_errors,
        100.0 * errors as f64 / s.statements as f64,
        s.sut_errors
    );
    println!("by kind: {:?}", s.by_kind);
    assert_eq!(s.statements, STATEMENTS);
    assert_eq!(
        s.unknown, 0,
        "no statement should time out or lose its connection"
    );
    assert_eq!(s.syntax_errors, 0, "syntax errors: {:?}", s.sut_errors);
    // The statements mostly do something: fewer than a third fail for any reason.
    assert!(
        (errors as f64) < s.statements as f64 / 3.0,
        "too many errors: {:?}",
        s.sut_errors
    );
    for k in [
        "create-table",
        "insert",
        "update",
        "delete",
        "select",
        "select-for-update",
        "begin",
        "commit",
    ] {
        assert!(s.by_kind.get(k).copied().unwrap_or(0) > 0, "no {k}");
    }
    // Coverage: every construct is reported (zeros included), and these were generated
    // and ran without an error at least once.
    let never: Vec<&String> = s
        .coverage
        .iter()
        .filter(|(_, c)| c.ok == 0)
        .map(|(k, _)| k)
        .collect();
    println!("coverage: {:?}\nnever ran ok: {never:?}", s.coverage);
    assert_eq!(
        s.coverage.len(),
        faultline_sqlsmith::coverage::CONSTRUCTS.len()
    );
    // Every construct the report counts.
    for c in faultline_sqlsmith::coverage::CONSTRUCTS {
        let got = s.coverage[*c];
        assert!(
            got.ok > 0,
            "{c}: generated {} times, never ran without an error",
            got.generated
        );
    }
    drop(sut);
    drop(server);
}
