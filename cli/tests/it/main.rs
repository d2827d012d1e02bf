//! The `faultline` binary's integration tests, one binary, one module per topic: analyze
//! on other tools' histories, the cluster CLI, interrupted runs and `faultline cluster
//! clean`. Tests that start servers take a slot of [`faultline_cluster::test_slots`] first.

mod analyze_imports;
mod cluster_cli;
mod interrupt;
mod k8s_render;
mod notify_run;
