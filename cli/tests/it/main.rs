//! The `faultline` binary's integration tests, one binary, one module per topic: analyze
//! on other tools' histories, the cluster CLI, interrupted runs and `faultline cluster
//! clean`, `--keep-on-failure`, and the Kubernetes commands (against an API-server
//! stand-in). Tests that start servers take a slot of [`faultline_cluster::test_slots`]
//! first.

mod analyze_imports;
mod cluster_cli;
mod interrupt;
#[cfg(feature = "k8s")]
mod k8s_clean;
mod k8s_render;
mod keep;
mod notify_run;

/// Runs `faultline cluster clean` and asserts it succeeded.
pub fn cluster_clean() {
    let clean = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["cluster", "clean"])
        .output()
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
}
