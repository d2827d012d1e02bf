//! The few requests faultline makes of a Kubernetes API server for Chaos Mesh objects, as a
//! trait, and a recorder that keeps them instead of sending them (dry runs and tests).
//! The real client is [`crate::client::KubeApi`] (feature `k8s`).

use crate::objects::{kind_and_name, plural};
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub String);

/// One object found by a label selector: where it lives and what it is called.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// What faultline asks of the API server for Chaos Mesh objects.
#[async_trait]
pub trait ChaosApi: Send + Sync {
    /// Creates `object` (it carries its kind, namespace, name and labels).
    async fn create(&self, object: &Value) -> Result<(), ApiError>;
    /// The object as the server has it now (with Chaos Mesh's `status`), None when gone.
    async fn get(&self, kind: &str, namespace: &str, name: &str)
        -> Result<Option<Value>, ApiError>;
    /// Deletes one object of `kind` (e.g. `NetworkChaos`); one already gone is no error.
    /// Chaos Mesh's finalizer keeps it until every injection is recovered.
    async fn delete(&self, kind: &str, namespace: &str, name: &str) -> Result<(), ApiError>;
    /// Every object of `kind` matching the label `selector` (`a=b,c=d`), in `namespace` or,
    /// when None, in every namespace.
    async fn list(
        &self,
        kind: &str,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Found>, ApiError>;
}

/// One request as it would be sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Create(Value),
    Get {
        kind: String,
        namespace: String,
        name: String,
    },
    Delete {
        kind: String,
        namespace: String,
        name: String,
    },
    List {
        kind: String,
        namespace: Option<String>,
        selector: String,
    },
}

/// Records every request; a dry run's API. Nothing it is asked for exists (`get` says
/// gone, `list` finds nothing): it never pretends to be a cluster.
#[derive(Default)]
pub struct Recorder {
    requests: Mutex<Vec<Request>>,
}

impl Recorder {
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The objects created, in order.
    pub fn created(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter_map(|r| match r {
                Request::Create(o) => Some(o),
                _ => None,
            })
            .collect()
    }

    fn push(&self, r: Request) {
        self.requests.lock().unwrap().push(r);
    }
}

#[async_trait]
impl ChaosApi for Recorder {
    async fn create(&self, object: &Value) -> Result<(), ApiError> {
        let (kind, _) = kind_and_name(object);
        plural(&kind)?;
        self.push(Request::Create(object.clone()));
        Ok(())
    }

    async fn get(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ApiError> {
        self.push(Request::Get {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        });
        Ok(None)
    }

    async fn delete(&self, kind: &str, namespace: &str, name: &str) -> Result<(), ApiError> {
        self.push(Request::Delete {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        });
        Ok(())
    }

    async fn list(
        &self,
        kind: &str,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Found>, ApiError> {
        self.push(Request::List {
            kind: kind.into(),
            namespace: namespace.map(String::from),
            selector: selector.into(),
        });
        Ok(Vec::new())
    }
}
