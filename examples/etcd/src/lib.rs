//! etcd under faultline: a second real system, of another kind than the SQL ones.
//!
//! What lives here so far: [`client`], etcd's v3 key-value API (range, put, a compare-value
//! txn) over its JSON gRPC gateway, and [`errors`], which gateway answers prove an op did
//! not happen and which leave it unknown. The gateway and not the `etcd-client` crate:
//! that crate's build script compiles etcd's protos and needs `protoc`, which is not here.
//!
//! What does not (yet): the recipe that starts members in network namespaces, and the
//! workloads.

pub mod client;
pub mod errors;

pub use client::EtcdClient;
pub use errors::{EtcdError, Outcome};
