//! The cluster control daemon serves any system: here the atom system, driven through the
//! same requests `faultline cluster` sends (a fault by name, status, heal, stop), over a
//! real unix socket.

use faultline_core::Db;
use faultline_harness::control::{self, Request};
use faultline_harness::testkit::AtomDb;
use serde_json::json;
use std::sync::Arc;

fn fault(name: &str, action: &str, nodes: &[&str]) -> Request {
    Request::Fault {
        name: name.into(),
        action: action.into(),
        nodes: Some(nodes.iter().map(|n| n.to_string()).collect()),
        params: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_drives_any_system_through_the_nemesis_executor() {
    let name = format!("atom-it-{}", std::process::id());
    std::fs::create_dir_all(control::control_dir(&name)).unwrap();
    let db = Arc::new(AtomDb::new(3));
    let (_shutdown_tx, shutdown) = tokio::sync::watch::channel(false);
    let served = {
        let (db, socket) = (db.clone(), control::socket_path(&name));
        tokio::spawn(async move { control::serve(db, vec![], &socket, shutdown).await })
    };
    let ask = |req: Request| {
        let name = name.clone();
        async move {
            for _ in 0..50 {
                if let Ok(r) = control::request(&name, &req).await {
                    return r;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!("the daemon does not answer");
        }
    };

    let r = ask(fault("random_kill", "start", &["n2"])).await;
    assert!(r.ok && r.message == "killed n2", "{r:?}");
    let r = ask(fault("partition_one", "start", &["n3"])).await;
    assert!(r.ok && r.message == "n3 drops n1,n2", "{r:?}");
    assert_eq!(db.counts().kills, 1);
    assert_eq!(
        db.faulty(),
        vec!["n2".to_string(), "n1".into(), "n2".into(), "n3".into()]
    );
    let s = ask(Request::Status).await;
    assert_eq!(s.data["db"], "atom");
    assert_eq!(
        s.data["active_faults"],
        json!(["killed n2", "n3 drops n1,n2"])
    );

    // Healing one node ends every fault that touches it, and only those.
    let r = ask(Request::Heal {
        node: Some("n3".into()),
    })
    .await;
    assert!(r.ok, "{r:?}");
    assert_eq!(db.faulty(), vec!["n2".to_string()]);
    let s = ask(Request::Status).await;
    assert_eq!(s.data["active_faults"], json!(["killed n2"]));

    // A fault the system cannot do, an unknown fault, an unknown node: refused, one line.
    for (req, says) in [
        (fault("small_skews", "start", &["n1"]), "atom"),
        (fault("no_such_fault", "start", &["n1"]), "unknown nemesis"),
        (fault("pause_one", "start", &["n9"]), "unknown node n9"),
    ] {
        let r = ask(req).await;
        assert!(
            !r.ok && r.message.contains(says) && !r.message.contains('\n'),
            "{r:?}"
        );
    }

    let r = ask(Request::Stop).await;
    assert!(r.ok, "{r:?}");
    served.await.unwrap().unwrap();
    assert!(db.faulty().is_empty(), "stop heals: {:?}", db.faulty());
    assert_eq!(db.counts().teardowns, 1);
    assert!(db
        .wait_ready(std::time::Duration::from_secs(1))
        .await
        .is_ok());
    std::fs::remove_dir_all(control::control_dir(&name)).ok();
}
