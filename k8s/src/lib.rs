//! faultline on Kubernetes: faults become Chaos Mesh objects and suites become Argo
//! workflows, so a system under test that lives in a cluster is tested with the engines its
//! operators already run (TiPocket's setting).
//!
//! What lives here: [`objects`], the Chaos Mesh objects (PodChaos, NetworkChaos,
//! TimeChaos, IOChaos, StressChaos) as JSON, each labelled with the run's id; [`chaos`],
//! [`ChaosMesh`], a `Db` whose capabilities (kill, partition, clock, link quality, disk)
//! create those objects at a fault's start and delete them at its heal, through a narrow
//! [`ChaosApi`]; [`api::Recorder`], the API that records requests instead of sending them
//! (dry runs and tests); [`render`], `faultline k8s render`: the objects a list of faults
//! would create, drawn by the catalogue's own code; [`argo`], `faultline suite render
//! --argo`: a suite as a WorkflowTemplate and a nightly CronWorkflow.
//!
//! What does not (yet): a client of a real API server (the kube crate, behind a `k8s`
//! feature) and a recipe that finds pods by selector; no Kubernetes cluster was available
//! where this was written, so everything is tested on the exact requests and against the
//! real CRD schemas.

pub mod api;
pub mod argo;
pub mod chaos;
pub mod objects;
pub mod render;

pub use api::{ApiError, ChaosApi, Recorder, Request};
pub use chaos::ChaosMesh;
pub use objects::Scope;
