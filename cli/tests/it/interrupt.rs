//! Ctrl-C and SIGTERM in the middle of a run with an active fault, one test per kind of fault
//! (kill, whole-cluster kill, pause, partition, clock, link loss, bandwidth, delay, a hung
//! disk): the `bank` binary stops, heals, tears down, still writes the history and the
//! results, prints the verdict, seed and store lines last, `faultline analyze` checks the history it left, and
//! nothing of ours is left running or configured (namespaces, links, processes, temp dir).
//! And kill -9 of the harness during a pause or a hung disk (FUSE data dirs), followed by
//! `faultline cluster clean`, leaves nothing either (mounts included).

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for_fault_start(store: &Path, fault: &str, timeout: Duration) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Ok(dir) = std::fs::canonicalize(store.join("latest")) {
            let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap_or_default();
            if history.lines().any(|l| {
                l.contains("\"type\":\"info\"")
                    && l.contains("\"f\":\"start\"")
                    && l.contains(fault)
            }) {
                return dir;
            }
        }
        assert!(start.elapsed() < timeout, "{fault} never started");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn spawn_bank(fault: &str, store: &Path) -> std::process::Child {
    spawn_bank_with(fault, store, &[])
}

fn spawn_bank_with(fault: &str, store: &Path, extra: &[&str]) -> std::process::Child {
    // `faultline run bank` runs the bank test in this process, as the `bank` binary does.
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "bank",
            "--",
            "--time-limit",
            "120",
            "--nemesis",
            fault,
            "--nemesis-interval",
            "2",
            "--nemesis-duration",
            "60",
        ])
        .args(extra)
        .arg("--store")
        .arg(store)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn interrupt_during(fault: &str, signal: Signal) {
    let _slot = faultline_cluster::test_slots::shared();
    let store = std::env::temp_dir().join(format!("fl-int-{}-{fault}", std::process::id()));
    let mut child = spawn_bank(fault, &store);
    let dir = wait_for_fault_start(&store, fault, Duration::from_secs(120));
    std::thread::sleep(Duration::from_secs(2));
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "the harness did not stop after {signal}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    let code = status.code().expect("exited, not killed");
    assert!([0, 1, 2].contains(&code), "exit {code}: {out}");
    let last: Vec<&str> = out.lines().rev().take(3).collect();
    assert!(
        last[2].starts_with("verdict: ")
            && last[1].starts_with("seed: ")
            && last[0].starts_with("store: "),
        "{out}"
    );
    assert!(out.contains("interrupted"), "{out}");

    // The history was kept, the fault's heal is in it, and analyze reaches the same verdict.
    let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    assert!(history.lines().any(|l| l.contains("\"f\":\"heal\"")));
    assert!(dir.join("results.json").exists() && dir.join("report.html").exists());
    let analyze = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("analyze")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        analyze.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&analyze.stdout)
    );

    let test: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("test.json")).unwrap()).unwrap();
    let left = faultline_cluster::leftovers::leftovers(
        test["db"]["lab_prefix"].as_str().unwrap(),
        Path::new(test["db"]["temp_dir"].as_str().unwrap()),
    );
    assert!(left.is_empty(), "left behind after {signal}: {left:?}");
    std::fs::remove_dir_all(&store).ok();
}

#[test]
fn ctrl_c_during_a_partition_heals_and_keeps_the_history() {
    interrupt_during("partition_one", Signal::SIGINT);
}

#[test]
fn sigterm_during_a_kill_heals_and_keeps_the_history() {
    interrupt_during("random_kill", Signal::SIGTERM);
}

#[test]
fn ctrl_c_during_a_whole_cluster_kill_leaves_nothing() {
    interrupt_during("all_kill", Signal::SIGINT);
}

#[test]
fn sigterm_during_a_pause_leaves_nothing() {
    interrupt_during("pause_all", Signal::SIGTERM);
}

#[test]
fn ctrl_c_during_a_clock_strobe_leaves_nothing() {
    interrupt_during("strobe_skews", Signal::SIGINT);
}

#[test]
fn sigterm_during_packet_loss_leaves_nothing() {
    interrupt_during("loss", Signal::SIGTERM);
}

#[test]
fn ctrl_c_during_a_bandwidth_cap_leaves_nothing() {
    interrupt_during("bandwidth", Signal::SIGINT);
}

#[test]
fn sigterm_during_a_delay_leaves_nothing() {
    interrupt_during("delay", Signal::SIGTERM);
}

#[test]
fn ctrl_c_during_a_disk_hang_leaves_nothing() {
    interrupt_during("disk_hang", Signal::SIGINT);
}

#[test]
fn kill_9_during_a_pause_then_clean_leaves_nothing() {
    kill_9_during_then_clean("pause_all");
}

#[test]
fn kill_9_during_a_disk_hang_then_clean_leaves_nothing() {
    kill_9_during_then_clean("disk_hang");
}

#[test]
fn kill_9_of_a_run_with_data_in_memory_then_clean_leaves_nothing() {
    let temp =
        kill_9_during_then_clean_with("pause_all", &["--db", "local-mariadb", "--data-in-memory"]);
    assert!(
        temp.starts_with(faultline_cluster::clean::MEMORY_ROOT),
        "the data dirs were not in memory: {}",
        temp.display()
    );
}

fn kill_9_during_then_clean(fault: &str) {
    let temp = kill_9_during_then_clean_with(fault, &[]);
    assert!(temp.starts_with(std::env::temp_dir()), "{}", temp.display());
}

/// Kills a bank run with -9 during `fault`, cleans, and returns the lab's data dir root.
fn kill_9_during_then_clean_with(fault: &str, extra: &[&str]) -> PathBuf {
    let _slot = faultline_cluster::test_slots::exclusive();
    let store = std::env::temp_dir().join(format!(
        "fl-int-{}-k9-{fault}-{}",
        std::process::id(),
        extra.len()
    ));
    let mut child = spawn_bank_with(fault, &store, extra);
    let dir = wait_for_fault_start(&store, fault, Duration::from_secs(120));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let test: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("test.json")).unwrap()).unwrap();
    let prefix = test["db"]["lab_prefix"].as_str().unwrap().to_string();
    let temp = PathBuf::from(test["db"]["temp_dir"].as_str().unwrap());
    let before = faultline_cluster::leftovers::leftovers(&prefix, &temp);
    assert!(
        before.iter().any(|l| l.starts_with("process")),
        "the servers outlive a harness killed with -9: {before:?}"
    );

    crate::cluster_clean();
    let left = faultline_cluster::leftovers::leftovers(&prefix, &temp);
    assert!(left.is_empty(), "left after kill -9 and clean: {left:?}");
    // The history written before the kill is still readable by analyze.
    let analyze = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("analyze")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        [0, 1, 2].contains(&analyze.status.code().unwrap_or(-1)),
        "{}",
        String::from_utf8_lossy(&analyze.stderr)
    );
    assert!(!temp.exists(), "the lab's dir is gone: {}", temp.display());
    std::fs::remove_dir_all(&store).ok();
    temp
}
