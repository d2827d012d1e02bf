//! The etcd example's integration tests, against real etcd servers they start.

mod client;
mod cluster;
mod runs;
