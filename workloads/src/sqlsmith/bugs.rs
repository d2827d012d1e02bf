//! One report per bug: the run's signatures grouped into bugs, each written as a
//! ready-to-file `repro/bug-<id>.md`.
//!
//! A signature is the shape of one reduced form: what the query reads and the condition
//! that fails on it. The reducer cannot always bring two sightings of one bug to one form:
//! the hunt's IN-subquery bug was left once over a base table and once over a derived table
//! with a window function (without which that sighting's rows, and so the failure, change).
//! Signatures are therefore grouped by what stays the same across such forms: the failing
//! condition on its own (`signature::condition_shape`) and the `optimizer_switch` flags
//! whose toggle clears it ([`super::switches`]). Forms that differ in either stay apart,
//! since two bugs shown as one would hide one. A differential finding is a bug of its own.
//! The report shows the smallest form in full and every other form after it, each with its
//! own reproducer, so a grouping that is too coarse loses nothing.

use super::options::{Bug, LoopReport, SignatureCount};
use faultline_sqlsmith::signature::fnv1a;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::Path;

/// The grouping key of a signature: its condition and the flags that clear it, or (not
/// an oracle failure, or not probed) the signature alone.
fn key(s: &SignatureCount) -> String {
    match (&s.condition, &s.switches) {
        (Some(c), Some(p)) => format!("{c} cleared by [{}]", p.clearing.join(", ")),
        _ => s.signature.clone(),
    }
}

/// Groups `report.signatures` into `report.bugs`, writes each bug's report into `dir` and
/// points every signature at its bug.
pub(super) fn group(report: &mut LoopReport, dir: &Path) {
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, s) in report.signatures.iter().enumerate() {
        by_key.entry(key(s)).or_default().push(i);
    }
    let mut bugs = Vec::new();
    // Which bug each signature went into, set once the grouping is done.
    let mut members = Vec::new();
    for (k, mut forms) in by_key {
        let sigs = &report.signatures;
        // The representative: the smallest reduction, then the most seen.
        forms.sort_by_cached_key(|i| {
            let s = &sigs[*i];
            (
                s.statements.unwrap_or(usize::MAX),
                std::cmp::Reverse(s.count),
                s.signature.clone(),
            )
        });
        let rep = &sigs[forms[0]];
        let oracles: BTreeSet<String> = forms
            .iter()
            .flat_map(|i| sigs[*i].oracles.iter().cloned())
            .collect();
        let mut bug = Bug {
            id: format!("bug-{:08x}", fnv1a(&k)),
            signatures: forms.iter().map(|i| sigs[*i].signature.clone()).collect(),
            condition: rep.condition.clone(),
            switches: rep.switches.clone(),
            count: forms.iter().map(|i| sigs[*i].count).sum(),
            oracles: oracles.into_iter().collect(),
            statements: rep.statements,
            report: None,
        };
        let shown: Vec<&SignatureCount> = forms.iter().map(|i| &sigs[*i]).collect();
        let path = dir.join(format!("{}.md", bug.id));
        let written =
            std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, bug_md(&bug, &shown)));
        match written {
            Ok(()) => bug.report = Some(path),
            Err(e) => tracing::warn!("writing the report of {}: {e}", bug.id),
        }
        members.extend(
            forms
                .into_iter()
                .map(|i| (i, bug.id.clone(), bug.report.clone())),
        );
        bugs.push(bug);
    }
    for (i, id, path) in members {
        report.signatures[i].bug = Some(id);
        report.signatures[i].report = path;
    }
    bugs.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    report.bugs = bugs;
}

/// A form's findings in words: how often, where, how small.
fn seen(s: &SignatureCount) -> String {
    let at: Vec<String> = s.findings.iter().map(|i| i.to_string()).collect();
    format!(
        "seen {} time(s), after statement(s) {}; {} statement(s) after reduction",
        s.count,
        at.join(", "),
        s.statements.map_or("?".into(), |n| n.to_string())
    )
}

/// The bug's report: what, where and how often, the optimizer probe, the smallest form in
/// full, then the other forms.
fn bug_md(bug: &Bug, forms: &[&SignatureCount]) -> String {
    let rep = forms[0];
    let mut md = String::new();
    let what = if rep.oracle == "diff" || rep.oracle == "snapshot" {
        "Divergence from the reference"
    } else {
        "Wrong result"
    };
    let _ = writeln!(md, "# {what} ({})\n", bug.id);
    let server = if rep.version.is_empty() {
        "unknown"
    } else {
        &rep.version
    };
    let _ = writeln!(md, "- Server: {server}");
    let _ = write!(
        md,
        "- Found by: faultline sqlsmith, oracle `{}`",
        rep.oracle
    );
    let others: Vec<&str> = bug
        .oracles
        .iter()
        .map(String::as_str)
        .filter(|o| *o != rep.oracle)
        .collect();
    if !others.is_empty() {
        let _ = write!(md, " (also seen by `{}`)", others.join("`, `"));
    }
    md.push('\n');
    if let Some(c) = &bug.condition {
        let _ = writeln!(md, "- Failing condition (normalised): `{c}`");
    }
    let _ = writeln!(
        md,
        "- Seen {} time(s) in the run, in {} reduced form(s): {}",
        bug.count,
        forms.len(),
        forms
            .iter()
            .map(|f| format!("`{}` (x{})", f.signature, f.count))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(md, "- Shape: `{}` ({})", rep.shape, seen(rep));
    if let Some(p) = &bug.switches {
        let _ = writeln!(md, "- Optimizer: {}", p.describe());
    }
    md.push('\n');
    md.push_str(&rep.form_md);
    if forms.len() > 1 {
        let _ = writeln!(
            md,
            "\n## Other forms of this bug\n\nThe same condition failed over other FROM clauses and is cleared by the same optimizer switches (if any); each form reproduces on its own.\n"
        );
        for f in &forms[1..] {
            let _ = writeln!(md, "### {}\n\n`{}` ({})\n", f.signature, f.shape, seen(f));
            for line in f.form_md.lines() {
                match line.strip_prefix("## ") {
                    Some(h) => {
                        let _ = writeln!(md, "#### {h}");
                    }
                    None => {
                        let _ = writeln!(md, "{line}");
                    }
                }
            }
            md.push('\n');
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlsmith::switches::SwitchProbe;

    fn form(sig: &str, cond: &str, clearing: &[&str], statements: usize) -> SignatureCount {
        SignatureCount {
            signature: sig.into(),
            shape: format!("shape of {sig}"),
            oracle: "tlp".into(),
            oracles: vec!["tlp".into()],
            count: 1,
            findings: vec![7],
            statements: Some(statements),
            condition: Some(cond.into()),
            switches: Some(SwitchProbe {
                clearing: clearing.iter().map(|c| c.to_string()).collect(),
                tried: 38,
            }),
            version: "10.11.19-MariaDB".into(),
            form_md: format!("## How to repeat\n\nthe SQL of {sig}\n\n## Expected\n\nx\n"),
            ..Default::default()
        }
    }

    #[test]
    fn one_condition_cleared_by_the_same_flags_is_one_bug_with_its_forms() {
        let dir = std::env::temp_dir().join(format!("faultline-bugs-{}", std::process::id()));
        let mut report = LoopReport {
            signatures: vec![
                form("wrong-result-big", "(x IN (SELECT 0))", &[], 8),
                form("wrong-result-small", "(x IN (SELECT 0))", &[], 5),
                // The same condition, but only this one needs a pushdown: another bug.
                form(
                    "wrong-result-push",
                    "(x IN (SELECT 0))",
                    &["condition_pushdown_for_derived=off"],
                    4,
                ),
                form("wrong-result-like", "(outer.c0 LIKE '%')", &[], 4),
            ],
            ..Default::default()
        };
        report.signatures[0].count = 2;
        group(&mut report, &dir);
        assert_eq!(report.bugs.len(), 3, "{:?}", report.bugs);
        let b = &report.bugs[0];
        assert_eq!(b.count, 3, "counts over both forms");
        assert_eq!(
            b.signatures,
            ["wrong-result-small", "wrong-result-big"],
            "the smallest form represents the bug"
        );
        assert_eq!(b.statements, Some(5));
        let md = std::fs::read_to_string(b.report.as_ref().unwrap()).unwrap();
        assert!(
            md.starts_with(&format!("# Wrong result ({})", b.id)),
            "{md}"
        );
        assert!(md.contains("in 2 reduced form(s)"));
        assert!(md.contains("## How to repeat\n\nthe SQL of wrong-result-small"));
        assert!(md.contains("### wrong-result-big"));
        assert!(
            md.contains("#### How to repeat\n\nthe SQL of wrong-result-big"),
            "other forms' sections one level down: {md}"
        );
        assert!(md.contains("No single `optimizer_switch` flag"));
        // Each signature points at its bug's report.
        for s in &report.signatures {
            let bug = report.bugs.iter().find(|b| Some(&b.id) == s.bug.as_ref());
            assert_eq!(s.report, bug.unwrap().report);
        }
        let push = report
            .bugs
            .iter()
            .find(|b| b.signatures == ["wrong-result-push"])
            .unwrap();
        let md = std::fs::read_to_string(push.report.as_ref().unwrap()).unwrap();
        assert!(md.contains("condition_pushdown_for_derived=off"));
        assert!(!md.contains("Other forms"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn without_a_condition_or_a_probe_a_signature_is_its_own_bug() {
        let dir = std::env::temp_dir().join(format!("faultline-bugs-b-{}", std::process::id()));
        let mut a = form("diff-1", "", &[], 3);
        a.condition = None;
        a.oracle = "diff".into();
        let mut b = a.clone();
        b.signature = "diff-2".into();
        let mut c = form("wrong-result-x", "(c)", &[], 3);
        c.switches = None;
        let mut d = c.clone();
        d.signature = "wrong-result-y".into();
        let mut report = LoopReport {
            signatures: vec![a, b, c, d],
            ..Default::default()
        };
        group(&mut report, &dir);
        assert_eq!(report.bugs.len(), 4);
        let md = std::fs::read_to_string(report.bugs[0].report.as_ref().unwrap()).unwrap();
        assert!(
            md.starts_with("# Divergence from the reference") || md.starts_with("# Wrong result")
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
