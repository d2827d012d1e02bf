//! faultline on Kubernetes: faults become Chaos Mesh objects and suites become Argo
//! workflows, so a system under test that lives in a cluster is tested with the engines its
//! operators already run (TiPocket's setting).
//!
//! What lives here: [`objects`], the Chaos Mesh objects (PodChaos, NetworkChaos,
//! TimeChaos, IOChaos, StressChaos) as JSON, each labelled with the run's id; [`chaos`],
//! [`ChaosMesh`], a `Db` whose capabilities (kill, partition, clock, link quality, disk,
//! stress) create those objects at a fault's start and delete them at its heal, through a
//! narrow [`ChaosApi`], and the clean-up of every object with a label; [`status`], what
//! Chaos Mesh reports of an object (injected, recovered) and the waits on it;
//! [`api::Recorder`], the API that records requests instead of sending them (dry runs);
//! [`render`], `faultline k8s render`: the objects a list of faults would create, drawn by
//! the catalogue's own code; [`argo`], `faultline suite render --argo`: a suite as a
//! WorkflowTemplate and a nightly CronWorkflow.
//!
//! With the `k8s` feature (on by default): [`client`], the client of a real API server
//! (kube's `DynamicObject` for the chaos-mesh.org/v1alpha1 kinds, pods by selector,
//! services); [`recipe`], `--db k8s://NAMESPACE?selector=LABELS`; [`tidb`], `--db
//! k8s-tidb://NAMESPACE?cluster=NAME`, a TidbCluster whose PD is asked for its leader; and
//! [`standin`], the
//! loopback API-server stand-in the tests run. No Kubernetes cluster was available where
//! this was written: the client is tested against the stand-in, the objects against the
//! real CRD schemas.

pub mod api;
pub mod argo;
pub mod chaos;
pub mod objects;
pub mod render;
pub mod status;

#[cfg(feature = "k8s")]
pub mod client;
#[cfg(feature = "k8s")]
pub mod recipe;
#[cfg(feature = "k8s")]
pub mod standin;
#[cfg(feature = "k8s")]
pub mod tidb;

pub use api::{ApiError, ChaosApi, Found, Recorder, Request};
pub use chaos::ChaosMesh;
pub use objects::Scope;
pub use status::Waits;
