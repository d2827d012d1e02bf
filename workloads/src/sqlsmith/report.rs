//! One report per bug: the reduced findings grouped by signature, and for each distinct
//! signature a ready-to-file `repro/<signature>.md` (server version, minimal SQL, expected
//! vs actual, which oracle) beside a copy of its smallest reproducer as
//! `repro/<signature>.slt`.

use super::options::{Finding, LoopReport, SignatureCount};
use super::replay::Reduction;
use faultline_sqlsmith::slt::Record;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

/// Groups `findings` by signature (unreduced ones are left out), writes the reports into
/// `dir` and returns the distinct signatures, most frequent first.
pub(super) fn group(
    findings: &[Finding],
    reductions: &BTreeMap<usize, Reduction>,
    dir: &Path,
) -> Vec<SignatureCount> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, f) in findings.iter().enumerate() {
        if let Some(s) = &f.signature {
            groups.entry(s.clone()).or_default().push(k);
        }
    }
    let mut out: Vec<SignatureCount> = groups
        .into_iter()
        .map(|(sig, ks)| {
            // The representative: the finding reduced furthest.
            let best = *ks
                .iter()
                .min_by_key(|k| findings[**k].reduced_statements.unwrap_or(usize::MAX))
                .expect("a group has a finding");
            let f = &findings[best];
            let oracles: BTreeSet<&str> = ks.iter().map(|k| findings[*k].oracle.as_str()).collect();
            let report = reductions
                .get(&best)
                .and_then(|r| write_report(dir, &sig, f, r, &ks, findings, &oracles).ok());
            SignatureCount {
                signature: sig,
                shape: f.shape.clone().unwrap_or_default(),
                oracle: f.oracle.clone(),
                oracles: oracles.into_iter().map(String::from).collect(),
                count: ks.len(),
                findings: ks.iter().map(|k| findings[*k].index).collect(),
                workers: {
                    let mut w: Vec<usize> = ks.iter().map(|k| findings[*k].worker).collect();
                    w.dedup();
                    w
                },
                statements: f.reduced_statements,
                report,
            }
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
    out
}

/// The report of streams run side by side: statistics added, findings in worker order,
/// signatures merged across workers (counts and findings added, the smallest reduction
/// and its report kept), most frequent first.
pub(super) fn merge(reports: Vec<LoopReport>) -> LoopReport {
    let mut out = LoopReport::default();
    let mut by_sig: BTreeMap<String, SignatureCount> = BTreeMap::new();
    for r in reports {
        out.stats.add(&r.stats);
        out.findings.extend(r.findings);
        for g in r.signatures {
            match by_sig.get_mut(&g.signature) {
                None => {
                    by_sig.insert(g.signature.clone(), g);
                }
                Some(m) => {
                    m.count += g.count;
                    m.findings.extend(g.findings);
                    m.workers.extend(g.workers);
                    m.workers.sort_unstable();
                    m.workers.dedup();
                    m.oracles.extend(g.oracles);
                    m.oracles.sort_unstable();
                    m.oracles.dedup();
                    if g.statements.unwrap_or(usize::MAX) < m.statements.unwrap_or(usize::MAX) {
                        m.statements = g.statements;
                        m.report = g.report.or(m.report.take());
                    }
                }
            }
        }
    }
    out.signatures = by_sig.into_values().collect();
    out.signatures
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
    out
}

fn expectation(oracle: &str, f: &Finding) -> String {
    match oracle {
        "tlp" => "the query's rows equal the union of its three partitions: the same query with `AND p`, `AND NOT p` and `AND p IS NULL` added to its WHERE (ternary logic partitioning)".into(),
        "tlp-agg" => "the aggregate over the whole query equals the aggregate combined from its three partitions (`AND p`, `AND NOT p`, `AND p IS NULL`)".into(),
        "norec" => "`SELECT COUNT(*) FROM ... WHERE p` counts as many rows as `SELECT (p) IS TRUE FROM ...` has rows that are 1 (NoREC: the optimizer cannot use p in the second)".into(),
        "plan" => "the same rows with the query's plan changed (index hints, an optimizer_switch flag or variable, STRAIGHT_JOIN): a plan decides how rows are found, never which".into(),
        "diff" | "snapshot" => format!("the reference's answer: {}", f.reference),
        other => format!("the {other} oracle holds"),
    }
}

fn sql_block(out: &mut String, records: &[Record]) {
    out.push_str("```sql\n");
    for r in records {
        let sql = r.sql.clone().unwrap_or_else(|| r.stmt.to_string());
        let _ = writeln!(out, "{sql};");
    }
    out.push_str("```\n");
}

fn write_report(
    dir: &Path,
    sig: &str,
    f: &Finding,
    r: &Reduction,
    ks: &[usize],
    findings: &[Finding],
    oracles: &BTreeSet<&str>,
) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let mut md = String::new();
    let server = if r.version.is_empty() {
        "unknown".to_string()
    } else {
        r.version.clone()
    };
    let _ = writeln!(md, "# Wrong result: {} oracle ({sig})\n", f.oracle);
    let _ = writeln!(md, "- Server: {server}");
    let _ = write!(md, "- Found by: faultline sqlsmith, oracle `{}`", f.oracle);
    let others: Vec<&str> = oracles.iter().copied().filter(|o| *o != f.oracle).collect();
    if !others.is_empty() {
        let _ = write!(md, " (also seen by `{}`)", others.join("`, `"));
    }
    md.push('\n');
    let _ = writeln!(md, "- Shape: `{}`", r.signature.shape);
    let seen: Vec<String> = ks.iter().map(|k| findings[*k].index.to_string()).collect();
    let _ = writeln!(
        md,
        "- Seen {} time(s) in the run (after statement(s) {})",
        ks.len(),
        seen.join(", ")
    );
    if let Some(n) = &r.note {
        let _ = writeln!(md, "- Reduction: {n}");
    }
    let _ = writeln!(md, "\n## How to repeat\n");
    let _ = writeln!(
        md,
        "On an empty database, the setup ({} statement(s)):\n",
        r.setup.len()
    );
    sql_block(&mut md, &r.setup);
    if !r.oracle_records.is_empty() {
        let _ = writeln!(md, "\nthen the queries:\n");
        sql_block(&mut md, &r.oracle_records);
        let _ = writeln!(md, "\n## Expected\n\n{}\n", expectation(&f.oracle, f));
        let _ = writeln!(md, "## Actual\n");
        for (i, rec) in r.oracle_records.iter().enumerate() {
            let _ = writeln!(md, "- query {}: {}", i + 1, rec.expected.brief());
        }
        if let Some(v) = &r.verdict {
            let _ = writeln!(md, "\n{v}");
        }
    } else if let Some((stmt, sut, reference)) = &r.diverging {
        let _ = writeln!(
            md,
            "\nThe statement that answers differently:\n\n```sql\n{stmt};\n```\n"
        );
        let _ = writeln!(md, "## Expected\n\n{reference} (the reference)\n");
        let _ = writeln!(md, "## Actual\n\n{sut} (the system under test)");
    } else {
        let _ = writeln!(md, "\n## Expected\n\n{}\n", expectation(&f.oracle, f));
        let _ = writeln!(md, "## Actual\n\n{}", f.what);
    }
    let slt = dir.join(format!("{sig}.slt"));
    if let Some(src) = &f.reproducer {
        std::fs::copy(src, &slt)?;
        let _ = writeln!(
            md,
            "\nThe same as a sqllogictest file: `{}` (expectations are the answers seen).",
            slt.file_name().unwrap_or_default().to_string_lossy()
        );
    }
    let path = dir.join(format!("{sig}.md"));
    std::fs::write(&path, md)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlsmith::options::Stats;

    fn sig(s: &str, count: usize, statements: usize, worker: usize) -> SignatureCount {
        SignatureCount {
            signature: s.into(),
            shape: format!("shape of {s}"),
            oracle: "tlp".into(),
            oracles: vec![if worker == 0 { "tlp" } else { "norec" }.into()],
            count,
            findings: (0..count).collect(),
            workers: vec![worker],
            statements: Some(statements),
            report: Some(format!("repro/{s}-w{worker}.md").into()),
        }
    }

    fn report(
        worker: usize,
        statements: usize,
        tlp: u64,
        elapsed: f64,
        sigs: Vec<SignatureCount>,
    ) -> LoopReport {
        let mut stats = Stats {
            statements,
            tlp_checks: tlp,
            ..Default::default()
        };
        stats.by_kind.insert("select".into(), statements as u64);
        stats.set_rates(elapsed);
        LoopReport {
            stats,
            findings: vec![Finding {
                worker,
                ..Default::default()
            }],
            signatures: sigs,
        }
    }

    #[test]
    fn streams_side_by_side_merge_into_one_report() {
        let a = report(
            0,
            600,
            100,
            2.0,
            vec![sig("aaaa", 2, 7, 0), sig("bbbb", 1, 4, 0)],
        );
        let b = report(1, 400, 60, 4.0, vec![sig("aaaa", 3, 5, 1)]);
        let m = merge(vec![a, b]);
        assert_eq!(m.stats.statements, 1000);
        assert_eq!(m.stats.by_kind["select"], 1000);
        assert_eq!(m.stats.tlp_checks, 160);
        // Side by side: the rate is over the longer stream's time.
        assert_eq!(m.stats.elapsed_s, 4.0);
        assert_eq!(m.stats.statements_per_s, 250.0);
        assert_eq!(m.stats.oracle_checks_per_s, 40.0);
        assert_eq!(
            m.findings.iter().map(|f| f.worker).collect::<Vec<_>>(),
            [0, 1]
        );
        // One bug seen by both workers is one signature, counted over both, with the
        // smaller reduction's report.
        assert_eq!(m.signatures.len(), 2);
        let a = &m.signatures[0];
        assert_eq!((a.signature.as_str(), a.count), ("aaaa", 5));
        assert_eq!(a.workers, [0, 1]);
        assert_eq!(a.oracles, ["norec", "tlp"], "the oracles of both sightings");
        assert_eq!(a.statements, Some(5));
        assert_eq!(a.report.as_deref(), Some(Path::new("repro/aaaa-w1.md")));
        assert_eq!(
            (m.signatures[1].signature.as_str(), m.signatures[1].count),
            ("bbbb", 1)
        );
    }
}
