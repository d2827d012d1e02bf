//! CPU and memory pressure on one random node through the database's Stress capability:
//! `stress_cpu` (busy workers next to the server) and `stress_memory` (a worker holding
//! memory). On Kubernetes they are Chaos Mesh StressChaos objects; the local systems refuse
//! them: every local node shares this machine's CPUs and memory, so a stressor would load
//! them all, not the one node the fault names.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::{Capability, Db, DbError, DbResult, NodeId, Stress, StressLoad};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn stress_capability(db: &dyn Db) -> DbResult<&dyn Stress> {
    db.as_stress().ok_or_else(|| {
        DbError::new(db.lacks(Capability::Stress).unwrap_or_else(|| {
            format!(
                "{} has no CPU/memory stress: its nodes share one machine, so a stressor would \
                 load every node at once; use --db k8s://NAMESPACE?selector=... (Chaos Mesh StressChaos)",
                db.name()
            )
        }))
    })
}

/// The load a stress fault's params describe.
fn load_of(name: &str, params: &Value) -> StressLoad {
    match name {
        "stress_cpu" => StressLoad::Cpu {
            workers: params["workers"].as_u64().unwrap_or(2).clamp(1, 64) as u32,
            load: params["load"].as_u64().unwrap_or(100).min(100) as u8,
        },
        _ => StressLoad::Memory {
            mb: params["mb"].as_u64().unwrap_or(256).max(1),
        },
    }
}

/// One stress fault of the catalogue; `name` says which.
pub struct StressOn {
    name: &'static str,
    description: &'static str,
}

pub const STRESS_CPU: StressOn = StressOn {
    name: "stress_cpu",
    description: "1-4 busy CPU workers at 50-100% load next to one random node's server (Chaos Mesh StressChaos), removed at the end",
};
pub const STRESS_MEMORY: StressOn = StressOn {
    name: "stress_memory",
    description: "a worker holding 128-1024 MiB of memory in one random node (Chaos Mesh StressChaos), removed at the end",
};

#[async_trait]
impl Fault for StressOn {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Stress]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        stress_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    fn params(&self, _targets: &[NodeId], rng: &mut ChaCha8Rng) -> Value {
        match self.name {
            "stress_cpu" => {
                let workers = rng.random_range(1..=4u32);
                let load = [50u32, 75, 100][rng.random_range(0..3)];
                json!({ "workers": workers, "load": load })
            }
            _ => {
                let mb = [128u64, 256, 512, 1024][rng.random_range(0..4)];
                json!({ "mb": mb })
            }
        }
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_with(db, targets, &Value::Null).await
    }
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], params: &Value) -> DbResult<()> {
        let stress = stress_capability(db)?;
        for n in targets {
            stress.stress(n, load_of(self.name, params)).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, _targets: &[NodeId]) -> DbResult<()> {
        stress_capability(db)?.heal_stress().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn params_become_the_load_they_name() {
        let p = json!({ "workers": 3, "load": 75, "mb": 512 });
        assert_eq!(
            load_of("stress_cpu", &p),
            StressLoad::Cpu {
                workers: 3,
                load: 75
            }
        );
        assert_eq!(load_of("stress_memory", &p), StressLoad::Memory { mb: 512 });
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let nodes: Vec<NodeId> = vec!["a".into(), "b".into()];
        for f in [STRESS_CPU, STRESS_MEMORY] {
            let t = f.targets(&nodes, &mut rng);
            assert_eq!(t.len(), 1);
            let drawn = load_of(f.name(), &f.params(&t, &mut rng));
            match drawn {
                StressLoad::Cpu { workers, load } => {
                    assert!((1..=4).contains(&workers) && load >= 50)
                }
                StressLoad::Memory { mb } => assert!((128..=1024).contains(&mb)),
            }
        }
    }

    /// A database without the capability (no server: a unit test of the refusal).
    struct Plain;

    #[async_trait]
    impl Db for Plain {
        fn name(&self) -> &str {
            "local-galera"
        }
        fn nodes(&self) -> Vec<NodeId> {
            vec!["n1".into()]
        }
        async fn heal_all(&self) -> DbResult<()> {
            Ok(())
        }
        async fn wait_ready(&self, _t: std::time::Duration) -> DbResult<()> {
            Ok(())
        }
        async fn teardown(&self) -> DbResult<()> {
            Ok(())
        }
    }

    #[test]
    fn refused_in_one_line_where_nodes_share_a_machine() {
        let why = STRESS_CPU.unsupported(&Plain).unwrap();
        assert!(why.contains("k8s://") && !why.contains('\n'), "{why}");
    }
}
