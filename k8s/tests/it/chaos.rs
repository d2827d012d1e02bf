//! The catalogue's faults as Chaos Mesh objects: each fault Chaos Mesh can do renders to
//! objects the real schemas accept, the others are refused with their reason, and a fault's
//! start and heal make exactly the expected requests (a recording API server stand-in).

use crate::schemas::errors;
use faultline_core::db::{Db, Partition};
use faultline_k8s::objects::{KINDS, RUN_LABEL};
use faultline_k8s::render::{render, RenderOptions};
use faultline_k8s::{ChaosMesh, Recorder, Request, Scope};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

fn pods(n: usize) -> Vec<String> {
    (0..n).map(|k| format!("tidb-{k}")).collect()
}

fn opts() -> RenderOptions {
    RenderOptions {
        namespace: "chaos-test".into(),
        run_id: "Nightly 2026-12-02".into(),
        pods: pods(5),
        volume_path: Some("/var/lib/mysql".into()),
        seed: 7,
    }
}

#[tokio::test]
async fn every_fault_chaos_mesh_can_do_renders_to_objects_its_schemas_accept() {
    let mut refused = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    for f in faultline_nemesis::catalogue() {
        let name = f.name().to_string();
        match render(std::slice::from_ref(&name), &opts()).await {
            Err(e) => {
                refused.insert(name, e.to_string());
            }
            Ok(objects) => {
                assert!(!objects.is_empty(), "{name} created nothing");
                for o in &objects {
                    let errs = errors(o);
                    assert!(errs.is_empty(), "{name}: {errs:#?}\n{o:#}");
                    let labels = &o["metadata"]["labels"];
                    assert_eq!(labels[RUN_LABEL], "nightly-2026-12-02", "{o:#}");
                    assert_eq!(o["metadata"]["namespace"], "chaos-test");
                    *kinds
                        .entry(o["kind"].as_str().unwrap().to_string())
                        .or_insert(0) += 1;
                }
            }
        }
    }
    println!("refused: {refused:#?}\nkinds: {kinds:?}");
    let names: Vec<&str> = refused.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["kill_pd_leader", "pause_all", "pause_one", "strobe_skews"],
        "{refused:#?}"
    );
    assert!(refused["pause_one"].contains("no SIGSTOP"), "{refused:#?}");
    assert!(
        refused["strobe_skews"].contains("cannot strobe"),
        "{refused:#?}"
    );
    for kind in [
        "PodChaos",
        "NetworkChaos",
        "TimeChaos",
        "IOChaos",
        "StressChaos",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} rendered: {kinds:?}");
    }
}

#[tokio::test]
async fn without_a_volume_path_disk_faults_are_refused_in_one_line() {
    let mut o = opts();
    o.volume_path = None;
    let e = render(&["io_delay".to_string()], &o)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("--volume-path"), "{e}");
    assert_eq!(e.lines().count(), 1);
    let e = render(&["no_such".to_string()], &o)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown nemesis"), "{e}");
}

#[tokio::test]
async fn stress_faults_render_to_the_stressors_they_drew() {
    let o = &render(&["stress_cpu".to_string()], &opts()).await.unwrap()[0];
    assert_eq!(errors(o), Vec::<String>::new());
    let cpu = &o["spec"]["stressors"]["cpu"];
    let workers = cpu["workers"].as_u64().unwrap();
    assert!((1..=4).contains(&workers), "{o:#}");
    assert!(o["spec"]["stressors"].get("memory").is_none(), "{o:#}");
    let o = &render(&["stress_memory".to_string()], &opts())
        .await
        .unwrap()[0];
    assert_eq!(errors(o), Vec::<String>::new());
    let size = o["spec"]["stressors"]["memory"]["size"].as_str().unwrap();
    assert!(size.ends_with("MiB"), "{size}");
    assert_eq!(
        o["spec"]["selector"]["pods"]["chaos-test"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn created_names(requests: &[Request]) -> Vec<(String, String)> {
    requests
        .iter()
        .filter_map(|r| match r {
            Request::Create(o) => Some(faultline_k8s::objects::kind_and_name(o)),
            _ => None,
        })
        .collect()
}

fn deleted_names(requests: &[Request]) -> Vec<(String, String)> {
    requests
        .iter()
        .filter_map(|r| match r {
            Request::Delete {
                kind,
                name,
                namespace,
            } => {
                assert_eq!(namespace, "ns");
                Some((kind.clone(), name.clone()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_fault_creates_labelled_objects_and_its_heal_deletes_exactly_those() {
    let api = Arc::new(Recorder::default());
    let db = ChaosMesh::new(Scope::new("ns", "run1"), pods(3), api.clone(), None);
    let fault = |n: &str| {
        faultline_nemesis::lookup(&[n.to_string()])
            .unwrap()
            .pop()
            .unwrap()
    };

    // partition_one on tidb-1: it drops from the other two, each of them drops from it.
    let p = fault("partition_one");
    let one = vec!["tidb-1".to_string()];
    p.start(&db, &one).await.unwrap();
    let r = api.requests();
    assert_eq!(r.len(), 3, "{r:#?}");
    let mut grudge: Vec<(String, Vec<String>)> = api
        .created()
        .iter()
        .map(|o| {
            assert_eq!(o["spec"]["action"], "partition");
            assert_eq!(o["spec"]["direction"], "from");
            let pod = o["spec"]["selector"]["pods"]["ns"][0]
                .as_str()
                .unwrap()
                .to_string();
            let from: Vec<String> = o["spec"]["target"]["selector"]["pods"]["ns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            (pod, from)
        })
        .collect();
    grudge.sort();
    assert_eq!(
        grudge,
        [
            ("tidb-0".to_string(), vec!["tidb-1".to_string()]),
            (
                "tidb-1".to_string(),
                vec!["tidb-0".to_string(), "tidb-2".to_string()]
            ),
            ("tidb-2".to_string(), vec!["tidb-1".to_string()]),
        ]
    );
    p.stop(&db, &one).await.unwrap();
    let r = api.requests();
    assert_eq!(
        deleted_names(&r),
        created_names(&r),
        "the heal deletes what the start made"
    );

    // A kill, then loss on another pod; heal_all deletes both, and nothing twice.
    let before = api.requests().len();
    fault("random_kill")
        .start(&db, &["tidb-2".to_string()])
        .await
        .unwrap();
    db.as_net_quality()
        .unwrap()
        .set_loss("tidb-0", 20.0)
        .await
        .unwrap();
    let made = created_names(&api.requests()[before..]);
    assert_eq!(
        made.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        ["PodChaos", "NetworkChaos"]
    );
    let kill = &api.created()[3];
    assert_eq!(kill["spec"]["action"], "pod-kill");
    assert_eq!(kill["spec"]["gracePeriod"], 0);
    assert_eq!(kill["metadata"]["labels"][RUN_LABEL], "run1");
    db.heal_all().await.unwrap();
    let r = api.requests();
    assert_eq!(deleted_names(&r[before..]), made);
    db.heal_all().await.unwrap();
    assert_eq!(
        api.requests().len(),
        r.len(),
        "a second heal deletes nothing again"
    );
    db.heal_network().await.unwrap();

    // A pod that is not under test is refused, and nothing is sent.
    let e = db.as_kill().unwrap().kill("mysql-0").await.unwrap_err();
    assert!(e.to_string().contains("no pod mysql-0"), "{e}");
    assert_eq!(api.requests().len(), r.len());
}

#[tokio::test]
async fn clean_after_a_crash_lists_every_kind_by_the_run_label() {
    let api = Recorder::default();
    let found = ChaosMesh::clean(&api, &Scope::new("ns", "run1"), None)
        .await
        .unwrap();
    assert!(found.is_empty(), "a recorder holds no objects");
    let expected: Vec<Request> = KINDS
        .iter()
        .map(|k| Request::List {
            kind: k.to_string(),
            namespace: Some("ns".into()),
            selector: "app.kubernetes.io/managed-by=faultline,faultline.io/run=run1".into(),
        })
        .collect();
    assert_eq!(api.requests(), expected);
}

#[test]
fn objects_have_valid_names() {
    let s = Scope::new("ns", "--Weird_Run.ID--");
    let o: Value = s.pod_kill(12, "p", 0);
    let name = o["metadata"]["name"].as_str().unwrap();
    assert_eq!(name, "fl-weird-run-id-pod-12");
    assert!(name.len() <= 63);
}

#[tokio::test]
async fn the_schemas_check_deep_inside_a_rendered_object() {
    let objects = render(&["partition_one".to_string()], &opts())
        .await
        .unwrap();
    let mut o = objects[0].clone();
    assert_eq!(errors(&o), Vec::<String>::new());
    o["spec"]["target"]["selector"]["pods"]["chaos-test"] = serde_json::json!([1, 2]);
    assert!(!errors(&o).is_empty(), "pod names as numbers passed");
    let mut o = objects[0].clone();
    o["spec"]["direction"] = serde_json::json!("sideways");
    assert!(!errors(&o).is_empty(), "an unknown direction passed");
}
