//! [`ChaosMesh`]: the pods under test as faultline nodes, with every capability Chaos Mesh
//! can give done by creating its objects at a fault's start and deleting them at its heal.
//! The catalogue's faults run on it unchanged (the same executor as on a local cluster).
//!
//! - kill: PodChaos `pod-kill` (grace 0; a clean shutdown with a grace period); the pod's
//!   controller starts it again with its volume, so "start" only removes the object;
//! - partition: one NetworkChaos `partition` per row of the grudge (the pod drops packets
//!   from the listed pods, `direction: from`);
//! - loss / bandwidth / delay: NetworkChaos between the pod and its peers;
//! - clock: TimeChaos with a fixed offset (a strobe cannot be expressed: refused);
//! - disk: IOChaos on the data volume's mount path (when it is given);
//! - stress: StressChaos (stress-ng CPU workers or a memory hog inside the pod);
//! - pause: refused: Chaos Mesh cannot freeze a process (no SIGSTOP; `pod-failure`
//!   restarts the container, which is a kill, not a pause).
//!
//! With [`ChaosMesh::with_waits`] (a real API server) a fault's start returns once Chaos
//! Mesh reports the object injected, and its heal once every deleted object is recovered.

use crate::api::{ChaosApi, Found};
use crate::objects::{kind_and_name, run_selector, Scope, KINDS};
use crate::status::{wait_injected, wait_recovered, Waits};
use async_trait::async_trait;
use faultline_core::db::{
    Capability, Clock, Db, DbError, DbResult, Disk, DiskFault, Grudge, Kill, NetQuality, NodeId,
    Partition, Stress, StressLoad,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What an object is for, so a heal deletes exactly its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Kill,
    Partition,
    Clock,
    Quality,
    Disk,
    Stress,
}

struct Live {
    family: Family,
    node: String,
    kind: String,
    name: String,
}

pub struct ChaosMesh {
    scope: Scope,
    pods: Vec<String>,
    api: Arc<dyn ChaosApi>,
    volume_path: Option<String>,
    live: Mutex<Vec<Live>>,
    seq: AtomicU64,
    waits: Option<Waits>,
}

fn err(e: impl std::fmt::Display) -> DbError {
    DbError::new(e.to_string())
}

impl ChaosMesh {
    /// The pods `pods` of `scope`'s namespace; `volume_path` is where their data volume is
    /// mounted (needed for disk faults).
    pub fn new(
        scope: Scope,
        pods: Vec<String>,
        api: Arc<dyn ChaosApi>,
        volume_path: Option<String>,
    ) -> ChaosMesh {
        ChaosMesh {
            scope,
            pods,
            api,
            volume_path,
            live: Mutex::new(Vec::new()),
            seq: AtomicU64::new(0),
            waits: None,
        }
    }

    /// Waits for Chaos Mesh: a start until the object is injected, a heal until every
    /// object it deleted is recovered (a dry run's recorder has nothing to wait for).
    pub fn with_waits(mut self, waits: Waits) -> ChaosMesh {
        self.waits = Some(waits);
        self
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn pod(&self, node: &str) -> DbResult<String> {
        if self.pods.iter().any(|p| p == node) {
            Ok(node.to_string())
        } else {
            Err(DbError::new(format!(
                "no pod {node} in {}: the pods are {}",
                self.scope.namespace,
                self.pods.join(", ")
            )))
        }
    }

    fn peers(&self, node: &str) -> Vec<String> {
        self.pods.iter().filter(|p| *p != node).cloned().collect()
    }

    async fn create(&self, family: Family, node: &str, object: Value) -> DbResult<()> {
        self.api.create(&object).await.map_err(err)?;
        let (kind, name) = kind_and_name(&object);
        self.live.lock().unwrap().push(Live {
            family,
            node: node.to_string(),
            kind: kind.clone(),
            name: name.clone(),
        });
        match &self.waits {
            Some(w) => wait_injected(self.api.as_ref(), &kind, &self.scope.namespace, &name, w)
                .await
                .map_err(err),
            None => Ok(()),
        }
    }

    /// Deletes the live objects that `which` picks, all of them even if one fails.
    async fn delete(&self, which: impl Fn(&Live) -> bool) -> DbResult<()> {
        let doomed: Vec<Live> = {
            let mut live = self.live.lock().unwrap();
            let (out, keep) = live.drain(..).partition(|l| which(l));
            *live = keep;
            out
        };
        let doomed: Vec<Found> = doomed
            .into_iter()
            .map(|l| Found {
                kind: l.kind,
                namespace: self.scope.namespace.clone(),
                name: l.name,
            })
            .collect();
        delete_all(self.api.as_ref(), &doomed, self.waits.as_ref())
            .await
            .map_err(err)
    }

    /// Deletes every object of every kind labelled with this run, live or not, and waits
    /// for each to be recovered: the clean-up after a harness that died (what `kubectl
    /// delete -l faultline.io/run=<id>` would do, then waiting for Chaos Mesh).
    pub async fn clean(
        api: &dyn ChaosApi,
        scope: &Scope,
        waits: Option<&Waits>,
    ) -> DbResult<Vec<Found>> {
        clean(
            api,
            Some(&scope.namespace),
            &run_selector(&scope.run_id),
            waits,
        )
        .await
        .map_err(err)
    }
}

#[async_trait]
impl Db for ChaosMesh {
    fn name(&self) -> &str {
        "chaos-mesh"
    }
    fn nodes(&self) -> Vec<NodeId> {
        self.pods.clone()
    }
    async fn heal_all(&self) -> DbResult<()> {
        self.delete(|_| true).await
    }
    async fn wait_ready(&self, _timeout: Duration) -> DbResult<()> {
        Ok(())
    }
    async fn teardown(&self) -> DbResult<()> {
        self.heal_all().await
    }
    fn facts(&self) -> Value {
        json!({
            "db": "chaos-mesh",
            "namespace": self.scope.namespace,
            "run_id": self.scope.run_id,
            "pods": self.pods,
        })
    }
    fn as_kill(&self) -> Option<&dyn Kill> {
        Some(self)
    }
    fn as_partition(&self) -> Option<&dyn Partition> {
        Some(self)
    }
    fn as_clock(&self) -> Option<&dyn Clock> {
        Some(self)
    }
    fn as_net_quality(&self) -> Option<&dyn NetQuality> {
        Some(self)
    }
    fn as_disk(&self) -> Option<&dyn Disk> {
        self.volume_path.as_ref().map(|_| self as &dyn Disk)
    }
    fn as_stress(&self) -> Option<&dyn Stress> {
        Some(self)
    }
    fn lacks(&self, capability: Capability) -> Option<String> {
        match capability {
            Capability::Pause => Some(
                "Chaos Mesh cannot freeze a process (no SIGSTOP; pod-failure restarts the \
                 container, which is a kill)"
                    .into(),
            ),
            Capability::Disk if self.volume_path.is_none() => Some(
                "IOChaos needs the mount path of the pods' data volume: give --volume-path".into(),
            ),
            Capability::Leader => Some(
                "no leader lookup for pods chosen by selector (the TiDB-on-Kubernetes recipe \
                 asks PD: --db k8s-tidb://...)"
                    .into(),
            ),
            _ => None,
        }
    }
}

#[async_trait]
impl Kill for ChaosMesh {
    async fn kill(&self, node: &str) -> DbResult<()> {
        let pod = self.pod(node)?;
        let object = self.scope.pod_kill(self.next(), &pod, 0);
        self.create(Family::Kill, &pod, object).await
    }
    async fn start(&self, node: &str) -> DbResult<()> {
        let pod = self.pod(node)?;
        self.delete(|l| l.family == Family::Kill && l.node == pod)
            .await
    }
    async fn shutdown(&self, node: &str) -> DbResult<()> {
        let pod = self.pod(node)?;
        let object = self.scope.pod_kill(self.next(), &pod, 30);
        self.create(Family::Kill, &pod, object).await
    }
}

#[async_trait]
impl Partition for ChaosMesh {
    async fn partition(&self, grudge: &Grudge) -> DbResult<()> {
        self.delete(|l| l.family == Family::Partition).await?;
        for (node, from) in grudge {
            if from.is_empty() {
                continue;
            }
            let pod = self.pod(node)?;
            let from: Vec<String> = from.iter().cloned().collect();
            let object = self.scope.partition(self.next(), &pod, &from);
            self.create(Family::Partition, &pod, object).await?;
        }
        Ok(())
    }
    async fn heal_network(&self) -> DbResult<()> {
        self.delete(|l| l.family == Family::Partition).await
    }
}

#[async_trait]
impl Clock for ChaosMesh {
    async fn set_offset(&self, node: &str, offset_ms: i64) -> DbResult<()> {
        let pod = self.pod(node)?;
        self.delete(|l| l.family == Family::Clock && l.node == pod)
            .await?;
        if offset_ms == 0 {
            return Ok(());
        }
        let object = self.scope.time_offset(self.next(), &pod, offset_ms);
        self.create(Family::Clock, &pod, object).await
    }
    async fn strobe(&self, _node: &str, _offset_ms: i64, _period: Duration) -> DbResult<()> {
        Err(DbError::new(
            "Chaos Mesh's TimeChaos holds one offset; it cannot strobe a clock",
        ))
    }
    async fn reset_clocks(&self) -> DbResult<()> {
        self.delete(|l| l.family == Family::Clock).await
    }
}

#[async_trait]
impl NetQuality for ChaosMesh {
    async fn set_loss(&self, node: &str, percent: f64) -> DbResult<()> {
        let pod = self.pod(node)?;
        let object = self
            .scope
            .loss(self.next(), &pod, &self.peers(&pod), percent);
        self.create(Family::Quality, &pod, object).await
    }
    async fn set_bandwidth(&self, node: &str, kbit: u32) -> DbResult<()> {
        let pod = self.pod(node)?;
        let object = self
            .scope
            .bandwidth(self.next(), &pod, &self.peers(&pod), kbit);
        self.create(Family::Quality, &pod, object).await
    }
    fn delay_unsupported(&self) -> Option<String> {
        None
    }
    async fn set_delay(&self, node: &str, delay: Duration, jitter: Duration) -> DbResult<()> {
        let pod = self.pod(node)?;
        let object = self
            .scope
            .delay(self.next(), &pod, &self.peers(&pod), delay, jitter);
        self.create(Family::Quality, &pod, object).await
    }
    async fn heal_quality(&self) -> DbResult<()> {
        self.delete(|l| l.family == Family::Quality).await
    }
    async fn heal_quality_of(&self, node: &str) -> DbResult<()> {
        self.delete(|l| l.family == Family::Quality && l.node == node)
            .await
    }
}

#[async_trait]
impl Disk for ChaosMesh {
    async fn set_disk_fault(&self, node: &str, fault: DiskFault) -> DbResult<()> {
        let pod = self.pod(node)?;
        self.delete(|l| l.family == Family::Disk && l.node == pod)
            .await?;
        let path = self.volume_path.as_deref().unwrap_or("/");
        match self.scope.io(self.next(), &pod, path, fault) {
            Some(object) => self.create(Family::Disk, &pod, object).await,
            None => Ok(()),
        }
    }
    async fn heal_disks(&self) -> DbResult<()> {
        self.delete(|l| l.family == Family::Disk).await
    }
}

#[async_trait]
impl Stress for ChaosMesh {
    async fn stress(&self, node: &str, load: StressLoad) -> DbResult<()> {
        let pod = self.pod(node)?;
        let object = self.scope.stress(self.next(), &pod, load);
        self.create(Family::Stress, &pod, object).await
    }
    async fn heal_stress(&self) -> DbResult<()> {
        self.delete(|l| l.family == Family::Stress).await
    }
}

/// Deletes `objects`, every one even when some fail, then (with `waits`) waits until
/// Chaos Mesh has recovered each.
pub async fn delete_all(
    api: &dyn ChaosApi,
    objects: &[Found],
    waits: Option<&Waits>,
) -> Result<(), crate::ApiError> {
    let mut errors = Vec::new();
    let mut deleted = Vec::new();
    for o in objects {
        match api.delete(&o.kind, &o.namespace, &o.name).await {
            Ok(()) => deleted.push(o),
            Err(e) => errors.push(format!("{} {}/{}: {e}", o.kind, o.namespace, o.name)),
        }
    }
    if let Some(w) = waits {
        for o in deleted {
            if let Err(e) = wait_recovered(api, &o.kind, &o.namespace, &o.name, w).await {
                errors.push(e.to_string());
            }
        }
    }
    match errors.is_empty() {
        true => Ok(()),
        false => Err(crate::ApiError(errors.join("; "))),
    }
}

/// Every object of every kind faultline makes that matches `selector` (in `namespace`,
/// or everywhere), deleted and (with `waits`) recovered; returns what it deleted.
pub async fn clean(
    api: &dyn ChaosApi,
    namespace: Option<&str>,
    selector: &str,
    waits: Option<&Waits>,
) -> Result<Vec<Found>, crate::ApiError> {
    let mut found = Vec::new();
    for kind in KINDS {
        found.extend(api.list(kind, namespace, selector).await?);
    }
    delete_all(api, &found, waits).await?;
    Ok(found)
}
