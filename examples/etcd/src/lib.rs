//! etcd under faultline: a second real system, of another kind than the SQL ones, written
//! against the `faultline` crate alone (plus an HTTP client).
//!
//! What lives here: [`client`], etcd's v3 key-value API (range, put, txn, delete-range,
//! maintenance status) over its JSON gRPC gateway; [`errors`], the one table of which
//! answers prove an op did not happen (`fail`) and which leave it unknown (`info`);
//! [`cluster`], N members in network namespaces with the Kill, Pause, Partition and
//! NetQuality capabilities, and [`disk`], their data dirs on FUSE for the disk faults; [`recipe`], `--db etcd`; the workloads [`register`]
//! (linearizability) and [`append`] (Elle, strict serializable). [`register_all`] adds
//! them to a registry: the `etcd` binary and faultline's front door both call it.
//!
//! The gateway and not the `etcd-client` crate: that crate's build script compiles etcd's
//! protos and needs `protoc`, which is not installed here; the gateway ships with every
//! etcd and speaks the same API in JSON.
//!
//! What does not: no fault schedule, no checker of its own; those are faultline's.

pub mod append;
pub mod client;
pub mod cluster;
pub mod disk;
pub mod errors;
pub mod recipe;
pub mod register;

pub use client::EtcdClient;
pub use cluster::{EtcdCluster, EtcdOptions};
pub use errors::{EtcdError, Outcome};
pub use recipe::EtcdRecipe;

/// `registry` with the etcd system and its two workloads.
pub fn register_all(registry: faultline::prelude::Registry) -> faultline::prelude::Registry {
    registry
        .recipe(EtcdRecipe)
        .workload(register::Register)
        .workload(append::Append)
}
