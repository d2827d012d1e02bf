//! Chaos Mesh objects (chaos-mesh.org/v1alpha1) as JSON: one per fault on one pod, each
//! labelled with the run it belongs to, so a run's heal (or `kubectl delete -l`, or a
//! clean-up after a crash) finds every object it created.
//!
//! A node of faultline is a pod; each object selects its pods by name (`selector.pods`,
//! `mode: all`), so the objects do exactly what the schedule chose, on the pods it chose.
//! Objects carry no `duration`: they last until faultline deletes them at the fault's heal.

use faultline_core::db::{DiskFault, StressLoad};
use serde_json::{json, Value};
use std::time::Duration;

pub const API_VERSION: &str = "chaos-mesh.org/v1alpha1";
/// Label carrying the run's id on every object.
pub const RUN_LABEL: &str = "faultline.io/run";
/// Label carrying the pod (faultline's node) an object is about.
pub const NODE_LABEL: &str = "faultline.io/node";
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "faultline");
/// Every kind faultline creates.
pub const KINDS: [&str; 5] = [
    "PodChaos",
    "NetworkChaos",
    "TimeChaos",
    "IOChaos",
    "StressChaos",
];

/// Where a run's objects go and what marks them as the run's.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The namespace of the pods under test (the objects live there too).
    pub namespace: String,
    /// The run's id: lowercase letters, digits and `-` (see [`Scope::new`]).
    pub run_id: String,
}

impl Scope {
    /// A scope; the run id is made a valid label value and name part (lowercase, `-`).
    pub fn new(namespace: &str, run_id: &str) -> Scope {
        let mut id = dns_name(run_id, 40);
        if id.is_empty() {
            id = "run".into();
        }
        Scope {
            namespace: namespace.to_string(),
            run_id: id,
        }
    }

    fn object(&self, kind: &str, seq: u64, node: &str, spec: Value) -> Value {
        let short = match kind {
            "PodChaos" => "pod",
            "NetworkChaos" => "net",
            "TimeChaos" => "time",
            "IOChaos" => "io",
            _ => "stress",
        };
        json!({
            "apiVersion": API_VERSION,
            "kind": kind,
            "metadata": {
                "name": format!("fl-{}-{short}-{seq}", self.run_id),
                "namespace": self.namespace,
                "labels": {
                    MANAGED_BY.0: MANAGED_BY.1,
                    RUN_LABEL: self.run_id,
                    NODE_LABEL: node,
                },
            },
            "spec": spec,
        })
    }

    /// A selector of exactly these pods.
    fn pods(&self, pods: &[String]) -> Value {
        json!({ "namespaces": [self.namespace], "pods": { self.namespace.clone(): pods } })
    }

    /// kill: the pod is deleted (grace 0: a crash; its controller starts it again, with
    /// its volume). `grace_s` > 0 is a clean shutdown.
    pub fn pod_kill(&self, seq: u64, pod: &str, grace_s: i64) -> Value {
        let spec = json!({
            "action": "pod-kill",
            "mode": "all",
            "selector": self.pods(&[pod.to_string()]),
            "gracePeriod": grace_s,
        });
        self.object("PodChaos", seq, pod, spec)
    }

    /// `pod` drops every packet from `from` (one row of a grudge).
    pub fn partition(&self, seq: u64, pod: &str, from: &[String]) -> Value {
        let spec = json!({
            "action": "partition",
            "mode": "all",
            "selector": self.pods(&[pod.to_string()]),
            "direction": "from",
            "target": { "mode": "all", "selector": self.pods(from) },
        });
        self.object("NetworkChaos", seq, pod, spec)
    }

    fn link(&self, seq: u64, pod: &str, peers: &[String], action: &str, body: Value) -> Value {
        let mut spec = json!({
            "action": action,
            "mode": "all",
            "selector": self.pods(&[pod.to_string()]),
            "direction": "both",
            "target": { "mode": "all", "selector": self.pods(peers) },
        });
        spec[action] = body;
        self.object("NetworkChaos", seq, pod, spec)
    }

    /// `percent` of the packets between `pod` and its peers are lost.
    pub fn loss(&self, seq: u64, pod: &str, peers: &[String], percent: f64) -> Value {
        let body = json!({ "loss": format!("{percent}"), "correlation": "0" });
        self.link(seq, pod, peers, "loss", body)
    }

    /// The link between `pod` and its peers is capped at `kbit` kbit/s.
    pub fn bandwidth(&self, seq: u64, pod: &str, peers: &[String], kbit: u32) -> Value {
        let body = json!({ "rate": format!("{kbit}kbit"), "limit": 20_000, "buffer": 10_000 });
        self.link(seq, pod, peers, "bandwidth", body)
    }

    /// Packets between `pod` and its peers wait `delay` (± `jitter`).
    pub fn delay(
        &self,
        seq: u64,
        pod: &str,
        peers: &[String],
        delay: Duration,
        jitter: Duration,
    ) -> Value {
        let body = json!({
            "latency": format!("{}ms", delay.as_millis()),
            "jitter": format!("{}ms", jitter.as_millis()),
            "correlation": "0",
        });
        self.link(seq, pod, peers, "delay", body)
    }

    /// The pod's wall clock runs `offset_ms` ahead (negative: behind).
    pub fn time_offset(&self, seq: u64, pod: &str, offset_ms: i64) -> Value {
        let spec = json!({
            "mode": "all",
            "selector": self.pods(&[pod.to_string()]),
            "timeOffset": format!("{offset_ms}ms"),
            "clockIds": ["CLOCK_REALTIME"],
        });
        self.object("TimeChaos", seq, pod, spec)
    }

    /// A disk fault on the volume mounted at `volume_path` in the pod; None for
    /// `DiskFault::None`. Hang is a latency of an hour; full is ENOSPC on every write.
    pub fn io(&self, seq: u64, pod: &str, volume_path: &str, fault: DiskFault) -> Option<Value> {
        let mut spec = json!({
            "mode": "all",
            "selector": self.pods(&[pod.to_string()]),
            "volumePath": volume_path,
            "path": format!("{}/**/*", volume_path.trim_end_matches('/')),
            "percent": 100,
        });
        match fault {
            DiskFault::None => return None,
            DiskFault::Delay { ms } => {
                spec["action"] = json!("latency");
                spec["delay"] = json!(format!("{ms}ms"));
            }
            DiskFault::Hang => {
                spec["action"] = json!("latency");
                spec["delay"] = json!("3600s");
            }
            DiskFault::Error { percent } => {
                spec["action"] = json!("fault");
                spec["errno"] = json!(5);
                spec["percent"] = json!(percent.clamp(1, 100));
            }
            DiskFault::Full => {
                spec["action"] = json!("fault");
                spec["errno"] = json!(28);
                spec["methods"] = json!(["write", "create", "mknod", "mkdir"]);
            }
        }
        Some(self.object("IOChaos", seq, pod, spec))
    }

    /// CPU or memory pressure inside the pod (stress-ng, run by Chaos Mesh's daemon in the
    /// pod's cgroup).
    pub fn stress(&self, seq: u64, pod: &str, load: StressLoad) -> Value {
        let stressors = match load {
            StressLoad::Cpu { workers, load } => {
                json!({ "cpu": { "workers": workers, "load": load.min(100) } })
            }
            StressLoad::Memory { mb } => {
                json!({ "memory": { "workers": 1, "size": format!("{mb}MiB") } })
            }
        };
        let spec = json!({
            "mode": "all",
            "selector": self.pods(&[pod.to_string()]),
            "stressors": stressors,
        });
        self.object("StressChaos", seq, pod, spec)
    }
}

/// `s` as a Kubernetes name or label value: lowercase letters, digits and `-`, no `-` at
/// either end, at most `max` characters.
pub fn dns_name(s: &str, max: usize) -> String {
    let n: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let n: String = n.trim_matches('-').chars().take(max).collect();
    n.trim_end_matches('-').to_string()
}

/// (kind, name) of an object made here.
pub fn kind_and_name(object: &Value) -> (String, String) {
    (
        object["kind"].as_str().unwrap_or_default().to_string(),
        object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// The resource (URL path segment) of a Chaos Mesh kind, as its CRD names it.
pub fn plural(kind: &str) -> Result<&'static str, crate::ApiError> {
    Ok(match kind {
        "PodChaos" => "podchaos",
        "NetworkChaos" => "networkchaos",
        "TimeChaos" => "timechaos",
        "IOChaos" => "iochaos",
        "StressChaos" => "stresschaos",
        other => {
            return Err(crate::ApiError(format!(
                "{other} is not a Chaos Mesh kind faultline makes ({})",
                KINDS.join(", ")
            )))
        }
    })
}

/// The label selector of one run's objects.
pub fn run_selector(run_id: &str) -> String {
    format!(
        "{MANAGED_BY_KEY}={MANAGED_BY_VALUE},{RUN_LABEL}={run_id}",
        MANAGED_BY_KEY = MANAGED_BY.0,
        MANAGED_BY_VALUE = MANAGED_BY.1
    )
}

/// The label selector of every object faultline made.
pub fn managed_selector() -> String {
    format!("{}={}", MANAGED_BY.0, MANAGED_BY.1)
}
