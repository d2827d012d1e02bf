//! `--db k8s://[USER[:PASSWORD]@]NAMESPACE?selector=LABELS&service=NAME[:PORT]`: a system
//! under test that already runs on Kubernetes. Its nodes are the pods the label selector
//! picks (listed through the API server when the run starts), its clients reach it through
//! a Service (`NAME.NAMESPACE.svc:PORT`, the port read from the Service when not given; or
//! `address=HOST:PORT`, e.g. a `kubectl port-forward` on a laptop), and its faults are Chaos
//! Mesh objects ([`ChaosMesh`]), labelled with the run's id, deleted at their heal, and
//! waited for until Chaos Mesh reports them injected / recovered.
//!
//! The URL's other parameters: `scheme` (what clients speak: `mysql`, the default, or
//! `http`), `database` (default `test`), `volume_path` (where the pods mount their data:
//! disk faults need it), `run_id` (the label value; default: generated and printed),
//! `timeout` (seconds to wait for Chaos Mesh, default 60). The API server is found the way
//! kubectl finds it (KUBECONFIG, ~/.kube/config, or the in-cluster service account).

use crate::chaos::{clean, ChaosMesh};
use crate::client::{KubeApi, PodInfo};
use crate::objects::{run_selector, Scope};
use crate::status::Waits;
use anyhow::Context;
use async_trait::async_trait;
use faultline_core::db::*;
use faultline_core::Endpoint;
use faultline_harness::{BadArgs, Plan, Recipe, Sut, SystemArgs};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `k8s://...` says, validated.
#[derive(Clone, Debug)]
pub struct K8sUrl {
    pub namespace: String,
    pub selector: String,
    /// A Service and maybe its port.
    pub service: Option<(String, Option<u16>)>,
    /// Where clients connect instead of the Service's cluster DNS name.
    pub address: Option<(String, u16)>,
    pub scheme: String,
    pub user: String,
    /// Never shown: test.json and logs get the masked URL.
    pub password: String,
    pub database: String,
    pub volume_path: Option<String>,
    pub run_id: Option<String>,
    pub timeout: Duration,
    /// The URL as typed (with its password).
    pub raw: String,
}

fn host_port(s: &str, what: &str) -> Result<(String, Option<u16>), BadArgs> {
    match s.rsplit_once(':') {
        Some((h, p)) => {
            let port = p
                .parse()
                .map_err(|_| BadArgs(format!("{what}={s}: {p:?} is not a port")))?;
            Ok((h.to_string(), Some(port)))
        }
        None => Ok((s.to_string(), None)),
    }
}

impl K8sUrl {
    pub fn parse(raw: &str) -> Result<K8sUrl, BadArgs> {
        let usage = "use k8s://NAMESPACE?selector=LABELS&service=NAME[:PORT] (see `faultline list systems`)";
        let url = url::Url::parse(raw).map_err(|e| {
            BadArgs(format!(
                "--db {}: {e}; {usage}",
                faultline_core::mask_url_passwords(raw)
            ))
        })?;
        let namespace = url.host_str().unwrap_or("").to_string();
        if namespace.is_empty() || crate::objects::dns_name(&namespace, 63) != namespace {
            return Err(BadArgs(format!(
                "--db k8s://{namespace}: the namespace must be a DNS label (lowercase letters, digits, -); {usage}"
            )));
        }
        let mut u = K8sUrl {
            namespace,
            selector: String::new(),
            service: None,
            address: None,
            scheme: "mysql".into(),
            user: percent(url.username()),
            password: percent(url.password().unwrap_or("")),
            database: "test".into(),
            volume_path: None,
            run_id: None,
            timeout: Duration::from_secs(60),
            raw: raw.to_string(),
        };
        for (k, v) in url.query_pairs() {
            let v = v.into_owned();
            match k.as_ref() {
                "selector" => u.selector = v,
                "service" => u.service = Some(host_port(&v, "service")?),
                "address" => match host_port(&v, "address")? {
                    (h, Some(p)) => u.address = Some((h, p)),
                    _ => return Err(BadArgs(format!("address={v}: give HOST:PORT"))),
                },
                "scheme" => u.scheme = v,
                "database" => u.database = v,
                "volume_path" => u.volume_path = Some(v),
                "run_id" => u.run_id = Some(v),
                "timeout" => {
                    let s: u64 = v
                        .parse()
                        .map_err(|_| BadArgs(format!("timeout={v}: give seconds")))?;
                    u.timeout = Duration::from_secs(s.max(1));
                }
                other => {
                    return Err(BadArgs(format!(
                        "k8s:// has no parameter {other:?}: use selector, service, address, scheme, database, volume_path, run_id, timeout"
                    )))
                }
            }
        }
        if u.selector.is_empty() {
            return Err(BadArgs(format!(
                "--db k8s://{}: give the pods under test as selector=LABELS (e.g. selector=app%3Dtidb); {usage}",
                u.namespace
            )));
        }
        if u.service.is_none() && u.address.is_none() {
            return Err(BadArgs(format!(
                "--db k8s://{}: say how clients reach the system: service=NAME[:PORT] or address=HOST:PORT",
                u.namespace
            )));
        }
        Ok(u)
    }

    /// The URL with its password masked (test.json, logs).
    pub fn masked(&self) -> String {
        faultline_core::mask_url_passwords(&self.raw)
    }

    pub fn waits(&self) -> Waits {
        Waits {
            injected: self.timeout,
            recovered: self.timeout * 2,
            ..Waits::default()
        }
    }
}

fn percent(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A run id for the objects' label when the URL gives none: the time and a random tail.
pub fn fresh_run_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("r{secs}-{:04x}", rand::random::<u16>())
}

pub struct K8sRecipe;

impl Recipe for K8sRecipe {
    fn name(&self) -> &'static str {
        "k8s://"
    }
    fn about(&self) -> &'static str {
        "pods on Kubernetes: k8s://[user:pass@]NAMESPACE?selector=LABELS&service=NAME[:PORT][&address=HOST:PORT&volume_path=P&run_id=ID] (faults: Chaos Mesh)"
    }
    fn accepts(&self, db: &str) -> bool {
        db.starts_with("k8s://")
    }
    fn plan(&self, args: &SystemArgs, _m: &clap::ArgMatches) -> Result<Box<dyn Plan>, BadArgs> {
        Ok(Box::new(K8sPlan {
            url: K8sUrl::parse(&args.db)?,
            nodes: args.nodes,
        }))
    }
}

pub struct K8sPlan {
    pub url: K8sUrl,
    pub nodes: usize,
}

/// The pods `selector` picks now, without those being deleted; an error when there are none.
pub async fn pods_under_test(api: &KubeApi, url: &K8sUrl) -> anyhow::Result<Vec<PodInfo>> {
    let pods: Vec<PodInfo> = api
        .pods(&url.namespace, &url.selector)
        .await?
        .into_iter()
        .filter(|p| !p.terminating)
        .collect();
    if pods.is_empty() {
        anyhow::bail!(
            "the selector {:?} picks no pods in namespace {}: check `kubectl -n {} get pods -l '{}'`",
            url.selector,
            url.namespace,
            url.namespace,
            url.selector
        );
    }
    Ok(pods)
}

/// Where clients connect: the address given, or the Service's cluster DNS name and port.
pub async fn client_address(api: &KubeApi, url: &K8sUrl) -> anyhow::Result<(String, u16)> {
    if let Some(a) = &url.address {
        return Ok(a.clone());
    }
    let (name, port) = url
        .service
        .clone()
        .expect("parse requires service or address");
    let ports = api
        .service_ports(&url.namespace, &name)
        .await?
        .with_context(|| {
            format!(
                "no Service {name} in namespace {}: check `kubectl -n {} get svc`",
                url.namespace, url.namespace
            )
        })?;
    let port = match port {
        Some(p) if ports.iter().any(|sp| sp.port == p) => p,
        Some(p) => anyhow::bail!(
            "Service {name} has no port {p} (it has {:?})",
            ports.iter().map(|p| p.port).collect::<Vec<_>>()
        ),
        None => ports
            .first()
            .map(|p| p.port)
            .with_context(|| format!("Service {name} has no ports: give service={name}:PORT"))?,
    };
    Ok((format!("{name}.{}.svc", url.namespace), port))
}

#[async_trait]
impl Plan for K8sPlan {
    fn nodes(&self) -> usize {
        self.nodes
    }
    fn options(&self) -> Value {
        json!({ "url": self.url.masked() })
    }
    async fn start(&self, _needs: &BTreeSet<Capability>) -> anyhow::Result<Sut> {
        let api = Arc::new(KubeApi::from_env().await?);
        let db = K8sDb::connect(api, &self.url, None).await?;
        let endpoints = db.endpoints.clone();
        Ok(Sut::new(Arc::new(db), endpoints))
    }
}

/// The system under test on Kubernetes: the pods the selector picked, faults through
/// Chaos Mesh, readiness from the pods' Ready condition. A drop that did not follow a
/// teardown (a panic) deletes every object with the run's label before it returns.
pub struct K8sDb {
    chaos: ChaosMesh,
    api: Arc<KubeApi>,
    url: K8sUrl,
    pub endpoints: Vec<Endpoint>,
    leader: Option<Box<dyn Leader>>,
    torn_down: AtomicBool,
}

impl K8sDb {
    /// Lists the pods, finds the clients' address, cleans leftovers of a run with the same
    /// id, and labels every object with the run id.
    pub async fn connect(
        api: Arc<KubeApi>,
        url: &K8sUrl,
        leader: Option<Box<dyn Leader>>,
    ) -> anyhow::Result<K8sDb> {
        let pods = pods_under_test(&api, url).await?;
        let (host, port) = client_address(&api, url).await?;
        let run_id = url.run_id.clone().unwrap_or_else(fresh_run_id);
        let scope = Scope::new(&url.namespace, &run_id);
        let waits = url.waits();
        let leftovers = clean(
            api.as_ref(),
            Some(&scope.namespace),
            &run_selector(&scope.run_id),
            Some(&waits),
        )
        .await?;
        if !leftovers.is_empty() {
            tracing::warn!(
                "k8s: removed {} object(s) an earlier run {} left behind",
                leftovers.len(),
                scope.run_id
            );
        }
        tracing::info!(
            "k8s: {} pod(s) in {}; Chaos Mesh objects carry faultline.io/run={} (after a crash: faultline k8s clean --namespace {} --run-id {})",
            pods.len(), scope.namespace, scope.run_id, scope.namespace, scope.run_id
        );
        let names: Vec<String> = pods.iter().map(|p| p.name.clone()).collect();
        let endpoints = names
            .iter()
            .map(|n| Endpoint {
                node: n.clone(),
                scheme: url.scheme.clone(),
                host: host.clone(),
                port,
                user: url.user.clone(),
                password: url.password.clone(),
                database: url.database.clone(),
            })
            .collect();
        let chaos =
            ChaosMesh::new(scope, names, api.clone(), url.volume_path.clone()).with_waits(waits);
        Ok(K8sDb {
            chaos,
            api,
            url: url.clone(),
            endpoints,
            leader,
            torn_down: AtomicBool::new(false),
        })
    }

    pub fn chaos(&self) -> &ChaosMesh {
        &self.chaos
    }
}

#[async_trait]
impl Db for K8sDb {
    fn name(&self) -> &str {
        "k8s"
    }
    fn nodes(&self) -> Vec<NodeId> {
        self.chaos.nodes()
    }
    async fn heal_all(&self) -> DbResult<()> {
        self.chaos.heal_all().await
    }
    /// Every pod under test is back (a killed one restarted by its controller) and Ready.
    async fn wait_ready(&self, timeout: Duration) -> DbResult<()> {
        let start = Instant::now();
        let want = self.nodes();
        loop {
            let pods = self
                .api
                .pods(&self.url.namespace, &self.url.selector)
                .await
                .map_err(|e| DbError::new(e.to_string()))?;
            let not_ready: Vec<&String> = want
                .iter()
                .filter(|n| {
                    !pods
                        .iter()
                        .any(|p| &p.name == *n && p.ready && !p.terminating && p.phase == "Running")
                })
                .collect();
            if not_ready.is_empty() {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(DbError::new(format!(
                    "pods not Ready after {timeout:?}: {}",
                    not_ready
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    async fn teardown(&self) -> DbResult<()> {
        let healed = self.chaos.heal_all().await;
        // Whatever the live list missed (a create whose answer was lost) goes too.
        let s = self.chaos.scope();
        let swept = clean(
            self.api.as_ref(),
            Some(&s.namespace),
            &run_selector(&s.run_id),
            Some(&self.url.waits()),
        )
        .await
        .map_err(|e| DbError::new(e.to_string()));
        self.torn_down.store(true, Ordering::SeqCst);
        healed.and(swept.map(|_| ()))
    }
    fn facts(&self) -> Value {
        let mut f = self.chaos.facts();
        f["db"] = json!("k8s");
        f["url"] = json!(self.url.masked());
        f["selector"] = json!(self.url.selector);
        f
    }
    fn as_kill(&self) -> Option<&dyn Kill> {
        self.chaos.as_kill()
    }
    fn as_partition(&self) -> Option<&dyn Partition> {
        self.chaos.as_partition()
    }
    fn as_clock(&self) -> Option<&dyn Clock> {
        self.chaos.as_clock()
    }
    fn as_net_quality(&self) -> Option<&dyn NetQuality> {
        self.chaos.as_net_quality()
    }
    fn as_disk(&self) -> Option<&dyn Disk> {
        self.chaos.as_disk()
    }
    fn as_stress(&self) -> Option<&dyn Stress> {
        self.chaos.as_stress()
    }
    fn as_leader(&self) -> Option<&dyn Leader> {
        self.leader.as_deref()
    }
    fn lacks(&self, capability: Capability) -> Option<String> {
        self.chaos.lacks(capability)
    }
    async fn status(&self) -> Value {
        match self.api.pods(&self.url.namespace, &self.url.selector).await {
            Ok(pods) => {
                json!({ "pods": pods.iter().map(|p| json!({ "name": p.name, "phase": p.phase, "ready": p.ready })).collect::<Vec<_>>() })
            }
            Err(e) => json!({ "error": e.to_string() }),
        }
    }
}

impl Drop for K8sDb {
    /// After a panic (no teardown), deletes the run's objects on a runtime of its own, in a
    /// thread of its own (the caller's runtime may be the one unwinding).
    fn drop(&mut self) {
        if self.torn_down.load(Ordering::SeqCst) {
            return;
        }
        let api = self.api.clone();
        let s = self.chaos.scope().clone();
        let waits = self.url.waits();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            // A client of this runtime's own: kube's connection pool belongs to the runtime
            // that made it.
            rt.block_on(async {
                let fresh = api.reconnect()?;
                clean(&fresh, Some(&s.namespace), &run_selector(&s.run_id), Some(&waits)).await
            })
            .map_err(|e| eprintln!("k8s: cleaning the run's Chaos Mesh objects: {e}; run `faultline k8s clean --namespace {} --run-id {}`", s.namespace, s.run_id))
            .ok()
        });
        let _ = done.join();
    }
}
