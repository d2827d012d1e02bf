//! The CRD schemas of ../shared/schemas, made strict the way `kubectl apply
//! --validate=strict` is: an object with declared properties takes no others (unless the
//! schema preserves unknown fields), so a misspelt field fails here and not in a cluster.

use serde_json::Value;

fn strict(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let declared = map.contains_key("properties");
            let open = map.contains_key("additionalProperties")
                || map.contains_key("x-kubernetes-preserve-unknown-fields");
            if declared && !open {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (_, child) in map.iter_mut() {
                strict(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// The validator of the kind that `file` (e.g. `chaos-mesh/chaos-mesh.org_podchaos.yaml`) defines.
pub fn validator(file: &str) -> jsonschema::Validator {
    let path = format!("{}/../../shared/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (the CRD schemas live in ../shared/schemas)"));
    let crd: Value = serde_norway::from_str(&text).unwrap();
    let mut schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
    assert!(schema.is_object(), "{path}: no openAPIV3Schema");
    strict(&mut schema);
    jsonschema::validator_for(&schema).unwrap()
}

/// The schema file of a kind.
pub fn file_of(kind: &str) -> &'static str {
    match kind {
        "PodChaos" => "chaos-mesh/chaos-mesh.org_podchaos.yaml",
        "NetworkChaos" => "chaos-mesh/chaos-mesh.org_networkchaos.yaml",
        "TimeChaos" => "chaos-mesh/chaos-mesh.org_timechaos.yaml",
        "IOChaos" => "chaos-mesh/chaos-mesh.org_iochaos.yaml",
        "StressChaos" => "chaos-mesh/chaos-mesh.org_stresschaos.yaml",
        "WorkflowTemplate" => "argo/argoproj.io_workflowtemplates.yaml",
        "CronWorkflow" => "argo/argoproj.io_cronworkflows.yaml",
        "Workflow" => "argo/argoproj.io_workflows.yaml",
        other => panic!("no schema for {other}"),
    }
}

/// Every error of `object` against its kind's schema, one line each.
pub fn errors(object: &Value) -> Vec<String> {
    let kind = object["kind"].as_str().expect("a kind");
    let v = validator(file_of(kind));
    v.iter_errors(object)
        .map(|e| format!("{kind} at {}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn the_strict_schemas_refuse_a_misspelt_field_and_a_missing_one() {
    let good = serde_json::json!({
        "apiVersion": "chaos-mesh.org/v1alpha1", "kind": "PodChaos",
        "metadata": { "name": "x" },
        "spec": { "action": "pod-kill", "mode": "all", "selector": { "namespaces": ["ns"] } },
    });
    assert_eq!(errors(&good), Vec::<String>::new());
    let mut typo = good.clone();
    typo["spec"]["gracePeriods"] = serde_json::json!(0);
    assert!(!errors(&typo).is_empty(), "a misspelt field passed");
    let mut missing = good.clone();
    missing["spec"].as_object_mut().unwrap().remove("selector");
    assert!(
        !errors(&missing).is_empty(),
        "a missing required field passed"
    );
    let mut bad_enum = good;
    bad_enum["spec"]["action"] = serde_json::json!("pod-pause");
    assert!(!errors(&bad_enum).is_empty(), "an unknown action passed");
}
