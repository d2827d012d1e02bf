//! How to test a system of your own with faultline, shown on a small one.
//!
//! memkv is a key-value store whose nodes are TCP servers on loopback, all in front of one
//! shared map (a perfectly replicated store: every op a node serves is linearizable). It
//! speaks a line protocol: `GET k` -> `VAL v` or `VAL nil`, `PUT k v` -> `OK`,
//! `CAS k old new` -> `OK` or `NO`, errors as `ERR why`.
//!
//! - [`server`]: the nodes and the capabilities faultline's faults use: Kill (the node's
//!   listener and connections go, its port comes back on start), Pause (it stops
//!   answering), Partition (a node cut off from the majority answers `ERR no quorum`).
//!   `--memkv-lose-writes` plants a bug: a killed node takes its last acknowledged write
//!   with it, as a store that acknowledges before it persists would.
//! - [`recipe`]: `--db memkv`, its options, how it starts.
//! - [`register`]: the workload: read / write / cas over the protocol, classified ok /
//!   fail / info, checked for linearizability.
//!
//! `main.rs` registers the recipe and the workload next to faultline's own.

pub mod recipe;
pub mod register;
pub mod server;

pub use recipe::MemKvRecipe;
pub use register::Register;
pub use server::MemKv;
