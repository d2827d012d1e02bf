//! `faultline k8s render`: the Chaos Mesh objects that faults would create, without an API
//! server. Each fault of the list runs its own catalogue code (targets and parameters drawn
//! from the seeded stream, then its start) against a [`ChaosMesh`] whose API only records,
//! so what is printed is what a run would create: `kubectl apply -f` takes it as it is.

use crate::api::Recorder;
use crate::chaos::ChaosMesh;
use crate::objects::Scope;
use faultline_core::db::Db;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct RenderOptions {
    pub namespace: String,
    pub run_id: String,
    /// The pods under test: faultline's nodes.
    pub pods: Vec<String>,
    /// Where the pods mount their data volume (for disk faults).
    pub volume_path: Option<String>,
    pub seed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Nemesis(#[from] faultline_nemesis::NemesisError),
    #[error("{fault}: {why}")]
    Start { fault: String, why: String },
    #[error("no pods: give --pods p1,p2,... (the pods the selector picks)")]
    NoPods,
}

/// The objects each of `faults` creates at its start, in order.
pub async fn render(faults: &[String], opts: &RenderOptions) -> Result<Vec<Value>, RenderError> {
    if opts.pods.is_empty() {
        return Err(RenderError::NoPods);
    }
    let recorder = Arc::new(Recorder::default());
    let db = ChaosMesh::new(
        Scope::new(&opts.namespace, &opts.run_id),
        opts.pods.clone(),
        recorder.clone(),
        opts.volume_path.clone(),
    );
    let faults = faultline_nemesis::lookup(faults)?;
    for f in &faults {
        if let Some(why) = f.unsupported(&db) {
            return Err(faultline_nemesis::NemesisError::Unsupported {
                name: f.name().into(),
                db: db.name().into(),
                why,
            }
            .into());
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    for f in &faults {
        let targets = f.targets(&db.nodes(), &mut rng);
        let params = f.params(&targets, &mut rng);
        f.start_hitting(&db, &targets, &params)
            .await
            .map_err(|e| RenderError::Start {
                fault: f.name().into(),
                why: e.to_string(),
            })?;
    }
    Ok(recorder.created())
}

/// A `v1` List of `items`, the shape `kubectl apply -f` reads from one JSON file.
pub fn list(items: Vec<Value>) -> Value {
    json!({ "apiVersion": "v1", "kind": "List", "items": items })
}
