//! `--notify URL`: when a run ends invalid or unknown, one JSON POST in the shape of a Slack
//! incoming webhook (`text` plus `blocks`): the verdict, the anomaly in one line, the seed,
//! the command that replays the run and its report. The URL is a secret (a webhook's path is
//! its key): it is never written to test.json or a log unmasked. Passwords in any URL of
//! the message are masked; a notification that fails is logged and changes nothing.

use faultline_core::{mask_url_passwords, CheckResult, Validity};
use serde_json::{json, Value};
use std::ffi::OsString;
use std::path::Path;

/// The command that replays a run: `faultline run <workload> -- <its arguments>`, without
/// `--notify` and with `--seed` set to the run's seed.
pub fn replay_command(workload: &str, argv: &[OsString], seed: u64) -> String {
    let mut out = vec![format!("faultline run {workload} --")];
    let mut skip = false;
    for a in argv.iter().skip(1) {
        let a = a.to_string_lossy();
        if skip {
            skip = false;
            continue;
        }
        if a == "--notify" || a == "--seed" {
            skip = true;
            continue;
        }
        if a.starts_with("--notify=") || a.starts_with("--seed=") {
            continue;
        }
        out.push(a.into_owned());
    }
    out.push(format!("--seed {seed}"));
    out.join(" ")
}

/// The message for a run that ended `verdict`, or None when it is valid.
pub fn run_message(
    test: &str,
    verdict: Validity,
    results: &[CheckResult],
    error: Option<&str>,
    seed: u64,
    replay: &str,
    dir: &Path,
) -> Option<Value> {
    if verdict == Validity::Valid {
        return None;
    }
    let text = format!("faultline {test}: {verdict}");
    let anomaly = match error {
        Some(e) => format!("the harness failed: {e}"),
        None => results
            .iter()
            .filter(|c| c.valid == verdict)
            .map(|c| format!("{}: {}", c.checker, c.summary))
            .next()
            .unwrap_or_default(),
    };
    let line = format!(
        "*{test}* {verdict}\n{anomaly}\nseed: {seed}\nreplay: `{replay}`\nreport: {}",
        dir.join("report.html").display()
    );
    Some(message(&text, vec![line]))
}

/// A Slack-shaped message: `text`, then one section for it and one per line of `sections`.
pub fn message(text: &str, sections: Vec<String>) -> Value {
    let text = mask_url_passwords(text);
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})];
    for s in sections {
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": mask_url_passwords(&s)}}),
        );
    }
    json!({ "text": text, "blocks": blocks })
}

/// Posts `body` to `url`; returns whether it was delivered. Never fails the caller: a
/// refused or unreachable URL is logged (masked).
pub fn post(url: &str, body: &Value) -> bool {
    let shown = mask_url_passwords(url);
    match ureq::post(url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
    {
        Ok(_) => {
            tracing::info!("notified {shown}");
            true
        }
        Err(e) => {
            tracing::warn!(
                "the notification to {shown} failed: {}",
                mask_url_passwords(&e.to_string())
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_command_drops_notify_and_pins_the_seed() {
        let argv: Vec<OsString> = [
            "bank",
            "--time-limit",
            "5",
            "--notify",
            "http://h/x",
            "--seed",
            "9",
            "--notify=http://y",
        ]
        .iter()
        .map(Into::into)
        .collect();
        assert_eq!(
            replay_command("bank", &argv, 42),
            "faultline run bank -- --time-limit 5 --seed 42"
        );
    }

    #[test]
    fn a_valid_run_sends_nothing_and_passwords_are_masked() {
        let dir = Path::new("/s/r");
        assert!(run_message("bank", Validity::Valid, &[], None, 1, "x", dir).is_none());
        let m = run_message(
            "bank",
            Validity::Unknown,
            &[],
            Some("cannot reach mysql://root:hunter2@10.0.0.1:3306/db"),
            7,
            "faultline run bank -- --db mysql://root:hunter2@10.0.0.1:3306/db --seed 7",
            dir,
        )
        .unwrap();
        let s = m.to_string();
        assert!(!s.contains("hunter2"), "{s}");
        assert!(
            s.contains("seed: 7") && s.contains("/s/r/report.html"),
            "{s}"
        );
        assert_eq!(m["text"], "faultline bank: unknown");
    }
}
