//! `--keep-on-failure` on the local Galera cluster: a run that ends invalid (bank at
//! MariaDB's default REPEATABLE READ: lost updates) leaves its three servers up, healed and
//! answering, prints how to reach them and that `faultline cluster clean` removes them,
//! which it then does, leaving nothing; a valid run with the flag is torn down as usual.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bank(store: &Path, extra: &[&str]) -> (i32, String, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "bank",
            "--",
            "--time-limit",
            "8",
            "--keep-on-failure",
            "--seed",
            "5",
        ])
        .args(extra)
        .arg("--store")
        .arg(store)
        .env("FAULTLINE_PROGRESS", "0")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let dir = std::fs::canonicalize(store.join("latest")).expect("a run folder");
    let test =
        serde_json::from_str(&std::fs::read_to_string(dir.join("test.json")).unwrap()).unwrap();
    (out.status.code().unwrap_or(-1), text, test)
}

fn leftovers(test: &serde_json::Value) -> Vec<String> {
    faultline_cluster::leftovers::leftovers(
        test["db"]["lab_prefix"].as_str().unwrap(),
        Path::new(test["db"]["temp_dir"].as_str().unwrap()),
    )
}

#[test]
fn a_failed_run_keeps_its_cluster_until_clean_and_a_valid_one_does_not() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let store = std::env::temp_dir().join(format!("fl-keep-{}", std::process::id()));
    let (code, out, test) = bank(&store, &[]);
    assert_eq!(code, 1, "bank at repeatable read ends invalid: {out}");
    assert!(out.contains("the cluster stays up"), "{out}");
    assert!(out.contains("faultline cluster clean"), "{out}");
    let left = leftovers(&test);
    assert!(
        left.iter().any(|l| l.starts_with("process")),
        "no server kept: {left:?}"
    );
    // Each node answers through the socket printed, in the primary component, synced.
    let sockets: Vec<PathBuf> = out
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("--socket="))
        .map(PathBuf::from)
        .collect();
    assert_eq!(sockets.len(), 3, "{out}");
    for s in &sockets {
        let q = Command::new("mysql")
            .arg(format!("--socket={}", s.display()))
            .args(["-u", "root", "-N", "-e"])
            .arg("SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size','wsrep_local_state_comment')")
            .output()
            .unwrap();
        let status = String::from_utf8_lossy(&q.stdout);
        assert!(
            q.status.success(),
            "{}: {}",
            s.display(),
            String::from_utf8_lossy(&q.stderr)
        );
        assert!(
            status.contains("wsrep_cluster_size\t3") && status.contains("Synced"),
            "{status}"
        );
    }

    crate::cluster_clean();
    let left = leftovers(&test);
    assert!(left.is_empty(), "left after clean: {left:?}");

    // With locking reads the same run is valid: nothing is kept.
    let (code, out, test) = bank(&store, &["--read-lock", "for-update"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("stays up"), "{out}");
    let left = leftovers(&test);
    assert!(left.is_empty(), "a valid run left: {left:?}");
    std::fs::remove_dir_all(&store).ok();
}
