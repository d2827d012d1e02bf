//! `--notify URL`: when a suite ends invalid or unknown, one JSON POST in the shape of a Slack
//! incoming webhook (`text` plus `blocks`): the verdict, and for each run that was not valid
//! its anomaly in one line, its seed, the command that replays it and its report. Passwords
//! in URLs are masked; a notification that fails is logged and changes nothing.

use crate::run::SuiteOutcome;
use faultline_core::Validity;
use serde_json::Value;

/// The message for `outcome`, or None when it is valid (nothing to tell).
pub fn message(outcome: &SuiteOutcome) -> Option<Value> {
    if outcome.verdict == Validity::Valid {
        return None;
    }
    let bad: Vec<_> = outcome
        .runs
        .iter()
        .filter(|r| r.verdict != Validity::Valid)
        .collect();
    let text = format!(
        "faultline suite {}: {} ({} of {} runs not valid)",
        outcome.suite,
        outcome.verdict,
        bad.len(),
        outcome.runs.len()
    );
    let mut sections = Vec::new();
    for r in bad {
        let anomaly = r.error.clone().unwrap_or_else(|| {
            r.results
                .iter()
                .filter(|c| c.valid == r.verdict)
                .map(|c| format!("{}: {}", c.checker, c.summary))
                .next()
                .unwrap_or_default()
        });
        let report = r.run.as_ref().map_or("-".to_string(), |d| {
            d.join("report.html").display().to_string()
        });
        let line = format!(
            "*{}#{}* {}\n{}\nseed: {}\nreplay: `faultline run {} -- {}`\nreport: {}",
            r.case,
            r.repeat,
            r.verdict,
            anomaly,
            r.seed.map_or("-".into(), |s| s.to_string()),
            r.workload,
            r.args.join(" "),
            report
        );
        sections.push(line);
    }
    Some(faultline_harness::notify::message(&text, sections))
}

/// Posts [`message`] to `url` when there is one; returns whether it was delivered. Never
/// fails the caller: a refused or unreachable URL is logged.
pub fn notify(url: &str, outcome: &SuiteOutcome) -> bool {
    let Some(body) = message(outcome) else {
        return false;
    };
    faultline_harness::notify::post(url, &body)
}
