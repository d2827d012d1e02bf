//! Findings of the metamorphic oracles and their reduction: one TLP and / or NoREC check
//! on the system under test ([`metamorphic`]), and reducing any finding into a reproducer
//! file ([`reduce_finding`]).

use super::exec::SqlDb;
use super::options::{Finding, LoopOptions, Stats};
use super::replay::{Failure, Replayer};
use faultline_sqlsmith::metamorphic::{norec, norec_check, tlp, tlp_check};
use faultline_sqlsmith::{Smith, Stmt};

/// Reduces finding `f` (the statements `stmts` ran before it) and writes its reproducer to
/// `<repro_dir>/repro-<oracle>-<n>.slt`.
pub(super) async fn reduce_finding(
    rp: &mut Replayer,
    f: &mut Finding,
    stmts: Vec<Stmt>,
    failure: Failure,
    opts: &LoopOptions,
) {
    let n = std::fs::read_dir(&opts.repro_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    let path = opts.repro_dir.join(format!("repro-{}-{}.slt", f.oracle, n));
    let header = vec![
        "faultline sqlsmith reproducer".to_string(),
        format!("seed: {}", opts.seed),
        format!(
            "oracle: {}; statement {} of the run: {}",
            f.oracle, f.index, f.sql
        ),
        format!("finding: {}", f.what),
        format!("system under test: {}", f.sut),
        format!("reference:         {}", f.reference),
    ];
    match rp
        .reduce_and_write(
            stmts,
            &failure,
            opts.reduce_tests,
            opts.reduce_timeout,
            header,
            &path,
        )
        .await
    {
        Ok(n) => {
            f.reproducer = Some(path);
            f.reduced_statements = Some(n);
        }
        Err(e) => tracing::warn!("writing the reproducer: {e:#}"),
    }
}

/// One TLP and / or NoREC check on the current database; Some on a failure.
pub(super) async fn metamorphic(
    sut: &mut SqlDb,
    smith: &mut Smith,
    opts: &LoopOptions,
    st: &mut Stats,
) -> Option<(Failure, String)> {
    let (query, scope) = smith.oracle_query()?;
    let p = smith.predicate(&scope);
    if opts.oracles.tlp {
        if let Some(case) = tlp(&query, &p) {
            let mut outs = Vec::new();
            for q in std::iter::once(&case.original).chain(case.partitions.iter()) {
                outs.push(sut.run(&q.to_string()).await);
            }
            let rows: Option<Vec<_>> = outs.iter().map(|o| o.rows()).collect();
            match rows {
                Some(r) => {
                    st.tlp_checks += 1;
                    if let Err(e) = tlp_check(&case, r[0], [r[1], r[2], r[3]]) {
                        return Some((Failure::Tlp(Box::new(case)), e));
                    }
                }
                None => st.oracle_skipped += 1,
            }
        }
    }
    if opts.oracles.norec {
        let from = query.from.as_ref()?;
        let case = norec(from, &p);
        let a = sut.run(&case.optimized.to_string()).await;
        let b = sut.run(&case.unoptimized.to_string()).await;
        match (a.rows(), b.rows()) {
            (Some(x), Some(y)) => {
                st.norec_checks += 1;
                if let Err(e) = norec_check(x, y) {
                    return Some((Failure::Norec(Box::new(case)), e));
                }
            }
            _ => st.oracle_skipped += 1,
        }
    }
    None
}
