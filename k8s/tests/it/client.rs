//! The real kube client against the API-server stand-in on loopback (no cluster here): the
//! exact requests a schedule makes (create with the run's labels, read the status until
//! injected, delete, read until recovered and gone), the clean-up after a crash by a new
//! client, a stalled Chaos Mesh refused with its status, and the k8s:// / k8s-tidb://
//! systems: pods by selector as nodes, the Service as the clients' address, PD's leader.

use faultline_core::db::Db;
use faultline_k8s::client::KubeApi;
use faultline_k8s::objects::RUN_LABEL;
use faultline_k8s::recipe::{K8sDb, K8sUrl};
use faultline_k8s::standin::StandIn;
use faultline_k8s::{ChaosMesh, Scope, Waits};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const CM: &str = "/apis/chaos-mesh.org/v1alpha1";

fn quick() -> Waits {
    Waits {
        injected: Duration::from_secs(2),
        recovered: Duration::from_secs(2),
        poll: Duration::from_millis(5),
    }
}

fn fault(n: &str) -> Box<dyn faultline_nemesis::Fault> {
    faultline_nemesis::lookup(&[n.to_string()])
        .unwrap()
        .pop()
        .unwrap()
}

fn lines(s: &StandIn) -> Vec<String> {
    s.take_requests().iter().map(|r| r.line()).collect()
}

#[tokio::test]
async fn a_schedule_makes_exactly_these_requests() {
    let s = StandIn::start();
    s.set_inject_after(2); // the first read still says "not injected"
    let api = Arc::new(KubeApi::at(&s.url()).unwrap());
    let pods = vec!["db-0".to_string(), "db-1".to_string()];
    let db = ChaosMesh::new(Scope::new("ns", "run1"), pods, api, None).with_waits(quick());

    fault("random_kill")
        .start(&db, &["db-1".to_string()])
        .await
        .unwrap();
    let seen = s.take_requests();
    let name = "fl-run1-pod-1";
    let got: Vec<String> = seen.iter().map(|r| r.line()).collect();
    assert_eq!(
        got,
        [
            format!("POST {CM}/namespaces/ns/podchaos"),
            format!("GET {CM}/namespaces/ns/podchaos/{name}"),
            format!("GET {CM}/namespaces/ns/podchaos/{name}"),
        ]
    );
    let body = seen[0].body.as_ref().unwrap();
    assert_eq!(body["kind"], "PodChaos");
    assert_eq!(body["metadata"]["labels"][RUN_LABEL], "run1");
    assert_eq!(
        body["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "faultline"
    );
    assert_eq!(body["spec"]["selector"]["pods"]["ns"], json!(["db-1"]));

    // The heal deletes it and reads until Chaos Mesh's finalizer lets it go.
    fault("random_kill")
        .stop(&db, &["db-1".to_string()])
        .await
        .unwrap();
    assert_eq!(
        lines(&s),
        [
            format!("DELETE {CM}/namespaces/ns/podchaos/{name}"),
            format!("GET {CM}/namespaces/ns/podchaos/{name}"),
            format!("GET {CM}/namespaces/ns/podchaos/{name}"),
        ]
    );
    assert!(s.objects().is_empty());

    // A stress fault is a StressChaos, healed by heal_all.
    fault("stress_cpu")
        .start(&db, &["db-0".to_string()])
        .await
        .unwrap();
    assert_eq!(s.objects()[0]["kind"], "StressChaos");
    db.heal_all().await.unwrap();
    assert!(s.objects().is_empty(), "{:#?}", s.objects());
}

#[tokio::test]
async fn after_a_crash_a_new_client_deletes_every_object_of_the_run() {
    let s = StandIn::start();
    let pods = vec!["db-0".to_string(), "db-1".to_string(), "db-2".to_string()];
    {
        let api = Arc::new(KubeApi::at(&s.url()).unwrap());
        let db =
            ChaosMesh::new(Scope::new("ns", "run1"), pods.clone(), api, None).with_waits(quick());
        fault("partition_one")
            .start(&db, &["db-0".to_string()])
            .await
            .unwrap();
        fault("small_skews")
            .start(&db, &["db-2".to_string()])
            .await
            .unwrap();
        // The harness "dies" here: no heal.
    }
    // Another run's object must survive the clean-up.
    s.put_object(Scope::new("ns", "other").pod_kill(1, "db-1", 0));
    assert_eq!(s.objects().len(), 5);
    s.take_requests();

    let fresh = KubeApi::at(&s.url()).unwrap();
    let found = ChaosMesh::clean(&fresh, &Scope::new("ns", "run1"), Some(&quick()))
        .await
        .unwrap();
    let seen = lines(&s);
    let sel = "app.kubernetes.io/managed-by=faultline,faultline.io/run=run1";
    let lists: Vec<&String> = seen
        .iter()
        .filter(|l| l.starts_with("GET") && l.contains("labelSelector"))
        .collect();
    assert_eq!(
        lists,
        [
            "podchaos",
            "networkchaos",
            "timechaos",
            "iochaos",
            "stresschaos"
        ]
        .map(|r| format!("GET {CM}/namespaces/ns/{r}?labelSelector={sel}"))
        .iter()
        .collect::<Vec<_>>()
    );
    let mut deletes: Vec<&String> = seen.iter().filter(|l| l.starts_with("DELETE")).collect();
    deletes.sort();
    assert_eq!(
        deletes,
        [
            format!("DELETE {CM}/namespaces/ns/networkchaos/fl-run1-net-1"),
            format!("DELETE {CM}/namespaces/ns/networkchaos/fl-run1-net-2"),
            format!("DELETE {CM}/namespaces/ns/networkchaos/fl-run1-net-3"),
            format!("DELETE {CM}/namespaces/ns/timechaos/fl-run1-time-4"),
        ]
        .iter()
        .collect::<Vec<_>>()
    );
    assert_eq!(found.len(), 4);
    let left = s.objects();
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0]["metadata"]["labels"][RUN_LABEL], "other");
}

#[tokio::test]
async fn a_stalled_chaos_mesh_is_reported_with_its_status() {
    let s = StandIn::start();
    s.stall(true);
    let api = Arc::new(KubeApi::at(&s.url()).unwrap());
    let mut w = quick();
    w.injected = Duration::from_millis(100);
    w.recovered = Duration::from_millis(100);
    let db = ChaosMesh::new(Scope::new("ns", "r"), vec!["p".into()], api, None).with_waits(w);
    let e = db
        .as_kill()
        .unwrap()
        .kill("p")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not injected after") && e.contains("AllInjected=False"),
        "{e}"
    );
    assert!(e.contains("controller running"), "{e}");
    let e = db.heal_all().await.unwrap_err().to_string();
    assert!(
        e.contains("still not recovered") && e.contains("AllRecovered=False"),
        "{e}"
    );
    s.stall(false);
    db.heal_all().await.unwrap();
}

fn url(extra: &str) -> K8sUrl {
    K8sUrl::parse(&format!(
        "k8s://root:sekrit@shop?selector=app%3Ddb&run_id=n1&timeout=2{extra}"
    ))
    .unwrap()
}

#[tokio::test]
async fn the_pods_the_selector_picks_are_the_nodes_and_the_service_is_the_address() {
    let s = StandIn::start();
    s.add_pod("shop", "db-1", json!({ "app": "db" }), true);
    s.add_pod("shop", "db-0", json!({ "app": "db" }), false);
    s.add_pod("shop", "web-0", json!({ "app": "web" }), true);
    s.add_pod("other", "db-9", json!({ "app": "db" }), true);
    s.add_service("shop", "db", &[("mysql", 3306)]);
    let api = Arc::new(KubeApi::at(&s.url()).unwrap());
    let db = K8sDb::connect(api.clone(), &url("&service=db"), None)
        .await
        .unwrap();
    assert_eq!(db.nodes(), ["db-0", "db-1"]);
    let e = &db.endpoints[0];
    assert_eq!(
        (e.host.as_str(), e.port, e.user.as_str()),
        ("db.shop.svc", 3306, "root")
    );
    assert_eq!(e.password, "sekrit");
    assert!(!db.facts().to_string().contains("sekrit"));
    let seen = lines(&s);
    assert_eq!(
        seen[0],
        "GET /api/v1/namespaces/shop/pods?labelSelector=app=db"
    );
    assert_eq!(seen[1], "GET /api/v1/namespaces/shop/services/db");
    // db-0 is not Ready: wait_ready says which.
    let e = db
        .wait_ready(Duration::from_millis(50))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("db-0") && !e.contains("db-1"), "{e}");
    db.teardown().await.unwrap();

    // Mistakes are one line each.
    let e = K8sDb::connect(api.clone(), &url("&service=nope"), None)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no Service nope"), "{e}");
    let mut u = url("&service=db");
    u.selector = "app=none".into();
    let e = K8sDb::connect(api.clone(), &u, None)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("picks no pods"), "{e}");
    let e = K8sUrl::parse("k8s://shop?service=db")
        .unwrap_err()
        .to_string();
    assert!(e.contains("selector=") && !e.contains('\n'), "{e}");
    let e = K8sUrl::parse("k8s://shop?selector=a%3Db")
        .unwrap_err()
        .to_string();
    assert!(e.contains("service=NAME"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_system_without_teardown_deletes_its_objects() {
    let s = StandIn::start();
    s.add_pod("shop", "db-0", json!({ "app": "db" }), true);
    let api = Arc::new(KubeApi::at(&s.url()).unwrap());
    let db = K8sDb::connect(api, &url("&address=127.0.0.1:4000"), None)
        .await
        .unwrap();
    assert_eq!(db.endpoints[0].host, "127.0.0.1");
    db.as_kill().unwrap().kill("db-0").await.unwrap();
    assert_eq!(s.objects().len(), 1);
    drop(db); // as a panic would
    assert!(s.objects().is_empty(), "{:#?}", s.objects());
}

#[tokio::test]
async fn kill_pd_leader_kills_the_pod_pd_names() {
    let s = StandIn::start();
    for p in ["basic-pd-0", "basic-pd-1", "basic-tikv-0", "basic-tidb-0"] {
        s.add_pod(
            "tidb",
            p,
            json!({ "app.kubernetes.io/instance": "basic" }),
            true,
        );
    }
    s.add_service("tidb", "basic-tidb", &[("mysql-client", 4000)]);
    s.set_pd_leader(Some("basic-pd-1"));
    let (u, cluster) =
        faultline_k8s::tidb::expand("k8s-tidb://tidb?cluster=basic&run_id=t1&timeout=2").unwrap();
    assert_eq!(u.selector, "app.kubernetes.io/instance=basic");
    let api = Arc::new(KubeApi::at(&s.url()).unwrap());
    let db = faultline_k8s::tidb::connect(api, &u, &cluster)
        .await
        .unwrap();
    assert_eq!(db.nodes().len(), 4);
    assert_eq!(
        (db.endpoints[0].host.as_str(), db.endpoints[0].port),
        ("basic-tidb.tidb.svc", 4000)
    );
    s.take_requests();
    let f = fault("kill_pd_leader");
    let targets = f.targets(
        &db.nodes(),
        &mut <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1),
    );
    assert_eq!(targets, ["basic-pd-0", "basic-pd-1"]);
    let hit = f
        .start_hitting(&db, &targets, &serde_json::Value::Null)
        .await
        .unwrap();
    assert_eq!(hit, Some(vec!["basic-pd-1".to_string()]));
    let seen = lines(&s);
    assert_eq!(
        seen[0],
        "GET /api/v1/namespaces/tidb/services/basic-pd:2379/proxy/pd/api/v1/leader"
    );
    assert_eq!(
        s.objects()[0]["spec"]["selector"]["pods"]["tidb"],
        json!(["basic-pd-1"])
    );
    f.stop(&db, &targets).await.unwrap();
    assert!(
        s.objects().is_empty(),
        "the fault's end deletes its PodChaos"
    );
    s.set_pd_leader(None);
    let e = f
        .start_hitting(&db, &targets, &serde_json::Value::Null)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("503"), "{e}");
    db.teardown().await.unwrap();
}
