//! `faultline cluster`: a detached cluster driven command by command (kill, restart,
//! partition, heal, a catalogue fault by name, stop), and a daemon killed with -9 whose
//! leftovers `faultline cluster clean` removes while it leaves live labs alone. Real servers,
//! started by the commands. Checks are scoped to the test's own lab: other tests and runs
//! may have clusters up at the same time.

use std::process::Command;
use std::time::{Duration, Instant};

fn faultline(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn cluster(name: &str, args: &[&str]) -> String {
    let mut all = vec!["cluster", "--name", name];
    all.extend_from_slice(args);
    let (code, out) = faultline(&all);
    assert_eq!(code, 0, "faultline {}: {out}", all.join(" "));
    out
}

/// Stops the named cluster when dropped: a failed assertion must not leave it running.
struct StopOnDrop(String);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = faultline(&["cluster", "--name", &self.0, "stop"]);
        }
    }
}

fn node_line<'a>(status: &'a str, node: &str) -> &'a str {
    status
        .lines()
        .find(|l| l.starts_with(&format!("{node} ")))
        .unwrap_or("")
}

fn wait_status(name: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let s = cluster(name, &["status"]);
        if ok(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "never {what}: {s}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The lab prefix `status` prints (`local-galera lab fl123`).
fn lab_of(status: &str) -> String {
    status
        .lines()
        .find_map(|l| l.split(" lab ").nth(1))
        .expect("status names the lab")
        .trim()
        .to_string()
}

/// UNIX_TIMESTAMP(NOW(6)) on node `k`, through the endpoint `status` prints.
fn now_on(status: &str, k: usize) -> f64 {
    use mysql_async::prelude::Queryable;
    let url = status
        .lines()
        .filter_map(|l| l.strip_prefix("endpoint "))
        .nth(k - 1)
        .expect("status lists the endpoints")
        .replace(":***@", ":jepsen@");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = mysql_async::Conn::from_url(url).await.unwrap();
        let t: String = c
            .query_first("SELECT UNIX_TIMESTAMP(NOW(6))")
            .await
            .unwrap()
            .unwrap();
        let _ = c.disconnect().await;
        t.parse().unwrap()
    })
}

fn namespaces() -> Vec<String> {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Our lab's namespaces.
fn lab_namespaces(lab: &str) -> Vec<String> {
    namespaces()
        .into_iter()
        .filter(|n| n.strip_prefix(lab).is_some_and(|r| r.starts_with('n')))
        .collect()
}

/// How many loss rules (iptables mangle table) node `k` of `lab` has.
fn mangle_rules(lab: &str, k: usize) -> usize {
    let out = Command::new("ip")
        .args(["netns", "exec", &format!("{lab}n{k}"), "iptables", "-w"])
        .args(["-t", "mangle", "-S"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("-A"))
        .count()
}

#[test]
fn a_detached_cluster_obeys_commands_and_stops_clean() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let name = format!("it{}", std::process::id());
    let _stop = StopOnDrop(name.clone());
    let out = cluster(&name, &["start", "--detach"]);
    assert_eq!(
        out.lines().filter(|l| l.contains(" ready ")).count(),
        3,
        "{out}"
    );
    let lab = lab_of(&out);
    assert_eq!(lab_namespaces(&lab).len(), 3);

    cluster(&name, &["kill", "n2"]);
    let s = cluster(&name, &["status"]);
    assert!(node_line(&s, "n2").contains("pid -"), "{s}");
    assert!(s.contains("killed n2"), "{s}");
    cluster(&name, &["restart", "n2"]);
    wait_status(&name, "all ready", |s| {
        ["n1", "n2", "n3"]
            .iter()
            .all(|n| node_line(s, n).contains(" ready "))
    });

    cluster(&name, &["partition", "n3"]);
    wait_status(&name, "n3 non-Primary", |s| {
        node_line(s, "n3").contains("non-Primary")
    });
    let s = cluster(&name, &["status"]);
    assert!(s.contains("n3 drops n1,n2"), "{s}");
    cluster(&name, &["heal", "n3"]);
    wait_status(&name, "n3 back", |s| {
        node_line(s, "n3").contains(" ready ") && s.contains("active faults: none")
    });

    cluster(&name, &["fault", "partition_one", "start", "--nodes", "n1"]);
    wait_status(&name, "n1 non-Primary", |s| {
        node_line(s, "n1").contains("non-Primary")
    });
    cluster(&name, &["heal"]);
    wait_status(&name, "n1 back", |s| node_line(s, "n1").contains(" ready "));

    // Clock skew by hand: n2's NOW() runs 300 ms ahead of n1's; loss shows as active.
    cluster(&name, &["skew", "n2", "+300ms"]);
    cluster(&name, &["loss", "n3", "20%"]);
    let s = cluster(&name, &["status"]);
    assert!(
        s.contains("skew n2 +300ms") && s.contains("loss n3 20%"),
        "{s}"
    );
    let skew = now_on(&s, 2) - now_on(&s, 1);
    assert!((0.25..0.6).contains(&skew), "n2 - n1 = {skew} s");
    // Healing one node undoes only that node's faults: n2's clock, then n3's loss.
    cluster(&name, &["heal", "n2"]);
    let s = cluster(&name, &["status"]);
    let skew = now_on(&s, 2) - now_on(&s, 1);
    assert!(skew.abs() < 0.2, "after heal n2, n2 - n1 = {skew} s");
    assert!(mangle_rules(&lab, 3) > 0, "n3's loss survives heal n2");
    cluster(&name, &["heal", "n3"]);
    let s = cluster(&name, &["status"]);
    assert!(s.contains("active faults: none"), "{s}");
    assert_eq!(mangle_rules(&lab, 3), 0, "heal n3 removes its loss rules");

    // A catalogue fault started on nodes of its own choice stops on those same nodes.
    let started = cluster(&name, &["fault", "loss", "start"]);
    let k: usize = (1..=3)
        .find(|k| mangle_rules(&lab, *k) > 0)
        .unwrap_or_else(|| panic!("loss took no effect: {started}"));
    cluster(&name, &["fault", "loss", "stop"]);
    assert_eq!(mangle_rules(&lab, k), 0);
    let s = cluster(&name, &["status"]);
    assert!(s.contains("active faults: none"), "{s}");

    let (code, out) = faultline(&[
        "cluster",
        "--name",
        &name,
        "fault",
        "no_such_fault",
        "start",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("unknown nemesis"), "{out}");

    cluster(&name, &["stop"]);
    std::thread::sleep(Duration::from_secs(1));
    let (code, out) = faultline(&["cluster", "--name", &name, "status"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no cluster named"), "{out}");
    let left = lab_namespaces(&lab);
    assert!(left.is_empty(), "namespaces left: {left:?}");
}

#[test]
fn kill_9_of_the_daemon_then_clean_leaves_nothing() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let name = format!("k9{}", std::process::id());
    let out = cluster(&name, &["start", "--detach"]);
    let pid: i32 = out
        .lines()
        .find_map(|l| l.strip_prefix("daemon pid "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("start prints the daemon pid");
    let lab = lab_of(&out);
    // One fault of every kind the daemon holds: a partition, a pause, a clock skew, packet
    // loss and a bandwidth cap (tbf on a veth in the root namespace).
    cluster(&name, &["partition", "n1"]);
    cluster(&name, &["pause", "n2"]);
    cluster(&name, &["skew", "n3", "+300ms"]);
    cluster(&name, &["loss", "n3", "20%"]);
    cluster(&name, &["fault", "bandwidth", "start", "--nodes", "n1"]);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let ours = lab_namespaces(&lab);
    assert_eq!(
        ours.len(),
        3,
        "the servers outlive the daemon until clean: {ours:?}"
    );

    let (code, out) = faultline(&["cluster", "clean"]);
    assert_eq!(code, 0, "{out}");
    let left = lab_namespaces(&lab);
    assert!(
        left.is_empty(),
        "namespaces left after clean: {left:?} ({out})"
    );
    // Namespaces and links (the veth that carried the tbf cap) are gone too.
    let left = faultline_cluster::leftovers::leftovers(&lab, std::path::Path::new(""));
    assert!(left.is_empty(), "left after clean: {left:?}");
    assert!(!std::env::temp_dir()
        .join(format!("faultline-fl-ctl-{name}"))
        .exists());
    // No process of that lab survives, paused or not.
    let ps = Command::new("ps")
        .args(["-eo", "stat=,args="])
        .output()
        .unwrap();
    for line in String::from_utf8_lossy(&ps.stdout).lines() {
        assert!(
            !line.contains(&format!("faultline-{lab}-")),
            "a process of {lab} survived: {line}"
        );
    }
}

/// The same CLI drives a system that is not SQL: `--db etcd` comes from the etcd example's
/// recipe, and a fault it cannot take (a clock skew of a Go binary) is refused in one line.
#[test]
fn a_detached_etcd_cluster_obeys_the_same_commands() {
    let _slot = faultline_cluster::test_slots::exclusive();
    let name = format!("etcd{}", std::process::id());
    let _stop = StopOnDrop(name.clone());
    let out = cluster(&name, &["start", "--db", "etcd", "--detach"]);
    assert!(
        out.starts_with("etcd lab ") || out.contains("\netcd lab "),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.contains(" ready ")).count(),
        3,
        "{out}"
    );
    assert_eq!(out.matches(" leader true").count(), 1, "one leader: {out}");
    let lab = lab_of(&out);
    assert_eq!(lab_namespaces(&lab).len(), 3);

    cluster(&name, &["kill", "n2"]);
    let s = cluster(&name, &["status"]);
    assert!(node_line(&s, "n2").contains("pid -"), "{s}");
    cluster(&name, &["restart", "n2"]);
    wait_status(&name, "all ready", |s| {
        ["n1", "n2", "n3"]
            .iter()
            .all(|n| node_line(s, n).contains(" ready "))
    });

    cluster(&name, &["partition", "n3"]);
    let s = cluster(&name, &["status"]);
    assert!(s.contains("n3 drops n1,n2"), "{s}");
    assert!(!node_line(&s, "n3").contains("partition_rules 0"), "{s}");
    cluster(&name, &["heal"]);
    wait_status(&name, "healed, one leader", |s| {
        s.contains("active faults: none") && s.matches(" leader true").count() == 1
    });

    let (code, out) = faultline(&["cluster", "--name", &name, "skew", "n1", "+300ms"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("libfaketime does not reach it"), "{out}");
    assert_eq!(out.trim().lines().count(), 1, "not one line: {out}");

    cluster(&name, &["stop"]);
    std::thread::sleep(Duration::from_secs(1));
    let left = lab_namespaces(&lab);
    assert!(left.is_empty(), "namespaces left: {left:?}");
}
