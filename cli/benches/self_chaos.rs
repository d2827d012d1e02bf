//! The harness under its own faults: bank runs interrupted at random moments.
//!
//! `cargo bench -p faultline-cli --bench self_chaos -- [--interrupts 50] [--kills 20]
//! [--seed 1] [--time-limit 20]` runs `faultline run bank` on the local Galera cluster with
//! a random mix of faults, `--interrupts` times stopped by SIGINT or SIGTERM and `--kills`
//! times by SIGKILL followed by `faultline cluster clean`, each at a random moment between
//! the start of the process and a little after its expected end (cluster start, workload,
//! faults, heal, final reads and the check are all in range). After each run it looks for
//! anything of that run's lab left behind (processes, namespaces, links, FUSE mounts, the
//! temp dir), runs `faultline analyze` on the history it left, and compares analyze's
//! verdict with the run's own. It prints one line per run and then the totals: runs,
//! leftovers found, histories analyze could check, verdicts that differ.

use clap::Parser;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Runs stopped by SIGINT or SIGTERM.
    #[arg(long, default_value_t = 50)]
    interrupts: usize,
    /// Runs stopped by SIGKILL, then `faultline cluster clean`.
    #[arg(long, default_value_t = 20)]
    kills: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `--time-limit` of each bank run.
    #[arg(long, default_value_t = 20)]
    time_limit: u64,
    /// cargo bench passes --bench.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Faults drawn from, two or three per run.
const FAULTS: &[&str] = &[
    "random_kill",
    "all_kill",
    "partition_one",
    "partition_majority",
    "pause_one",
    "big_skews",
    "loss",
    "delay",
    "disk_hang",
    "io_error",
];

#[derive(Default)]
struct Totals {
    runs: usize,
    leftovers: usize,
    with_history: usize,
    analyzed: usize,
    no_history: usize,
    compared: usize,
    differ: usize,
    hung: usize,
}

fn main() {
    let args = Args::parse();
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_faultline"));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let root = std::env::temp_dir().join(format!("fl-self-chaos-{}", std::process::id()));
    let mut t = Totals::default();
    println!("run  signal   at (s)  exit   history  analyze  same verdict  left behind");
    let signals: Vec<Signal> = (0..args.interrupts)
        .map(|i| {
            if i % 2 == 0 {
                Signal::SIGINT
            } else {
                Signal::SIGTERM
            }
        })
        .chain((0..args.kills).map(|_| Signal::SIGKILL))
        .collect();
    // A run takes about 15 s to start the cluster, then the time limit, then heal and check.
    let span = 15.0 + args.time_limit as f64 + 10.0;
    for (i, signal) in signals.into_iter().enumerate() {
        let store = root.join(format!("run-{i}"));
        let mut faults: Vec<&str> = Vec::new();
        while faults.len() < rng.random_range(2..=3) {
            let f = FAULTS[rng.random_range(0..FAULTS.len())];
            if !faults.contains(&f) {
                faults.push(f);
            }
        }
        let at = rng.random_range(0.2..span);
        let seed: u64 = rng.random_range(1..1_000_000);
        let mut child = spawn(&exe, &store, &faults, args.time_limit, seed);
        let pid = child.id();
        let (status, lab) = signal_at(&mut child, pid, signal, Duration::from_secs_f64(at));
        assert_ne!(
            status,
            Some(254),
            "faultline refused the bench's arguments (exit 254): fix the bench"
        );
        t.runs += 1;
        let exit = match status {
            Some(code) => code.to_string(),
            None if signal == Signal::SIGKILL => "killed".into(),
            None => {
                t.hung += 1;
                "hung".into()
            }
        };
        if signal == Signal::SIGKILL {
            let _ = Command::new(&exe).args(["cluster", "clean"]).output();
        }
        let left = lab
            .as_ref()
            .map(|(prefix, dir)| faultline_cluster::leftovers::leftovers(prefix, dir))
            .unwrap_or_default();
        t.leftovers += left.len();
        let run_dir = std::fs::canonicalize(store.join("latest")).ok();
        let history = run_dir.as_ref().map(|d| d.join("history.jsonl"));
        let has_history = history.as_ref().is_some_and(|h| h.exists());
        let (analyzed, same) = if has_history {
            t.with_history += 1;
            let dir = run_dir.as_ref().unwrap();
            let run_code = status.filter(|_| dir.join("results.json").exists());
            let out = Command::new(&exe).arg("analyze").arg(dir).output();
            let code = out.ok().and_then(|o| o.status.code());
            let analyzed = code.is_some_and(|c| [0, 1, 2].contains(&c));
            if analyzed {
                t.analyzed += 1;
            }
            let same = run_code.map(|r| Some(r) == code);
            if let Some(s) = same {
                t.compared += 1;
                if !s {
                    t.differ += 1;
                }
            }
            (format!("{code:?}"), same)
        } else {
            t.no_history += 1;
            ("-".into(), None)
        };
        println!(
            "{i:<4} {:<8} {at:>6.1}  {exit:<6} {:<8} {analyzed:<8} {:<13} {}",
            format!("{signal:?}").trim_start_matches("SIG"),
            if has_history { "yes" } else { "none" },
            same.map_or("-".to_string(), |s| s.to_string()),
            if left.is_empty() {
                "nothing".to_string()
            } else {
                format!("{left:?}")
            }
        );
        let _ = std::fs::remove_dir_all(&store);
    }
    let _ = std::fs::remove_dir_all(&root);
    println!(
        "runs {}; leftovers found {}; histories analyze could check {} of {} runs that left one \
         ({} stopped before their history began); verdicts that differ {} of {} compared; hung {}",
        t.runs, t.leftovers, t.analyzed, t.with_history, t.no_history, t.differ, t.compared, t.hung
    );
}

fn spawn(exe: &Path, store: &Path, faults: &[&str], time_limit: u64, seed: u64) -> Child {
    Command::new(exe)
        .args(["run", "bank", "--", "--time-limit"])
        .arg(time_limit.to_string())
        .arg("--nemesis")
        .arg(faults.join(","))
        .args(["--nemesis-interval", "2", "--nemesis-duration", "2-5"])
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--store")
        .arg(store)
        .env("FAULTLINE_PROGRESS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("faultline runs")
}

/// Sends `signal` after `after` (unless the run ended first) and waits for the exit (at most
/// 180 s, then SIGKILL: a hung harness). Returns the exit code and the lab the run made
/// (seen while it ran: its temp dir `faultline-fl<id>-<pid>` names it).
fn signal_at(
    child: &mut Child,
    pid: u32,
    signal: Signal,
    after: Duration,
) -> (Option<i32>, Option<(String, PathBuf)>) {
    let start = Instant::now();
    let mut lab = None;
    let mut sent = false;
    loop {
        if lab.is_none() {
            lab = find_lab(pid);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            return (status.code(), lab);
        }
        if !sent && start.elapsed() >= after {
            let _ = kill(Pid::from_raw(pid as i32), signal);
            sent = true;
        }
        if start.elapsed() > after + Duration::from_secs(180) {
            let _ = child.kill();
            let _ = child.wait();
            return (None, lab);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn find_lab(pid: u32) -> Option<(String, PathBuf)> {
    let suffix = format!("-{pid}");
    for e in std::fs::read_dir(std::env::temp_dir()).ok()?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(prefix) = name
            .strip_prefix("faultline-")
            .and_then(|r| r.strip_suffix(&suffix))
        {
            if prefix.starts_with("fl") && prefix[2..].chars().all(|c| c.is_ascii_digit()) {
                return Some((prefix.to_string(), e.path()));
            }
        }
    }
    None
}
