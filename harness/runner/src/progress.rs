//! The progress line while a run runs (indicatif): elapsed of the time limit, client ops
//! ok / fail / info so far, and the faults active now. Drawn on stderr only when stderr is a
//! terminal, so CI logs stay clean; log lines are printed above it ([`LogWriter`] suspends
//! the line while a log line is written).
//!
//! The [`Tally`] is fed by the history recorder (every op it writes), so the line says what
//! the history says.
//!
//! Checking (after a run, and `faultline analyze`) shows a [`Steps`] line: a spinner with
//! the elapsed time and the step at hand (reading the history, each checker in turn, the
//! report), under the same terminal rule.

use faultline_core::{Op, OpType};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What the history holds so far: completions by type and the faults started and not ended.
#[derive(Default)]
pub struct Tally {
    ok: AtomicU64,
    fail: AtomicU64,
    info: AtomicU64,
    faults: Mutex<BTreeMap<String, String>>,
}

impl Tally {
    /// Counts one recorded op.
    pub fn note(&self, op: &Op) {
        if op.process.is_nemesis() {
            let fault = op.value["fault"].as_str().unwrap_or_default().to_string();
            let nodes: Vec<&str> = op.value["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str())
                .collect();
            let key = format!("{fault}|{}", nodes.join(","));
            let mut faults = self.faults.lock().unwrap();
            match (op.f.as_str(), op.kind) {
                ("start", OpType::Info) if op.error.is_none() => {
                    faults.insert(key, format!("{fault} {}", nodes.join(",")));
                }
                ("stop", OpType::Invoke) => {
                    faults.remove(&key);
                }
                ("heal", _) => faults.clear(),
                _ => {}
            }
            return;
        }
        let counter = match op.kind {
            OpType::Ok => &self.ok,
            OpType::Fail => &self.fail,
            OpType::Info => &self.info,
            OpType::Invoke => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `ok 120 · fail 3 · info 1 · partition_one n2`, or `... · no fault` when none is active.
    pub fn line(&self) -> String {
        let faults = self.faults.lock().unwrap();
        let active = if faults.is_empty() {
            "no fault".to_string()
        } else {
            faults.values().cloned().collect::<Vec<_>>().join("; ")
        };
        format!(
            "ok {} · fail {} · info {} · {active}",
            self.ok.load(Ordering::Relaxed),
            self.fail.load(Ordering::Relaxed),
            self.info.load(Ordering::Relaxed)
        )
    }
}

fn current() -> &'static Mutex<Option<ProgressBar>> {
    static BAR: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();
    BAR.get_or_init(|| Mutex::new(None))
}

/// The line of a running run; it goes away when dropped.
pub struct Progress {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

/// Starts the line for a run of `time_limit_s` seconds, or None when stderr is not a
/// terminal (or `FAULTLINE_PROGRESS=0`).
pub fn start(time_limit_s: u64, tally: Arc<Tally>) -> Option<Progress> {
    if !drawn() {
        return None;
    }
    let bar = ProgressBar::new(time_limit_s.max(1));
    let style = ProgressStyle::with_template("{elapsed:>4} of {len}s [{bar:24}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    *current().lock().unwrap() = Some(bar.clone());
    let ticking = bar.clone();
    let started = Instant::now();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(250));
        loop {
            every.tick().await;
            let s = started.elapsed().as_secs();
            ticking.set_position(s.min(ticking.length().unwrap_or(s)));
            let phase = if s >= ticking.length().unwrap_or(u64::MAX) {
                " · healing, final reads"
            } else {
                ""
            };
            ticking.set_message(format!("{}{phase}", tally.line()));
        }
    });
    Some(Progress { bar, ticker })
}

/// Whether a line may be drawn: stderr is a terminal and `FAULTLINE_PROGRESS` is not 0.
fn drawn() -> bool {
    std::io::stderr().is_terminal() && std::env::var("FAULTLINE_PROGRESS").as_deref() != Ok("0")
}

/// The spinner of a long check; it goes away when dropped.
pub struct Steps {
    bar: ProgressBar,
}

/// Starts a check's line at its first step, or None when no line is drawn (or a run's line
/// is already up: [`step`] then writes the run's message).
pub fn steps(first: &str) -> Option<Steps> {
    let mut current = current().lock().unwrap();
    if !drawn() || current.is_some() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(first.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    *current = Some(bar.clone());
    Some(Steps { bar })
}

/// Names the step at hand on the line drawn now, if any.
pub fn step(msg: &str) {
    if let Some(bar) = current().lock().unwrap().as_ref() {
        bar.set_message(msg.to_string());
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        *current().lock().unwrap() = None;
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.ticker.abort();
        *current().lock().unwrap() = None;
        self.bar.finish_and_clear();
    }
}

/// The log layer's stderr: a log line is written with the progress line out of the way.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = current().lock().unwrap().clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_core::Process;
    use serde_json::json;

    fn op(process: Process, kind: OpType, f: &str, value: serde_json::Value) -> Op {
        Op {
            index: 0,
            time: 0,
            process,
            kind,
            f: f.into(),
            value,
            node: None,
            error: None,
        }
    }

    #[test]
    fn the_line_counts_completions_and_follows_the_faults() {
        let t = Tally::default();
        let p = Process::Client(0);
        t.note(&op(p, OpType::Invoke, "read", json!(null)));
        t.note(&op(p, OpType::Ok, "read", json!(null)));
        t.note(&op(p, OpType::Fail, "write", json!(null)));
        t.note(&op(p, OpType::Info, "cas", json!(null)));
        t.note(&op(p, OpType::Ok, "read", json!(null)));
        assert_eq!(t.line(), "ok 2 · fail 1 · info 1 · no fault");
        let kill = json!({"fault": "random_kill", "nodes": ["n2"]});
        let part = json!({"fault": "partition_one", "nodes": ["n1"]});
        t.note(&op(Process::Nemesis, OpType::Invoke, "start", kill.clone()));
        assert!(t.line().ends_with("no fault"), "active only once started");
        t.note(&op(Process::Nemesis, OpType::Info, "start", kill.clone()));
        t.note(&op(Process::Nemesis, OpType::Info, "start", part.clone()));
        assert_eq!(
            t.line(),
            "ok 2 · fail 1 · info 1 · partition_one n1; random_kill n2"
        );
        t.note(&op(Process::Nemesis, OpType::Invoke, "stop", kill));
        assert!(t.line().ends_with("· partition_one n1"), "{}", t.line());
        t.note(&op(
            Process::Nemesis,
            OpType::Invoke,
            "heal",
            json!({"fault": "all"}),
        ));
        assert!(t.line().ends_with("no fault"));
    }

    #[test]
    fn no_line_without_a_terminal() {
        // The test harness captures stderr: it is not a terminal, so nothing is drawn.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if !std::io::stderr().is_terminal() {
                assert!(start(10, Arc::new(Tally::default())).is_none());
                assert!(steps("reading the history").is_none());
                step("no line: nothing happens");
            }
        });
    }
}
