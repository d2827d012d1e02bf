//! faultline-k8s: every object we generate validated against the real CRD schemas
//! (../shared/schemas), and the exact requests a schedule makes of the API server (a
//! recording stand-in: no Kubernetes cluster is available here).

mod argo;
mod chaos;
mod schemas;
