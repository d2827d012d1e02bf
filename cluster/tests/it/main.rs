//! faultline-cluster's integration tests, one binary: the local Galera cluster under kill
//! and partition ([`local_galera`], real mariadbd servers), and the tidb-playground recipe
//! against STAND-INS, not real TiDB: pd-server, tikv-server and
//! tidb-server cannot be installed here, so this binary re-executes itself under those names
//! (tidb_standin/mod.rs says what the stand-ins do). Checked: the flags each process got,
//! traffic through the proxies, a partition of tikv-0 both ways and its heal, kill and
//! restart, pause and resume, kill_pd_leader, that teardown leaves nothing behind, and that
//! `clean` removes the playground of a harness killed with -9.
//!
//! `harness = false` (cluster/Cargo.toml): `main` first checks whether it was started as a
//! stand-in, then runs the tests and prints the usual `test result:` line.

mod local_galera;
mod tidb_standin;

use faultline_cluster::{TidbOptions, TidbPlayground};
use faultline_core::db::{grudge_isolating, Db};
use faultline_nemesis::faults::tidb::KillPdLeader;
use faultline_nemesis::Fault;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use tidb_standin::observe::{cmdline, proc_state, reach_in, Standins};

async fn reach(pg: &TidbPlayground, node: &str, window: Duration) -> BTreeMap<String, (u32, u32)> {
    reach_in(&pg.log_file(node).unwrap(), window).await
}

/// Watches `node`'s reach log in 1.5 s windows until `want` holds (or 30 s passed) and
/// returns the last window: after a start, a heal or a resume, a busy machine may need a few
/// rounds before the stand-ins talk again.
async fn reach_until(
    pg: &TidbPlayground,
    node: &str,
    want: impl Fn(&BTreeMap<String, (u32, u32)>) -> bool,
) -> BTreeMap<String, (u32, u32)> {
    let start = Instant::now();
    loop {
        let r = reach(pg, node, Duration::from_millis(1500)).await;
        if want(&r) || start.elapsed() > Duration::from_secs(30) {
            return r;
        }
    }
}

fn tikv_addr(pg: &TidbPlayground, k: usize) -> String {
    format!("tikv 127.0.0.1:{}", pg.layout().tikv[k].addr_proxy)
}

fn ok(m: &BTreeMap<String, (u32, u32)>, key: &str) -> u32 {
    m.get(key).map_or(0, |c| c.0)
}

fn failed(m: &BTreeMap<String, (u32, u32)>, key: &str) -> u32 {
    m.get(key).map_or(0, |c| c.1)
}

async fn wait_leader(pg: &TidbPlayground, want: &str) {
    let start = Instant::now();
    loop {
        let got = pg.as_leader().unwrap().leader("pd").await;
        if got.as_deref().ok() == Some(want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "PD leader never became {want}: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_missing_binary_is_one_line_naming_its_flag() {
    let err = TidbPlayground::start(TidbOptions {
        pd_path: "/nonexistent/pd-server".into(),
        ..Default::default()
    })
    .await
    .err()
    .expect("no pd-server there");
    let msg = err.to_string();
    assert!(msg.contains("--pd.path") && !msg.contains('\n'), "{msg}");
}

async fn standin_cluster_is_partitioned_killed_paused_and_torn_down(bin: &Path) {
    let pg = TidbPlayground::start(TidbOptions {
        pd_path: bin.join("pd-server"),
        tikv_path: bin.join("tikv-server"),
        tidb_path: bin.join("tidb-server"),
        pd_count: 3,
        tikv_count: 3,
        tidb_count: 1,
        start_timeout: Duration::from_secs(60),
    })
    .await
    .expect("stand-in cluster starts");
    let nodes = pg.nodes();
    assert_eq!(
        nodes,
        ["pd-0", "pd-1", "pd-2", "tikv-0", "tikv-1", "tikv-2", "tidb-0"]
    );
    // Clients talk to the SQL layer only; faults may hit every component.
    assert_eq!(pg.client_nodes(), ["tidb-0"]);
    let dir = pg.temp_dir().to_path_buf();
    let dir_name = dir.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        dir_name.starts_with("faultline-fl")
            && dir_name.ends_with(&format!("-{}", std::process::id())),
        "{dir_name}"
    );
    let endpoints = pg.endpoints();
    assert_eq!((endpoints.len(), endpoints[0].user.as_str()), (1, "root"));

    // The flags each process got, read back from /proc.
    let layout = pg.layout().clone();
    for n in &nodes {
        let got = cmdline(pg.pid(n).unwrap());
        assert_eq!(got[1..], pg.args(n)[..], "{n}");
    }
    let pd1 = cmdline(pg.pid("pd-1").unwrap());
    let p = &layout.pd[1];
    for want in [
        "--name=pd-1".to_string(),
        format!("--peer-urls=http://127.0.0.1:{}", p.peer),
        format!("--advertise-peer-urls=http://127.0.0.1:{}", p.peer_proxy),
        format!("--client-urls=http://127.0.0.1:{}", p.client),
        format!("--advertise-client-urls=http://127.0.0.1:{}", p.client_proxy),
        format!(
            "--initial-cluster=pd-0=http://127.0.0.1:{},pd-1=http://127.0.0.1:{},pd-2=http://127.0.0.1:{}",
            layout.pd[0].peer_proxy, layout.pd[1].peer_proxy, layout.pd[2].peer_proxy
        ),
        format!("--data-dir={}", dir.join("pd-1/data").display()),
        format!("--log-file={}", dir.join("pd-1/pd.log").display()),
    ] {
        assert!(pd1.contains(&want), "pd-1 lacks {want}: {pd1:?}");
    }
    let pds = layout.pd_endpoints().join(",");
    let kv2 = cmdline(pg.pid("tikv-2").unwrap());
    for want in [
        format!("--addr=127.0.0.1:{}", layout.tikv[2].addr),
        format!("--advertise-addr=127.0.0.1:{}", layout.tikv[2].addr_proxy),
        format!("--status-addr=127.0.0.1:{}", layout.tikv[2].status),
        format!("--pd-endpoints={pds}"),
    ] {
        assert!(kv2.contains(&want), "tikv-2 lacks {want}: {kv2:?}");
    }
    let db0 = cmdline(pg.pid("tidb-0").unwrap());
    assert!(
        db0.windows(2)
            .any(|w| w == ["-P", &layout.tidb[0].port.to_string()]),
        "{db0:?}"
    );
    for want in [
        "--store=tikv".to_string(),
        "--host=127.0.0.1".into(),
        format!("--path={pds}"),
    ] {
        assert!(db0.contains(&want), "tidb-0 lacks {want}: {db0:?}");
    }

    // Traffic flows through the proxies, and the proxies know who is talking. A TiKV learns
    // its peers from PD once they registered: under load that takes a few rounds.
    let both = |r: &BTreeMap<String, (u32, u32)>| {
        ok(r, &tikv_addr(&pg, 1)) > 0 && ok(r, &tikv_addr(&pg, 2)) > 0
    };
    let r0 = reach_until(&pg, "tikv-0", both).await;
    assert!(
        ok(&r0, &tikv_addr(&pg, 1)) > 0 && ok(&r0, &tikv_addr(&pg, 2)) > 0,
        "{r0:?}"
    );
    for pd in layout.pd_endpoints() {
        assert!(ok(&r0, &format!("pd {pd}")) > 0, "{r0:?}");
    }
    let open = pg.links().open();
    for (a, b) in [
        ("tikv-0", "tikv-1"),
        ("tikv-1", "tikv-0"),
        ("tikv-2", "tikv-0"),
    ] {
        assert!(
            open.contains(&(Some(a.into()), b.into())),
            "no open link {a} -> {b}: {open:?}"
        );
    }
    let rdb = reach_until(&pg, "tidb-0", |r| r.values().any(|c| c.0 > 0)).await;
    assert!(rdb.values().map(|c| c.0).sum::<u32>() > 0, "{rdb:?}");

    // partition tikv-0 from everyone: its open links go at once, new ones are refused.
    let part = pg.as_partition().unwrap();
    part.partition(&grudge_isolating(&nodes, &["tikv-0".to_string()]))
        .await
        .unwrap();
    let open = pg.links().open();
    assert!(
        !open
            .iter()
            .any(|(a, b)| a.as_deref() == Some("tikv-0") || b == "tikv-0"),
        "links of tikv-0 left open: {open:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = pg.links().refused();
    let (r0, r1) = tokio::join!(
        reach(&pg, "tikv-0", Duration::from_millis(1500)),
        reach(&pg, "tikv-1", Duration::from_millis(1500))
    );
    assert!(
        ok(&r0, &tikv_addr(&pg, 1)) == 0 && failed(&r0, &tikv_addr(&pg, 1)) > 0,
        "{r0:?}"
    );
    assert!(
        r0.iter()
            .filter(|(k, _)| k.starts_with("pd "))
            .all(|(_, c)| c.0 == 0),
        "{r0:?}"
    );
    assert!(
        ok(&r1, &tikv_addr(&pg, 0)) == 0 && failed(&r1, &tikv_addr(&pg, 0)) > 0,
        "{r1:?}"
    );
    assert!(
        ok(&r1, &tikv_addr(&pg, 2)) > 0,
        "tikv-1 and tikv-2 must still talk: {r1:?}"
    );
    assert!(pg.links().refused() > refused);
    let refused_during = pg.links().refused() - refused;
    part.heal_network().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r0 = reach_until(&pg, "tikv-0", |r| ok(r, &tikv_addr(&pg, 1)) > 0).await;
    let r1 = reach_until(&pg, "tikv-1", |r| ok(r, &tikv_addr(&pg, 0)) > 0).await;
    assert!(
        ok(&r0, &tikv_addr(&pg, 1)) > 0 && ok(&r1, &tikv_addr(&pg, 0)) > 0,
        "{r0:?} {r1:?}"
    );
    println!("  partition of tikv-0: {refused_during} connections refused in 1.5 s, healed");

    // kill -9 tikv-2 and restart it with the same flags.
    let kill = pg.as_kill().unwrap();
    let old = pg.pid("tikv-2").unwrap();
    kill.kill("tikv-2").await.unwrap();
    assert!(pg.pid("tikv-2").is_none() && proc_state(old).is_none());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r0 = reach(&pg, "tikv-0", Duration::from_millis(1000)).await;
    assert!(
        ok(&r0, &tikv_addr(&pg, 2)) == 0 && failed(&r0, &tikv_addr(&pg, 2)) > 0,
        "{r0:?}"
    );
    kill.start("tikv-2").await.unwrap();
    let new = pg.pid("tikv-2").unwrap();
    assert_ne!(new, old);
    pg.wait_ready(Duration::from_secs(30)).await.unwrap();
    assert_eq!(cmdline(new), kv2, "restarted with other flags");
    let r0 = reach_until(&pg, "tikv-0", |r| ok(r, &tikv_addr(&pg, 2)) > 0).await;
    assert!(ok(&r0, &tikv_addr(&pg, 2)) > 0, "{r0:?}");

    // SIGSTOP tikv-1: it logs nothing and answers nobody; SIGCONT: back.
    let pause = pg.as_pause().unwrap();
    let pid1 = pg.pid("tikv-1").unwrap();
    pause.pause("tikv-1").await.unwrap();
    // The stop is delivered asynchronously: give the kernel a moment.
    let start = Instant::now();
    while proc_state(pid1) != Some('T') && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(proc_state(pid1), Some('T'));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (r0, r1) = tokio::join!(
        reach(&pg, "tikv-0", Duration::from_millis(1500)),
        reach(&pg, "tikv-1", Duration::from_millis(1500))
    );
    assert!(r1.is_empty(), "a paused stand-in logged {r1:?}");
    assert_eq!(ok(&r0, &tikv_addr(&pg, 1)), 0, "{r0:?}");
    pause.resume("tikv-1").await.unwrap();
    let r0 = reach_until(&pg, "tikv-0", |r| ok(r, &tikv_addr(&pg, 1)) > 0).await;
    assert!(ok(&r0, &tikv_addr(&pg, 1)) > 0, "{r0:?}");
    assert_ne!(proc_state(pid1), Some('T'));

    // kill_pd_leader: PD names pd-0 (the stand-ins' rule: lowest reachable name).
    wait_leader(&pg, "pd-0").await;
    let pd_nodes: Vec<String> = nodes
        .iter()
        .filter(|n| n.starts_with("pd-"))
        .cloned()
        .collect();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
    assert_eq!(KillPdLeader.targets(&nodes, &mut rng), pd_nodes);
    let old = pg.pid("pd-0").unwrap();
    let hit = KillPdLeader
        .start_hitting(&pg, &pd_nodes, &serde_json::Value::Null)
        .await
        .unwrap();
    assert_eq!(
        hit,
        Some(vec!["pd-0".to_string()]),
        "the op records the member killed"
    );
    assert!(pg.pid("pd-0").is_none() && proc_state(old).is_none());
    assert!(pg.pid("pd-1").is_some() && pg.pid("pd-2").is_some());
    wait_leader(&pg, "pd-1").await;
    KillPdLeader.stop(&pg, &pd_nodes).await.unwrap();
    assert!(pg.pid("pd-0").is_some_and(|p| p != old));
    wait_leader(&pg, "pd-0").await;
    pg.wait_ready(Duration::from_secs(30)).await.unwrap();

    // Teardown: no process, no proxy port, no temp dir.
    let pids: Vec<u32> = nodes.iter().filter_map(|n| pg.pid(n)).collect();
    assert_eq!(pids.len(), nodes.len());
    let ports = pg.proxy_ports();
    assert_eq!(ports.len(), 3 * 2 + 3);
    pg.teardown().await.unwrap();
    for pid in &pids {
        assert_eq!(proc_state(*pid), None, "pid {pid} survived teardown");
    }
    for port in &ports {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", *port)).is_err(),
            "proxy port {port} still open"
        );
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
    drop(pg);
    let strays: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            cmdline(*pid)
                .iter()
                .any(|a| a.contains(dir.to_str().unwrap()))
        })
        .collect();
    assert!(
        strays.is_empty(),
        "processes of {} left: {strays:?}",
        dir.display()
    );
}

/// In a child process (this binary again, `FL_PLAYGROUND_OWNER` naming the stand-ins' dir):
/// starts a small playground, prints its temp dir and waits to be killed.
fn owner_if_asked() {
    let Ok(bin) = std::env::var("FL_PLAYGROUND_OWNER") else {
        return;
    };
    let bin = std::path::PathBuf::from(bin);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pg = rt
        .block_on(TidbPlayground::start(TidbOptions {
            pd_path: bin.join("pd-server"),
            tikv_path: bin.join("tikv-server"),
            tidb_path: bin.join("tidb-server"),
            pd_count: 1,
            tikv_count: 1,
            tidb_count: 1,
            start_timeout: Duration::from_secs(60),
        }))
        .expect("stand-in cluster starts");
    println!("{}", pg.temp_dir().display());
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// kill -9 of the harness that owns a playground, then `clean`: its servers run on the host,
/// in no namespace, and clean finds them by their command lines and kills them.
fn kill_9_of_the_owner_then_clean_removes_the_playground(bin: &Path) {
    use std::io::BufRead;
    let mut owner = std::process::Command::new(std::env::current_exe().unwrap())
        .env("FL_PLAYGROUND_OWNER", bin)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(owner.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let dir = std::path::PathBuf::from(line.trim());
    assert!(dir.exists(), "the owner printed no temp dir: {line:?}");
    owner.kill().unwrap();
    owner.wait().unwrap();
    let before = faultline_cluster::leftovers::processes_under(&dir);
    assert_eq!(before.len(), 3, "servers outlive their owner: {before:?}");

    let cleaned = faultline_cluster::clean::clean(false);
    assert_eq!(cleaned.processes.len(), 3, "{:?}", cleaned.processes);
    let start = Instant::now();
    while !faultline_cluster::leftovers::processes_under(&dir).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!dir.exists(), "{} left", dir.display());
}

fn main() {
    tidb_standin::run_if_standin();
    owner_if_asked();
    let tests = [
        "galera_cluster_survives_kill_and_partition_and_cleans_up",
        "a_missing_binary_is_one_line_naming_its_flag",
        "standin_cluster_is_partitioned_killed_paused_and_torn_down",
        "kill_9_of_the_owner_then_clean_removes_the_playground",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for t in tests {
            println!("{t}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<&str> = tests
        .into_iter()
        .filter(|t| filters.is_empty() || filters.iter().any(|f| t.contains(f.as_str())))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    println!("\nrunning {} tests", chosen.len());
    let standins = Standins::create();
    for t in &chosen {
        match *t {
            "galera_cluster_survives_kill_and_partition_and_cleans_up" => rt
                .block_on(local_galera::galera_cluster_survives_kill_and_partition_and_cleans_up()),
            "a_missing_binary_is_one_line_naming_its_flag" => {
                rt.block_on(a_missing_binary_is_one_line_naming_its_flag())
            }
            "kill_9_of_the_owner_then_clean_removes_the_playground" => {
                kill_9_of_the_owner_then_clean_removes_the_playground(&standins.0)
            }
            _ => rt.block_on(standin_cluster_is_partitioned_killed_paused_and_torn_down(
                &standins.0,
            )),
        }
        println!("test {t} ... ok");
    }
    drop(standins);
    println!(
        "\ntest result: ok. {} passed; 0 failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        chosen.len(),
        tests.len() - chosen.len(),
        started.elapsed().as_secs_f64()
    );
}
