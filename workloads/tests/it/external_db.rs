//! `--db mysql://user:password@host:port/db` against a server the harness did not start (the
//! test starts a plain MariaDB and points the `bank` binary at it): the run works, the
//! password appears in no file of the run, and bad input gets one clear line each: a wrong
//! password, an unreachable node, an unknown nemesis, a fault the database cannot suffer.

use faultline_cluster::{GaleraOptions, LocalGalera};
use std::path::Path;
use std::process::Command;

const SECRET: &str = "s3cr3t-pw-42";

fn bank(store: &Path, db: &str, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bank"))
        .args(["--db", db, "--store"])
        .arg(store)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(files_under(&p));
        } else if p.is_file() {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_server_is_tested_and_bad_input_gets_one_clear_line() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let server = LocalGalera::start(GaleraOptions {
        nodes: 1,
        galera: false,
        ..Default::default()
    })
    .await
    .unwrap();
    server
        .admin_sql(
            "n1",
            &[
                &format!("CREATE USER 'tester'@'%' IDENTIFIED BY '{SECRET}'"),
                "GRANT ALL ON *.* TO 'tester'@'%'",
            ],
        )
        .await
        .unwrap();
    let e = &server.endpoints()[0];
    let store = std::env::temp_dir().join(format!("fl-ext-{}", std::process::id()));
    let url = format!("mysql://tester:{SECRET}@{}:{}/jepsen", e.host, e.port);

    let (code, out, err) = bank(
        &store,
        &url,
        &["--time-limit", "8", "--read-lock", "for-update"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verdict: valid"), "{out}");
    for f in files_under(&store) {
        let text = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&text).contains(SECRET),
            "the password is in {}",
            f.display()
        );
    }
    assert!(!out.contains(SECRET) && !err.contains(SECRET));

    let wrong = format!(
        "mysql://tester:not-the-password@{}:{}/jepsen",
        e.host, e.port
    );
    let (code, out, err) = bank(&store, &wrong, &["--time-limit", "5"]);
    assert_eq!(code, 255, "{out}{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        line.contains("n1") && line.contains("wrong user or password"),
        "{err}"
    );
    assert!(!err.contains("not-the-password"), "{err}");

    let unreachable = format!(
        "mysql://tester:{SECRET}@{}:{},{}:1/jepsen",
        e.host, e.port, e.host
    );
    let (code, _, err) = bank(&store, &unreachable, &["--time-limit", "5"]);
    assert_eq!(code, 255, "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(line.contains("n2") && line.contains("unreachable"), "{err}");
    assert!(!err.contains(SECRET), "{err}");

    let (code, _, err) = bank(&store, &url, &["--nemesis", "random_kil"]);
    assert_eq!(code, 254, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown nemesis \"random_kil\"") && err.contains("random_kill"),
        "{err}"
    );

    let (code, _, err) = bank(
        &store,
        &url,
        &["--nemesis", "random_kill", "--time-limit", "5"],
    );
    assert_eq!(code, 255, "{err}");
    assert!(err.contains("cannot run against external"), "{err}");

    drop(server);
    std::fs::remove_dir_all(&store).ok();
}
