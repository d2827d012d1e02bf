//! `faultline k8s clean` and `--db k8s://` as a user calls them, against the API-server
//! stand-in (no Kubernetes cluster here), found the way kubectl finds a cluster: KUBECONFIG.

use faultline_k8s::standin::StandIn;
use faultline_k8s::Scope;
use std::process::Command;

fn faultline(kubeconfig: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn clean_deletes_the_runs_objects_and_waits_for_them_to_go() {
    let s = StandIn::start();
    let dir = std::env::temp_dir().join(format!("fl-k8s-clean-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kc = s.kubeconfig(&dir);
    let (a, b) = (Scope::new("ns1", "run-a"), Scope::new("ns2", "run-b"));
    s.put_object(a.pod_kill(1, "db-0", 0));
    s.put_object(a.time_offset(2, "db-1", 500));
    s.put_object(b.pod_kill(1, "db-0", 0));

    let (code, out, err) = faultline(&kc, &["k8s", "clean", "--run-id", "run-a"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("deleted PodChaos ns1/fl-run-a-pod-1"), "{out}");
    assert!(
        out.contains("deleted TimeChaos ns1/fl-run-a-time-2"),
        "{out}"
    );
    assert!(out.contains("2 object(s)"), "{out}");
    let left = s.objects();
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0]["metadata"]["namespace"], "ns2");
    // Every namespace was listed by the run's label, then each object read until gone.
    let lines: Vec<String> = s.take_requests().iter().map(|r| r.line()).collect();
    assert!(lines.contains(&"GET /apis/chaos-mesh.org/v1alpha1/podchaos?labelSelector=app.kubernetes.io/managed-by=faultline,faultline.io/run=run-a".to_string()), "{lines:#?}");
    assert!(
        lines
            .iter()
            .filter(|l| l.starts_with(
                "GET /apis/chaos-mesh.org/v1alpha1/namespaces/ns1/podchaos/fl-run-a-pod-1"
            ))
            .count()
            >= 2,
        "{lines:#?}"
    );

    let (code, out, err) = faultline(&kc, &["k8s", "clean", "--all", "--namespace", "ns2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(s.objects().is_empty());

    let (code, _, err) = faultline(&kc, &["k8s", "clean"]);
    assert_eq!(code, 254, "{err}");
    assert!(err.contains("--run-id") && err.contains("--all"), "{err}");

    // A stalled Chaos Mesh: the clean-up says so in one line and fails.
    s.put_object(a.pod_kill(3, "db-0", 0));
    s.stall(true);
    let (code, _, err) = faultline(&kc, &["k8s", "clean", "--all", "--timeout", "1"]);
    assert_ne!(code, 0);
    assert!(err.contains("still not recovered"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_systems_names_the_kubernetes_recipes_and_a_bad_url_is_one_line() {
    let (code, out, _) = faultline(std::path::Path::new("/nonexistent"), &["list", "systems"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("k8s://") && out.contains("k8s-tidb://"),
        "{out}"
    );
    let (code, out, err) = faultline(
        std::path::Path::new("/nonexistent"),
        &[
            "run",
            "noop",
            "--",
            "--db",
            "k8s://shop?service=db",
            "--time-limit",
            "1",
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("selector="), "{err}");
}
