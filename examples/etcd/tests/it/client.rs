//! The gateway client against one real etcd member on loopback.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faultline_example_etcd::{EtcdClient, EtcdError, Outcome};

/// One etcd member in a temp dir, killed and removed on drop.
struct Member {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(client_port: u16, peer_port: u16) -> Member {
    let dir = std::env::temp_dir().join(format!("faultline-etcd-client-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let curl = format!("http://127.0.0.1:{client_port}");
    let purl = format!("http://127.0.0.1:{peer_port}");
    let child = Command::new("etcd")
        .args(["--name", "n1", "--data-dir"])
        .arg(dir.join("data"))
        .args([
            "--listen-client-urls",
            &curl,
            "--advertise-client-urls",
            &curl,
        ])
        .args([
            "--listen-peer-urls",
            &purl,
            "--initial-advertise-peer-urls",
            &purl,
        ])
        .args(["--initial-cluster", &format!("n1={purl}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("etcd not found: apt-get install -y etcd-server");
    Member { child, dir }
}

#[faultline::tokio::test(crate = "faultline::tokio")]
async fn get_put_cas_through_the_gateway() {
    let _slot = faultline::cluster::test_slots::shared();
    let _member = start(23791, 23801);
    let c = EtcdClient::new("http://127.0.0.1:23791", Duration::from_secs(2)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while c.put("k", "1").await.is_err() {
        assert!(Instant::now() < deadline, "etcd did not come up");
        faultline::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(c.get("k", false).await.unwrap().as_deref(), Some("1"));
    assert_eq!(c.get("k", true).await.unwrap().as_deref(), Some("1"));
    assert_eq!(c.get("absent", false).await.unwrap(), None);
    assert!(!c.cas("k", "2", "3").await.unwrap());
    assert!(c.cas("k", "1", "3").await.unwrap());
    assert_eq!(c.get("k", false).await.unwrap().as_deref(), Some("3"));
    // An empty key is refused by etcd before any proposal: a status that proves `fail`.
    match c.put("", "x").await {
        Err(e @ EtcdError::Status { .. }) => assert_eq!(e.outcome(), Outcome::Fail, "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[faultline::tokio::test(crate = "faultline::tokio")]
async fn nothing_listening_is_a_connect_error_that_fails() {
    let c = EtcdClient::new("http://127.0.0.1:1", Duration::from_secs(1)).unwrap();
    let e = c.get("k", false).await.unwrap_err();
    assert!(matches!(e, EtcdError::Connect(_)), "{e:?}");
    assert_eq!(e.outcome(), Outcome::Fail);
}
