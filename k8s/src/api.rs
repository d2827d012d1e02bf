//! The few requests faultline makes of a Kubernetes API server, as a trait, and a recorder
//! that keeps them instead of sending them.

use async_trait::async_trait;
use serde_json::Value;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub String);

/// What faultline asks of the API server for Chaos Mesh objects.
#[async_trait]
pub trait ChaosApi: Send + Sync {
    /// Creates `object` (it carries its kind, namespace and name).
    async fn create(&self, object: &Value) -> Result<(), ApiError>;
    /// Deletes one object of `kind` (e.g. `NetworkChaos`).
    async fn delete(&self, kind: &str, namespace: &str, name: &str) -> Result<(), ApiError>;
    /// Deletes every object of `kind` carrying `label=value` (the clean-up after a crash).
    async fn delete_labelled(
        &self,
        kind: &str,
        namespace: &str,
        label: &str,
        value: &str,
    ) -> Result<(), ApiError>;
}

/// One request as it would be sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Create(Value),
    Delete {
        kind: String,
        namespace: String,
        name: String,
    },
    DeleteLabelled {
        kind: String,
        namespace: String,
        selector: String,
    },
}

/// Records every request; a dry run's API, and the tests' stand-in for an API server.
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
}

#[async_trait]
impl ChaosApi for Recorder {
    async fn create(&self, object: &Value) -> Result<(), ApiError> {
        self.requests
            .lock()
            .unwrap()
            .push(Request::Create(object.clone()));
        Ok(())
    }

    async fn delete(&self, kind: &str, namespace: &str, name: &str) -> Result<(), ApiError> {
        self.requests.lock().unwrap().push(Request::Delete {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        });
        Ok(())
    }

    async fn delete_labelled(
        &self,
        kind: &str,
        namespace: &str,
        label: &str,
        value: &str,
    ) -> Result<(), ApiError> {
        self.requests.lock().unwrap().push(Request::DeleteLabelled {
            kind: kind.into(),
            namespace: namespace.into(),
            selector: format!("{label}={value}"),
        });
        Ok(())
    }
}
