//! `faultline k8s render` and `faultline suite render --argo` as a user calls them: one JSON
//! List on stdout that `kubectl apply -f` takes (the objects' schemas are checked in
//! faultline-k8s's tests), and a fault Chaos Mesh cannot do refused in one line.

use serde_json::Value;
use std::process::Command;

fn faultline(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const RENDER: [&str; 14] = [
    "k8s",
    "render",
    "--nemesis",
    "random_kill,partition_one,small_skews,loss,io_delay",
    "--pods",
    "db-0,db-1,db-2",
    "--namespace",
    "prod",
    "--run-id",
    "n1",
    "--volume-path",
    "/data",
    "--seed",
    "3",
];

#[test]
fn render_prints_the_objects_of_each_fault_on_the_given_pods() {
    let (code, out, err) = faultline(&RENDER);
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(list["kind"], "List");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    // One kill, a partition of one pod (3 rows), a skew per pod it picked, loss on one, one disk.
    assert_eq!(kinds[0], "PodChaos", "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| **k == "NetworkChaos").count(),
        4,
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&"TimeChaos") && kinds.contains(&"IOChaos"),
        "{kinds:?}"
    );
    for o in list["items"].as_array().unwrap() {
        assert_eq!(o["metadata"]["namespace"], "prod");
        assert_eq!(o["metadata"]["labels"]["faultline.io/run"], "n1");
        let pods = &o["spec"]["selector"]["pods"]["prod"];
        assert!(pods.as_array().is_some_and(|p| !p.is_empty()), "{o:#}");
    }
    // The same seed renders the same objects.
    let (_, again, _) = faultline(&RENDER);
    assert_eq!(out, again);
}

#[test]
fn a_fault_chaos_mesh_cannot_do_is_refused_in_one_line() {
    let (code, out, err) = faultline(&["k8s", "render", "--nemesis", "pause_one", "--pods", "a,b"]);
    assert_eq!(code, 254, "{out}{err}");
    assert!(out.is_empty());
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot freeze a process"), "{err}");
}

#[test]
fn suite_render_argo_prints_a_template_and_a_nightly() {
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/../suites/smoke.toml");
    let (code, out, err) = faultline(&[
        "suite",
        "render",
        "--argo",
        suite,
        "--image",
        "registry.local/faultline:1",
        "--keep-on-failure",
    ]);
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], "WorkflowTemplate");
    assert_eq!(items[1]["kind"], "CronWorkflow");
    let case = &items[0]["spec"]["templates"][1]["container"];
    assert_eq!(case["image"], "registry.local/faultline:1");
    assert_eq!(case["command"][0], "faultline");
    assert_eq!(
        items[0]["spec"]["arguments"]["parameters"][0]["value"],
        "true"
    );
    let (code, out, err) = faultline(&["suite", "render", "--argo", suite, "--once"]);
    assert_eq!(code, 0, "{err}");
    let list: Value = serde_json::from_str(&out).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "Workflow");
    assert_eq!(
        items[0]["spec"]["workflowTemplateRef"]["name"],
        "faultline-smoke"
    );
    let (code, _, err) = faultline(&["suite", "render", "--argo", "/nonexistent.toml"]);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
