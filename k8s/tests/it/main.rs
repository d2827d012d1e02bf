//! faultline-k8s: every object we generate validated against the real CRD schemas
//! (../shared/schemas), and the exact requests a schedule makes of the API server (a
//! recording stand-in), and the real kube client against a loopback API-server stand-in
//! (no Kubernetes cluster is available here).

mod argo;
mod chaos;
#[cfg(feature = "k8s")]
mod client;
mod schemas;
