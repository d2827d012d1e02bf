//! [`StandIn`]: a Kubernetes API server stand-in on loopback, for tests where no cluster
//! can run (there is none here). It serves the few routes faultline uses, over real HTTP,
//! to the real kube client: Chaos Mesh objects (create, get, delete, list by label
//! selector, in a namespace or all), pods by label selector, services by name, and PD's
//! `/pd/api/v1/leader` through the service proxy. It records every request (method, path, query, body) and plays
//! Chaos Mesh's controller the simple way: an object is injected after `inject_after` reads
//! of it, and a deleted one is held by its finalizer (recovering) for `linger` reads, then
//! gone. [`StandIn::stall`] stops the "controller", so nothing is ever injected or recovered.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request the stand-in received.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Query parameters, decoded.
    pub query: BTreeMap<String, String>,
    pub body: Option<Value>,
}

impl Seen {
    /// `METHOD PATH[?labelSelector=...]`: what a test asserts.
    pub fn line(&self) -> String {
        match self.query.get("labelSelector") {
            Some(s) => format!("{} {}?labelSelector={s}", self.method, self.path),
            None => format!("{} {}", self.method, self.path),
        }
    }
}

#[derive(Default)]
struct State {
    /// (resource, namespace, name) -> object.
    objects: BTreeMap<(String, String, String), Value>,
    /// Reads each object has had since it was created / deleted.
    reads: BTreeMap<(String, String, String), u32>,
    pods: Vec<Value>,
    services: Vec<Value>,
    pd_leader: Option<String>,
    inject_after: u32,
    linger: u32,
    stalled: bool,
    seen: Vec<Seen>,
    version: u64,
}

pub struct StandIn {
    server: Arc<tiny_http::Server>,
    state: Arc<Mutex<State>>,
    thread: Option<JoinHandle<()>>,
    addr: std::net::SocketAddr,
}

/// Whether `labels` match a label selector (`a=b,c!=d,e,!f`).
pub fn selector_matches(selector: &str, labels: &Value) -> bool {
    selector.split(',').filter(|t| !t.is_empty()).all(|term| {
        let term = term.trim();
        if let Some((k, v)) = term.split_once("!=") {
            labels[k.trim()].as_str() != Some(v.trim())
        } else if let Some((k, v)) = term.split_once('=') {
            let v = v.trim_start_matches('=');
            labels[k.trim()].as_str() == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            labels.get(k).is_none()
        } else {
            labels.get(term).is_some()
        }
    })
}

fn not_found(what: &str) -> (u16, Value) {
    (
        404,
        json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("{what} not found"), "reason": "NotFound", "code": 404 }),
    )
}

fn records(object: &Value, phase: &str) -> Value {
    let ns = object["metadata"]["namespace"].as_str().unwrap_or("");
    let pods = object["spec"]["selector"]["pods"][ns]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let injected = u32::from(phase == "Injected");
    Value::Array(
        pods.iter()
            .map(|p| {
                json!({ "id": format!("{ns}/{}", p.as_str().unwrap_or("")), "phase": phase,
                        "injectedCount": injected, "recoveredCount": 0, "selectorKey": "." })
            })
            .collect(),
    )
}

impl State {
    /// One read of an object: the controller's progress shows in its status.
    fn read(&mut self, key: &(String, String, String)) -> Option<Value> {
        let n = {
            let r = self.reads.entry(key.clone()).or_default();
            *r += 1;
            *r
        };
        let stalled = self.stalled;
        let (inject_after, linger) = (self.inject_after, self.linger);
        let object = self.objects.get_mut(key)?;
        let deleting = object["metadata"].get("deletionTimestamp").is_some();
        if deleting && !stalled && n > linger {
            self.objects.remove(key);
            return None;
        }
        if !deleting && !stalled && n >= inject_after {
            object["status"]["conditions"] = json!([
                { "type": "Selected", "status": "True" }, { "type": "AllInjected", "status": "True" },
                { "type": "AllRecovered", "status": "False" }, { "type": "Paused", "status": "False" }]);
            object["status"]["experiment"]["containerRecords"] = records(object, "Injected");
        }
        Some(object.clone())
    }

    fn chaos(
        &mut self,
        method: &str,
        parts: &[&str],
        query: &BTreeMap<String, String>,
        body: Option<Value>,
    ) -> (u16, Value) {
        // [ns, plural, name?] or [plural]
        let (ns, resource, name) = match parts {
            ["namespaces", ns, r] => (Some(*ns), *r, None),
            ["namespaces", ns, r, name] => (Some(*ns), *r, Some(*name)),
            [r] => (None, *r, None),
            _ => return not_found("route"),
        };
        let kind_of = |r: &str| {
            crate::objects::KINDS
                .iter()
                .find(|k| crate::objects::plural(k).ok() == Some(r))
                .copied()
        };
        let Some(kind) = kind_of(resource) else {
            return not_found(resource);
        };
        match (method, ns, name) {
            ("POST", Some(ns), None) => {
                let mut o = body.unwrap_or_default();
                let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
                let key = (resource.to_string(), ns.to_string(), name.clone());
                if self.objects.contains_key(&key) {
                    return (
                        409,
                        json!({ "kind": "Status", "status": "Failure", "reason": "AlreadyExists",
                        "message": format!("{resource} {name:?} already exists"), "code": 409 }),
                    );
                }
                self.version += 1;
                o["metadata"]["uid"] = json!(format!("uid-{}", self.version));
                o["metadata"]["resourceVersion"] = json!(self.version.to_string());
                o["metadata"]["finalizers"] = json!(["chaos-mesh/records"]);
                o["status"] = json!({ "conditions": [{ "type": "Selected", "status": "True" },
                    { "type": "AllInjected", "status": "False" }],
                    "experiment": { "desiredPhase": "Run", "containerRecords": records(&o, "Not Injected") } });
                self.reads.remove(&key);
                self.objects.insert(key, o.clone());
                (201, o)
            }
            ("GET", Some(ns), Some(name)) => {
                let key = (resource.to_string(), ns.to_string(), name.to_string());
                match self.read(&key) {
                    Some(o) => (200, o),
                    None => not_found(&format!("{resource}.chaos-mesh.org {name:?}")),
                }
            }
            ("DELETE", Some(ns), Some(name)) => {
                let key = (resource.to_string(), ns.to_string(), name.to_string());
                let Some(o) = self.objects.get_mut(&key) else {
                    return not_found(&format!("{resource}.chaos-mesh.org {name:?}"));
                };
                if o["metadata"].get("deletionTimestamp").is_none() {
                    o["metadata"]["deletionTimestamp"] = json!("2026-12-02T00:00:00Z");
                    o["status"]["experiment"]["desiredPhase"] = json!("Stop");
                    // Recovering: held by the finalizer until the controller is done.
                    let mut conditions: Vec<Value> = o["status"]["conditions"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    conditions.retain(|c| c["type"] != "AllRecovered");
                    conditions.push(json!({ "type": "AllRecovered", "status": "False" }));
                    o["status"]["conditions"] = Value::Array(conditions);
                    self.reads.insert(key.clone(), 0);
                }
                (200, o.clone())
            }
            ("GET", ns, None) => {
                let selector = query.get("labelSelector").cloned().unwrap_or_default();
                let items: Vec<Value> = self
                    .objects
                    .iter()
                    .filter(|((r, n, _), o)| {
                        r == resource
                            && ns.is_none_or(|ns| ns == n)
                            && selector_matches(&selector, &o["metadata"]["labels"])
                    })
                    .map(|(_, o)| o.clone())
                    .collect();
                (
                    200,
                    json!({ "apiVersion": crate::objects::API_VERSION, "kind": format!("{kind}List"),
                              "metadata": { "resourceVersion": self.version.to_string() }, "items": items }),
                )
            }
            _ => (
                405,
                json!({ "kind": "Status", "status": "Failure", "reason": "MethodNotAllowed", "code": 405, "message": method }),
            ),
        }
    }

    fn core(&mut self, parts: &[&str], query: &BTreeMap<String, String>) -> (u16, Value) {
        match parts {
            ["namespaces", ns, "pods"] => {
                let selector = query.get("labelSelector").cloned().unwrap_or_default();
                let items: Vec<Value> = self
                    .pods
                    .iter()
                    .filter(|p| {
                        p["metadata"]["namespace"] == *ns
                            && selector_matches(&selector, &p["metadata"]["labels"])
                    })
                    .cloned()
                    .collect();
                (
                    200,
                    json!({ "apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items }),
                )
            }
            ["namespaces", _, "services", _, "proxy", "pd", "api", "v1", "leader"] => {
                match &self.pd_leader {
                    Some(l) => (200, json!({ "name": l, "member_id": 1 })),
                    None => (
                        503,
                        json!({ "kind": "Status", "status": "Failure", "reason": "ServiceUnavailable",
                                      "message": "no endpoints available for service", "code": 503 }),
                    ),
                }
            }
            ["namespaces", ns, "services", name] => self
                .services
                .iter()
                .find(|s| s["metadata"]["namespace"] == *ns && s["metadata"]["name"] == *name)
                .map(|s| (200, s.clone()))
                .unwrap_or_else(|| not_found(&format!("services {name:?}"))),
            _ => not_found("route"),
        }
    }

    fn handle(
        &mut self,
        method: &str,
        path: &str,
        query: &BTreeMap<String, String>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["apis", "chaos-mesh.org", "v1alpha1", rest @ ..] => {
                self.chaos(method, rest, query, body)
            }
            ["api", "v1", rest @ ..] if method == "GET" => self.core(rest, query),
            _ => not_found("route"),
        }
    }
}

impl StandIn {
    /// Starts the stand-in on 127.0.0.1 (an ephemeral port).
    pub fn start() -> StandIn {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind loopback"));
        let addr = server.server_addr().to_ip().expect("an IP address");
        let state = Arc::new(Mutex::new(State {
            inject_after: 1,
            linger: 1,
            ..State::default()
        }));
        let (s, st) = (server.clone(), state.clone());
        let thread = std::thread::spawn(move || {
            for mut req in s.incoming_requests() {
                let mut text = String::new();
                let _ = req.as_reader().read_to_string(&mut text);
                let body = serde_json::from_str::<Value>(&text).ok();
                let (path, q) = req.url().split_once('?').unwrap_or((req.url(), ""));
                let query: BTreeMap<String, String> = url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let method = req.method().as_str().to_uppercase();
                let (code, reply) = {
                    let mut st = st.lock().unwrap();
                    st.seen.push(Seen {
                        method: method.clone(),
                        path: path.to_string(),
                        query: query.clone(),
                        body: body.clone(),
                    });
                    st.handle(&method, path, &query, body)
                };
                let header =
                    tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
                let resp = tiny_http::Response::from_string(reply.to_string())
                    .with_status_code(code)
                    .with_header(header);
                let _ = req.respond(resp);
            }
        });
        StandIn {
            server,
            state,
            thread: Some(thread),
            addr,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Every request so far, in order; `take` also forgets them.
    pub fn requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn take_requests(&self) -> Vec<Seen> {
        std::mem::take(&mut self.state.lock().unwrap().seen)
    }

    /// The Chaos Mesh objects the server holds now (deleted ones still recovering included).
    pub fn objects(&self) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .objects
            .values()
            .cloned()
            .collect()
    }

    /// Adds a pod (Running, and Ready when `ready`).
    pub fn add_pod(&self, namespace: &str, name: &str, labels: Value, ready: bool) {
        let status = if ready { "True" } else { "False" };
        self.state.lock().unwrap().pods.push(json!({
            "metadata": { "name": name, "namespace": namespace, "labels": labels },
            "status": { "phase": "Running", "podIP": "10.0.0.1",
                        "conditions": [{ "type": "Ready", "status": status }] },
        }));
    }

    /// Adds a Service with these (name, port) pairs.
    pub fn add_service(&self, namespace: &str, name: &str, ports: &[(&str, u16)]) {
        let ports: Vec<Value> = ports
            .iter()
            .map(|(n, p)| json!({ "name": n, "port": p }))
            .collect();
        self.state.lock().unwrap().services.push(json!({
            "metadata": { "name": name, "namespace": namespace }, "spec": { "ports": ports },
        }));
    }

    /// Stores an object as if an earlier run had created it (e.g. before a crash).
    pub fn put_object(&self, object: Value) {
        let (kind, name) = crate::objects::kind_and_name(&object);
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let resource = crate::objects::plural(&kind)
            .expect("a Chaos Mesh kind")
            .to_string();
        self.state
            .lock()
            .unwrap()
            .objects
            .insert((resource, ns, name), object);
    }

    /// What PD answers to `/pd/api/v1/leader` (None: an error).
    pub fn set_pd_leader(&self, name: Option<&str>) {
        self.state.lock().unwrap().pd_leader = name.map(String::from);
    }

    /// Reads of an object before it reports injected (default 1: the first read).
    pub fn set_inject_after(&self, reads: u32) {
        self.state.lock().unwrap().inject_after = reads;
    }

    /// Reads a deleted object survives, recovering, before it is gone (default 1).
    pub fn set_linger(&self, reads: u32) {
        self.state.lock().unwrap().linger = reads;
    }

    /// Stops (or restarts) the "controller": nothing is injected or recovered meanwhile.
    pub fn stall(&self, stalled: bool) {
        self.state.lock().unwrap().stalled = stalled;
    }

    /// Writes a kubeconfig pointing at the stand-in into `dir`; returns its path.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: standin\n  cluster:\n    server: {}\n\
             users:\n- name: tester\n  user: {{}}\ncontexts:\n- name: standin\n  context:\n    cluster: standin\n    user: tester\n\
             current-context: standin\n",
            self.url()
        );
        std::fs::write(&path, text).expect("write the kubeconfig");
        path
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::selector_matches;
    use serde_json::json;

    #[test]
    fn selectors_match_like_the_api_server() {
        let l = json!({ "app": "tidb", "tier": "db" });
        assert!(selector_matches("app=tidb", &l));
        assert!(selector_matches("app==tidb,tier", &l));
        assert!(!selector_matches("app=tidb,tier!=db", &l));
        assert!(selector_matches("!owner", &l));
        assert!(!selector_matches("owner", &l));
        assert!(selector_matches("", &l));
    }
}
