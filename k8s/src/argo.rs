//! `faultline suite render --argo`: a suite as Argo Workflows objects. A WorkflowTemplate
//! runs the cases one after another, each repeat as a step running `faultline run` in a
//! container, its store as an output artifact; a failed case (an invalid verdict exits 1)
//! fails its step, the next cases still run (`continueOn.failed`), and the workflow ends
//! failed. Its exit handler runs `faultline k8s clean --namespace NS --all` in the same
//! image: every Chaos Mesh object faultline labelled is deleted and waited for until Chaos
//! Mesh reports it recovered (a step killed mid-fault leaves its objects behind; this is
//! their clean-up), unless the night failed and `keep-on-failure` is true (the scene is
//! kept, as `--keep-on-failure` keeps a local cluster). A CronWorkflow runs the template
//! nightly; a Workflow runs it once, now (`kubectl create -f`: its name is generated).

use faultline_nightly::Suite;
use serde_json::{json, Value};
use std::path::Path;

pub const API_VERSION: &str = "argoproj.io/v1alpha1";

#[derive(Clone, Debug)]
pub struct ArgoOptions {
    /// The container image with the faultline binaries.
    pub image: String,
    /// The namespace the workflow (and the system under test) runs in.
    pub namespace: String,
    /// Cron schedule of the nightly, e.g. `0 2 * * *`.
    pub schedule: String,
    /// Keep the Chaos Mesh objects of a failed night for inspection.
    pub keep_on_failure: bool,
}

impl Default for ArgoOptions {
    fn default() -> Self {
        ArgoOptions {
            image: "faultline:latest".into(),
            namespace: "default".into(),
            schedule: "0 2 * * *".into(),
            keep_on_failure: false,
        }
    }
}

/// A Kubernetes name of at most 63 characters.
fn dns_name(s: &str) -> String {
    crate::objects::dns_name(s, 63)
}

pub fn template_name(suite: &Suite) -> String {
    dns_name(&format!("faultline-{}", suite.name))
}

/// The WorkflowTemplate of `suite`.
pub fn workflow_template(suite: &Suite, o: &ArgoOptions) -> Value {
    let store = Path::new("/store");
    let mut templates = Vec::new();
    let mut steps = Vec::new();
    for (k, case) in suite.cases.iter().enumerate() {
        for i in 0..case.repeat {
            let argv = case.argv(suite, store, i);
            let mut args: Vec<String> = vec!["run".into(), case.workload.clone(), "--".into()];
            args.extend(argv[1..].iter().map(|a| a.to_string_lossy().into_owned()));
            let name = dns_name(&format!("case-{k}-{}-{i}", case.name()));
            templates.push(json!({
                "name": name,
                "container": {
                    "image": o.image,
                    "command": ["faultline"],
                    "args": args,
                    // The local recipes need network namespaces and iptables in the pod.
                    "securityContext": { "privileged": true },
                },
                "outputs": { "artifacts": [ { "name": "store", "path": "/store" } ] },
            }));
            steps.push(json!([{
                "name": name,
                "template": name,
                "continueOn": { "failed": true },
            }]));
        }
    }
    templates.insert(0, json!({ "name": "suite", "steps": steps }));
    templates.push(json!({
        "name": "cleanup",
        "steps": [[{
            "name": "delete-chaos",
            "template": "delete-chaos",
            "when": "{{workflow.status}} == Succeeded || {{workflow.parameters.keep-on-failure}} == false",
        }]],
    }));
    templates.push(json!({
        "name": "delete-chaos",
        "container": {
            "image": o.image,
            "command": ["faultline"],
            "args": ["k8s", "clean", "--namespace", o.namespace, "--all"],
        },
    }));
    json!({
        "apiVersion": API_VERSION,
        "kind": "WorkflowTemplate",
        "metadata": {
            "name": template_name(suite),
            "namespace": o.namespace,
            "labels": { "app.kubernetes.io/managed-by": "faultline" },
        },
        "spec": {
            "entrypoint": "suite",
            "onExit": "cleanup",
            "arguments": { "parameters": [
                { "name": "keep-on-failure", "value": o.keep_on_failure.to_string() },
            ]},
            "templates": templates,
        },
    })
}

/// The CronWorkflow that runs `suite`'s template on `o.schedule`.
pub fn cron_workflow(suite: &Suite, o: &ArgoOptions) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": "CronWorkflow",
        "metadata": {
            "name": dns_name(&format!("faultline-{}-nightly", suite.name)),
            "namespace": o.namespace,
            "labels": { "app.kubernetes.io/managed-by": "faultline" },
        },
        "spec": {
            "schedules": [o.schedule],
            "concurrencyPolicy": "Forbid",
            "workflowSpec": {
                "workflowTemplateRef": { "name": template_name(suite) },
            },
        },
    })
}

/// A Workflow that runs `suite`'s template once (`generateName`: `kubectl create`, not
/// `apply`).
pub fn workflow(suite: &Suite, o: &ArgoOptions) -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": "Workflow",
        "metadata": {
            "generateName": format!("{}-", dns_name(&format!("faultline-{}", suite.name))),
            "namespace": o.namespace,
            "labels": { "app.kubernetes.io/managed-by": "faultline" },
        },
        "spec": {
            "workflowTemplateRef": { "name": template_name(suite) },
            "arguments": { "parameters": [
                { "name": "keep-on-failure", "value": o.keep_on_failure.to_string() },
            ]},
        },
    })
}
