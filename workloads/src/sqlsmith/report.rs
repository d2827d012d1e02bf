//! Findings grouped by signature: for each distinct signature (a reduced form) the
//! smallest reproducer copied as `repro/<signature>.slt` and its report section (server,
//! minimal SQL, expected vs actual, which oracle), which the bug report
//! (`repro/bug-<id>.md`, [`super::bugs`]) is made of; and the streams' reports merged.

use super::exec::SESSION_SETUP;
use super::options::{Finding, LoopReport, SignatureCount};
use super::replay::Reduction;
use faultline_sqlsmith::slt::Record;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

/// Groups `findings` by signature (unreduced ones are left out), copies each signature's
/// smallest reproducer into `dir` and returns the distinct signatures, most frequent first.
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
            let r = reductions.get(&best);
            if let Some(src) = &f.reproducer {
                let copied = std::fs::create_dir_all(dir)
                    .and_then(|_| std::fs::copy(src, dir.join(format!("{sig}.slt"))));
                if let Err(e) = copied {
                    tracing::warn!("copying the reproducer of {sig}: {e}");
                }
            }
            SignatureCount {
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
                condition: r.and_then(|r| r.signature.condition.clone()),
                switches: r.and_then(|r| r.switches.clone()),
                version: r.map(|r| r.version.clone()).unwrap_or_default(),
                form_md: r.map(|r| form_md(&sig, f, r)).unwrap_or_default(),
                signature: sig,
                report: None,
                bug: None,
            }
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.signature.cmp(&b.signature)));
    out
}

/// The report of streams run side by side: statistics added, findings in worker order,
/// signatures merged across workers (counts and findings added, the smallest reduction
/// and its report section kept), most frequent first. Bugs are grouped after
/// ([`super::bugs::group`]).
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
                        m.switches = g.switches;
                        m.version = g.version;
                        m.form_md = g.form_md;
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

fn sql_block(out: &mut String, first: Option<&str>, records: &[Record]) {
    out.push_str("```sql\n");
    if let Some(sql) = first {
        let _ = writeln!(out, "{sql};");
    }
    for r in records {
        let sql = r.sql.clone().unwrap_or_else(|| r.stmt.to_string());
        let _ = writeln!(out, "{sql};");
    }
    out.push_str("```\n");
}

/// A reduced form's report section: how to repeat it (the session statement, the setup,
/// the oracle's queries), expected and actual, with `##` headings.
fn form_md(sig: &str, f: &Finding, r: &Reduction) -> String {
    let mut md = String::new();
    if let Some(n) = &r.note {
        let _ = writeln!(md, "Reduction: {n}\n");
    }
    let _ = writeln!(md, "## How to repeat\n");
    let _ = writeln!(
        md,
        "On an empty database, in a session with the run's character set (the first line), the setup ({} statement(s)):\n",
        r.setup.len()
    );
    sql_block(&mut md, Some(SESSION_SETUP), &r.setup);
    if !r.oracle_records.is_empty() {
        let _ = writeln!(md, "\nthen the queries:\n");
        sql_block(&mut md, None, &r.oracle_records);
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
    if f.reproducer.is_some() {
        let _ = writeln!(
            md,
            "\nThe same as a sqllogictest file: `{sig}.slt` (expectations are the answers seen)."
        );
    }
    md
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
            form_md: format!("form of {s} from worker {worker}"),
            ..Default::default()
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
            bugs: vec![],
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
        assert_eq!(a.form_md, "form of aaaa from worker 1");
        assert_eq!(
            (m.signatures[1].signature.as_str(), m.signatures[1].count),
            ("bbbb", 1)
        );
    }
}
