//! What Chaos Mesh reports of an object (its CRDs' `status`: `conditions` such as
//! `AllInjected` / `AllRecovered`, and `experiment.containerRecords`, one per pod with its
//! `phase` and events), and the waits built on it: a fault has started when Chaos Mesh says
//! every pod is injected, and has healed when the deleted object is gone (Chaos Mesh's
//! finalizer holds it until every injection is recovered) or reports `AllRecovered`.

use crate::api::{ApiError, ChaosApi};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long to wait for Chaos Mesh, and how often to ask.
#[derive(Clone, Copy, Debug)]
pub struct Waits {
    pub injected: Duration,
    pub recovered: Duration,
    pub poll: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Waits {
            injected: Duration::from_secs(60),
            recovered: Duration::from_secs(120),
            poll: Duration::from_millis(500),
        }
    }
}

/// The status of condition `kind` (`AllInjected`, `AllRecovered`, `Selected`, `Paused`).
pub fn condition(object: &Value, kind: &str) -> Option<bool> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .map(|c| c["status"] == "True")
}

fn records(object: &Value) -> &[Value] {
    object["status"]["experiment"]["containerRecords"]
        .as_array()
        .map_or(&[], Vec::as_slice)
}

/// Chaos Mesh says every selected pod is injected.
pub fn injected(object: &Value) -> bool {
    match condition(object, "AllInjected") {
        Some(all) => all,
        None => {
            let r = records(object);
            !r.is_empty() && r.iter().all(|r| r["phase"] == "Injected")
        }
    }
}

/// Chaos Mesh says every injection is recovered.
pub fn recovered(object: &Value) -> bool {
    match condition(object, "AllRecovered") {
        Some(all) => all,
        None => {
            let r = records(object);
            !r.is_empty() && r.iter().all(|r| r["phase"] == "Not Injected")
        }
    }
}

/// One line of what the status says: its conditions, then each record's phase and last
/// event message (Chaos Mesh's reason for a failed injection).
pub fn summary(object: &Value) -> String {
    let mut parts: Vec<String> = object["status"]["conditions"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|c| {
            format!(
                "{}={}",
                c["type"].as_str().unwrap_or("?"),
                c["status"].as_str().unwrap_or("?")
            )
        })
        .collect();
    for r in records(object) {
        let last = r["events"]
            .as_array()
            .and_then(|e| e.last())
            .and_then(|e| e["message"].as_str())
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        parts.push(format!(
            "{}: {}{last}",
            r["id"].as_str().unwrap_or("?"),
            r["phase"].as_str().unwrap_or("?")
        ));
    }
    if parts.is_empty() {
        "no status yet".into()
    } else {
        parts.join("; ")
    }
}

fn hint(kind: &str, namespace: &str, name: &str) -> String {
    format!(
        "is Chaos Mesh's controller running? see `kubectl -n {namespace} get {} {name} -o yaml`",
        kind.to_lowercase()
    )
}

/// Waits until Chaos Mesh reports the object injected on every pod it selects.
pub async fn wait_injected(
    api: &dyn ChaosApi,
    kind: &str,
    namespace: &str,
    name: &str,
    waits: &Waits,
) -> Result<(), ApiError> {
    let start = Instant::now();
    loop {
        let seen = api.get(kind, namespace, name).await?;
        let Some(object) = seen else {
            return Err(ApiError(format!(
                "{kind} {namespace}/{name} vanished before Chaos Mesh injected it"
            )));
        };
        if injected(&object) {
            return Ok(());
        }
        if start.elapsed() >= waits.injected {
            return Err(ApiError(format!(
                "{kind} {namespace}/{name} not injected after {:?}: {}; {}",
                waits.injected,
                summary(&object),
                hint(kind, namespace, name)
            )));
        }
        tokio::time::sleep(waits.poll).await;
    }
}

/// Waits until a deleted object is gone, or Chaos Mesh reports every injection recovered.
pub async fn wait_recovered(
    api: &dyn ChaosApi,
    kind: &str,
    namespace: &str,
    name: &str,
    waits: &Waits,
) -> Result<(), ApiError> {
    let start = Instant::now();
    loop {
        let Some(object) = api.get(kind, namespace, name).await? else {
            return Ok(());
        };
        if recovered(&object) {
            return Ok(());
        }
        if start.elapsed() >= waits.recovered {
            return Err(ApiError(format!(
                "{kind} {namespace}/{name} still not recovered after {:?}: {}; {}",
                waits.recovered,
                summary(&object),
                hint(kind, namespace, name)
            )));
        }
        tokio::time::sleep(waits.poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conditions_win_over_records_and_records_decide_without_them() {
        let mut o = json!({ "status": { "experiment": { "containerRecords": [
            { "id": "ns/p0", "phase": "Injected", "injectedCount": 1, "recoveredCount": 0, "selectorKey": "." },
            { "id": "ns/p1", "phase": "Not Injected", "injectedCount": 0, "recoveredCount": 0, "selectorKey": ".",
              "events": [{ "message": "no such container", "operation": "Apply", "type": "Failed", "timestamp": "x" }] },
        ] } } });
        assert!(!injected(&o) && !recovered(&o));
        assert_eq!(
            summary(&o),
            "ns/p0: Injected; ns/p1: Not Injected (no such container)"
        );
        o["status"]["experiment"]["containerRecords"][0]["phase"] = json!("Not Injected");
        assert!(recovered(&o));
        o["status"]["conditions"] = json!([{ "type": "AllRecovered", "status": "False" }]);
        assert!(!recovered(&o), "the condition decides");
        assert_eq!(summary(&json!({})), "no status yet");
    }
}
