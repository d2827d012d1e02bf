//! [`KubeApi`]: the client of a real Kubernetes API server (kube + k8s-openapi). Chaos Mesh
//! objects go through kube's `DynamicObject` with an `ApiResource` per chaos-mesh.org/v1alpha1
//! kind (no generated types: the JSON of [`crate::objects`] is sent as it is); pods and
//! services through k8s-openapi's types. The configuration is kube's own inference:
//! `KUBECONFIG` or `~/.kube/config`, else the in-cluster service account (an Argo step).

use crate::api::{ApiError, ChaosApi, Found};
use crate::objects::{plural, API_VERSION};
use async_trait::async_trait;
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::GroupVersionKind;
use kube::Client;
use serde_json::Value;

/// A pod the selector picked, as the API server reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    pub name: String,
    /// `Pending`, `Running`, ...
    pub phase: String,
    /// Its `Ready` condition is True.
    pub ready: bool,
    /// Being deleted (a kill's pod on its way out).
    pub terminating: bool,
    pub ip: Option<String>,
    /// `app.kubernetes.io/component` (a TidbCluster's `pd`, `tikv`, `tidb`).
    pub component: Option<String>,
}

/// One port of a Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
}

/// The client of a real API server.
#[derive(Clone)]
pub struct KubeApi {
    client: Client,
    config: kube::Config,
}

/// One line for a failed request: what was asked and what the server said.
fn fail(what: &str, e: kube::Error) -> ApiError {
    match e {
        kube::Error::Api(r) => ApiError(format!(
            "{what}: the API server said {} {}: {}",
            r.code, r.reason, r.message
        )),
        other => ApiError(format!(
            "{what}: {} (is the cluster reachable? check KUBECONFIG / `kubectl cluster-info`)",
            one_line(&other)
        )),
    }
}

fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s.replace('\n', " ")
}

fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(r) if r.code == 404)
}

impl KubeApi {
    /// A client of `config` (call it inside the tokio runtime that will use it).
    pub fn new(config: kube::Config) -> Result<KubeApi, ApiError> {
        let client = Client::try_from(config.clone())
            .map_err(|e| ApiError(format!("a Kubernetes client: {}", one_line(&e))))?;
        Ok(KubeApi { client, config })
    }

    /// A client of the API server at `url` without credentials (`http://127.0.0.1:8001`,
    /// what `kubectl proxy` serves; the tests' stand-in).
    pub fn at(url: &str) -> Result<KubeApi, ApiError> {
        let uri = url
            .parse()
            .map_err(|e| ApiError(format!("{url}: not a URL: {e}")))?;
        KubeApi::new(kube::Config::new(uri))
    }

    /// A client configured the way kubectl is (KUBECONFIG, ~/.kube/config, in-cluster).
    pub async fn from_env() -> Result<KubeApi, ApiError> {
        let config = kube::Config::infer().await.map_err(|e| {
            ApiError(format!(
                "no Kubernetes configuration: {} (set KUBECONFIG or run inside a cluster)",
                one_line(&e)
            ))
        })?;
        KubeApi::new(config)
    }

    /// A new client of the same server, for another tokio runtime (kube's connections
    /// belong to the runtime that made them).
    pub fn reconnect(&self) -> Result<KubeApi, ApiError> {
        KubeApi::new(self.config.clone())
    }

    fn resource(kind: &str) -> Result<ApiResource, ApiError> {
        let (group, version) = API_VERSION.split_once('/').expect("group/version");
        let gvk = GroupVersionKind::gvk(group, version, kind);
        Ok(ApiResource::from_gvk_with_plural(&gvk, plural(kind)?))
    }

    fn chaos(&self, kind: &str, namespace: Option<&str>) -> Result<Api<DynamicObject>, ApiError> {
        let ar = Self::resource(kind)?;
        Ok(match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        })
    }

    /// The pods of `namespace` that the label `selector` picks, sorted by name.
    pub async fn pods(&self, namespace: &str, selector: &str) -> Result<Vec<PodInfo>, ApiError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| fail(&format!("listing pods {selector:?} in {namespace}"), e))?;
        let mut pods: Vec<PodInfo> = list
            .items
            .into_iter()
            .map(|p| {
                let status = p.status.unwrap_or_default();
                PodInfo {
                    name: p.metadata.name.unwrap_or_default(),
                    phase: status.phase.unwrap_or_default(),
                    ready: status
                        .conditions
                        .unwrap_or_default()
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.status == "True"),
                    terminating: p.metadata.deletion_timestamp.is_some(),
                    ip: status.pod_ip,
                    component: p
                        .metadata
                        .labels
                        .unwrap_or_default()
                        .remove("app.kubernetes.io/component"),
                }
            })
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(pods)
    }

    /// The ports of Service `name` in `namespace`, None when there is no such Service.
    pub async fn service_ports(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Vec<ServicePort>>, ApiError> {
        let api: Api<Service> = Api::namespaced(self.client.clone(), namespace);
        let svc = api
            .get_opt(name)
            .await
            .map_err(|e| fail(&format!("reading service {namespace}/{name}"), e))?;
        Ok(svc.map(|s| {
            s.spec
                .and_then(|s| s.ports)
                .unwrap_or_default()
                .into_iter()
                .map(|p| ServicePort {
                    name: p.name,
                    port: p.port as u16,
                })
                .collect()
        }))
    }

    /// GET `path` of a Service's port through the API server's service proxy
    /// (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH`): a Service's HTTP API from
    /// wherever the API server is reachable, with no port-forward.
    pub async fn service_get(
        &self,
        namespace: &str,
        service: &str,
        port: u16,
        path: &str,
    ) -> Result<String, ApiError> {
        let uri = format!(
            "/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/{}",
            path.trim_start_matches('/')
        );
        let req = http::Request::get(&uri)
            .body(Vec::new())
            .map_err(|e| ApiError(format!("{uri}: {e}")))?;
        self.client.request_text(req).await.map_err(|e| {
            fail(
                &format!("GET {path} of service {namespace}/{service}:{port}"),
                e,
            )
        })
    }
}

#[async_trait]
impl ChaosApi for KubeApi {
    async fn create(&self, object: &Value) -> Result<(), ApiError> {
        let (kind, name) = crate::objects::kind_and_name(object);
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        let obj: DynamicObject = serde_json::from_value(object.clone())
            .map_err(|e| ApiError(format!("{kind} {name}: not an object: {e}")))?;
        self.chaos(&kind, Some(ns))?
            .create(&PostParams::default(), &obj)
            .await
            .map_err(|e| fail(&format!("creating {kind} {ns}/{name}"), e))?;
        Ok(())
    }

    async fn get(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ApiError> {
        let obj = self
            .chaos(kind, Some(namespace))?
            .get_opt(name)
            .await
            .map_err(|e| fail(&format!("reading {kind} {namespace}/{name}"), e))?;
        obj.map(|o| serde_json::to_value(o).map_err(|e| ApiError(e.to_string())))
            .transpose()
    }

    async fn delete(&self, kind: &str, namespace: &str, name: &str) -> Result<(), ApiError> {
        match self
            .chaos(kind, Some(namespace))?
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(fail(&format!("deleting {kind} {namespace}/{name}"), e)),
        }
    }

    async fn list(
        &self,
        kind: &str,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Found>, ApiError> {
        let where_ = namespace.unwrap_or("every namespace");
        let list = match self
            .chaos(kind, namespace)?
            .list(&ListParams::default().labels(selector))
            .await
        {
            Ok(l) => l,
            // The CRD is not installed: there is nothing of this kind to find.
            Err(e) if is_not_found(&e) => return Ok(Vec::new()),
            Err(e) => return Err(fail(&format!("listing {kind} {selector:?} in {where_}"), e)),
        };
        Ok(list
            .items
            .into_iter()
            .map(|o| Found {
                kind: kind.to_string(),
                namespace: o.metadata.namespace.unwrap_or_default(),
                name: o.metadata.name.unwrap_or_default(),
            })
            .collect())
    }
}
