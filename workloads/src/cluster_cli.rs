//! `faultline cluster ...`: a system that keeps running between commands, like a
//! playground with error injection. `start` plans the system with the same recipes and
//! options as a test (`--db`, `--nodes`, each system's own options) and runs the control
//! daemon (in the foreground, or in the background with `--detach`); the other verbs talk
//! to it over its socket. The verbs are aliases for faults of the catalogue: `kill n2` is
//! `fault random_kill start --nodes n2`, `skew n2 +300ms` a clock skew with that offset.

use clap::{Args, Subcommand};
use faultline_core::db::Capability;
use faultline_harness::control::{self, Request};
use faultline_harness::{Registry, SystemArgs};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
pub struct StartArgs {
    /// The system (`faultline list systems`; default: the first); its own options are
    /// accepted too.
    #[arg(long)]
    pub db: Option<String>,
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Return once the cluster is ready and leave it running in the background.
    #[arg(long)]
    pub detach: bool,
    /// Start the system able to take disk faults (io_delay, io_error, disk_hang,
    /// disk_full): on the local cluster, each data dir on a FUSE passthrough.
    #[arg(long)]
    pub disk_faults: bool,
}

#[derive(Subcommand, Clone, Debug)]
pub enum ClusterAction {
    /// Start a cluster and print its endpoints.
    Start(StartArgs),
    /// Each node's pid, state, membership, partition rules, and the active faults.
    Status,
    /// kill -9 a node.
    Kill { node: String },
    /// Start a killed node (its position recovered first, so it rejoins by IST).
    Restart { node: String },
    /// SIGSTOP a node.
    Pause { node: String },
    /// SIGCONT a node.
    Resume { node: String },
    /// Cut a node off from the others (or from `--from n2,n3`), both directions.
    Partition {
        node: String,
        #[arg(long, value_delimiter = ',')]
        from: Option<Vec<String>>,
    },
    /// Shift a node's wall clock: `skew n2 +300ms`, `skew n1 -2s` (libfaketime).
    Skew {
        node: String,
        #[arg(allow_hyphen_values = true)]
        offset: String,
    },
    /// Drop a share of the packets between a node and its peers: `loss n3 20%`.
    Loss { node: String, percent: String },
    /// Hold the packets between a node and its peers: `delay n3 200ms --jitter 50ms`
    /// (0ms removes it). A round trip to the node grows by about twice the delay.
    Delay {
        node: String,
        delay: String,
        #[arg(long, default_value = "0ms")]
        jitter: String,
    },
    /// Undo every fault, or every fault of one node.
    Heal { node: Option<String> },
    /// Start or stop any fault of the catalogue (`faultline list nemeses`) by name.
    Fault {
        name: String,
        /// start or stop
        action: String,
        #[arg(long, value_delimiter = ',')]
        nodes: Option<Vec<String>>,
    },
    /// Heal, shut every node down and remove the namespaces.
    Stop,
    /// Remove everything a killed harness left behind: processes in our namespaces, the
    /// namespaces, bridges, temp dirs, control sockets, libfaketime shm files. Labs whose
    /// owner is still running are left alone unless `--force`.
    Clean {
        #[arg(long)]
        force: bool,
    },
}

fn bad(msg: String) -> Result<Request, i32> {
    eprintln!("error: {msg}");
    Err(faultline_harness::EXIT_BAD_ARGS)
}

fn fault(name: &str, action: &str, node: String, params: Option<Value>) -> Request {
    Request::Fault {
        name: name.into(),
        action: action.into(),
        nodes: Some(vec![node]),
        params,
    }
}

/// The skew band whose range holds `ms` (the history then names the band it belongs to).
fn skew_band(ms: i64) -> &'static str {
    match ms.unsigned_abs() {
        0..=100 => "small_skews",
        101..=200 => "subcritical_skews",
        201..=250 => "critical_skews",
        251..=500 => "big_skews",
        _ => "huge_skews",
    }
}

/// The request a verb stands for.
fn request_of(action: ClusterAction) -> Result<Request, i32> {
    Ok(match action {
        ClusterAction::Status => Request::Status,
        ClusterAction::Kill { node } => fault("random_kill", "start", node, None),
        ClusterAction::Restart { node } => fault("random_kill", "stop", node, None),
        ClusterAction::Pause { node } => fault("pause_one", "start", node, None),
        ClusterAction::Resume { node } => fault("pause_one", "stop", node, None),
        ClusterAction::Partition { node, from } => match from.as_deref() {
            None => fault("partition_one", "start", node, None),
            Some([other]) => Request::Fault {
                name: "partition_link".into(),
                action: "start".into(),
                nodes: Some(vec![node, other.clone()]),
                params: None,
            },
            Some(_) => {
                return bad(format!(
                    "partition {node} --from: give one node (or none: cut {node} from all)"
                ))
            }
        },
        ClusterAction::Skew { node, offset } => match parse_offset_ms(&offset) {
            Some(ms) => {
                let params = json!({ "offsets_ms": { node.clone(): ms } });
                fault(skew_band(ms), "start", node, Some(params))
            }
            None => {
                return bad(format!(
                    "skew offset {offset:?}: give e.g. +300ms, -2s or 150ms"
                ))
            }
        },
        ClusterAction::Loss { node, percent } => {
            match percent.trim_end_matches('%').parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => {
                    fault("loss", "start", node, Some(json!({ "percent": p })))
                }
                _ => return bad(format!("loss {percent:?}: give a share like 20%")),
            }
        }
        ClusterAction::Delay {
            node,
            delay,
            jitter,
        } => match (parse_offset_ms(&delay), parse_offset_ms(&jitter)) {
            (Some(0), Some(0)) => fault("delay", "stop", node, None),
            (Some(d), Some(j)) if d >= 0 && j >= 0 => fault(
                "delay",
                "start",
                node,
                Some(json!({ "delay_ms": d, "jitter_ms": j })),
            ),
            _ => {
                return bad(format!(
                    "delay {delay:?} --jitter {jitter:?}: give durations like 200ms or 1s"
                ))
            }
        },
        ClusterAction::Heal { node } => Request::Heal { node },
        ClusterAction::Fault {
            name,
            action,
            nodes,
        } => Request::Fault {
            name,
            action,
            nodes,
            params: None,
        },
        ClusterAction::Stop => Request::Stop,
        ClusterAction::Start(_) | ClusterAction::Clean { .. } => {
            unreachable!("handled by run")
        }
    })
}

/// Runs one `faultline cluster` command; returns the exit code. `start` are the parsed
/// arguments of `cluster start` (with every recipe's options).
pub fn run(
    registry: &Registry,
    name: &str,
    action: ClusterAction,
    start: Option<&clap::ArgMatches>,
) -> i32 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let request = match action {
        ClusterAction::Start(args) if args.detach => return start_detached(name),
        ClusterAction::Start(args) => {
            let empty = clap::ArgMatches::default();
            return rt.block_on(start_foreground(
                registry,
                name,
                args,
                start.unwrap_or(&empty),
            ));
        }
        ClusterAction::Clean { force } => {
            let c = faultline_cluster::clean::clean(force);
            let in_use = if c.in_use.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.in_use.join(", "))
            };
            println!(
                "removed {} namespace(s), {} link(s), {} process(es), {} mount(s), {} dir(s); left {} in use{in_use}",
                c.namespaces.len(),
                c.links.len(),
                c.processes.len(),
                c.mounts.len(),
                c.dirs.len(),
                c.in_use.len(),
            );
            return 0;
        }
        other => match request_of(other) {
            Ok(r) => r,
            Err(code) => return code,
        },
    };
    let status = matches!(request, Request::Status);
    match rt.block_on(control::request(name, &request)) {
        Ok(r) if r.ok => {
            if status {
                print_status(&r.data);
            } else {
                println!("{}", r.message);
            }
            0
        }
        Ok(r) => {
            eprintln!("error: {}", r.message);
            1
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// `+300ms` -> 300, `-2s` -> -2000, `150ms` -> 150.
fn parse_offset_ms(s: &str) -> Option<i64> {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    let (number, unit) = if let Some(n) = rest.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = rest.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    let v: f64 = number.parse().ok()?;
    Some((sign * v * unit).round() as i64)
}

fn print_status(s: &Value) {
    println!(
        "{} lab {}",
        s["db"].as_str().unwrap_or(""),
        s["lab"].as_str().unwrap_or("")
    );
    // The fields every system reports, then whatever its recipe adds (Galera: state,
    // cluster_status, cluster_size; etcd: leader, member_id), `name value`, nulls left out.
    for n in s["nodes"].as_array().into_iter().flatten() {
        let mut line = format!(
            "{:<4} pid {:<8} {:<5}",
            n["node"].as_str().unwrap_or(""),
            n["pid"].as_u64().map_or("-".into(), |p| p.to_string()),
            if n["ready"] == true { "ready" } else { "down" },
        );
        for (k, v) in n.as_object().into_iter().flatten() {
            if matches!(k.as_str(), "node" | "pid" | "ready") || v.is_null() {
                continue;
            }
            match v.as_str() {
                Some(text) => line.push_str(&format!(" {k} {text}")),
                None => line.push_str(&format!(" {k} {v}")),
            }
        }
        println!("{line}");
    }
    for e in s["endpoints"].as_array().into_iter().flatten() {
        println!("endpoint {}", e.as_str().unwrap_or(""));
    }
    let faults: Vec<&str> = s["active_faults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!(
        "active faults: {}",
        if faults.is_empty() {
            "none".to_string()
        } else {
            faults.join("; ")
        }
    );
}

async fn start_foreground(
    registry: &Registry,
    name: &str,
    args: StartArgs,
    matches: &clap::ArgMatches,
) -> i32 {
    let socket = control::socket_path(name);
    if control::request(name, &Request::Status).await.is_ok() {
        eprintln!(
            "error: a cluster named {name:?} is already running: `faultline cluster stop` first"
        );
        return 1;
    }
    let Some(db) = args
        .db
        .clone()
        .or_else(|| registry.recipes().next().map(|r| r.name().to_string()))
    else {
        eprintln!("error: no system is registered: give --db");
        return faultline_harness::EXIT_BAD_ARGS;
    };
    let system = SystemArgs {
        db,
        nodes: args.nodes,
    };
    let plan = match registry.plan(&system, matches) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return faultline_harness::EXIT_BAD_ARGS;
        }
    };
    if let Err(e) = plan.preflight() {
        eprintln!("error: {e:#}");
        return faultline_harness::EXIT_HARNESS_FAILURE;
    }
    // The pid file comes first: `clean` leaves the dir of a live daemon alone.
    let dir = control::control_dir(name);
    if let Err(e) = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("daemon.pid"), std::process::id().to_string()))
    {
        eprintln!("error: {}: {e}", dir.display());
        return faultline_harness::EXIT_HARNESS_FAILURE;
    }
    let needs: BTreeSet<Capability> = if args.disk_faults {
        [Capability::Disk].into()
    } else {
        BTreeSet::new()
    };
    let sut = match plan.start(&needs).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            let _ = std::fs::remove_dir_all(&dir);
            return faultline_harness::EXIT_HARNESS_FAILURE;
        }
    };
    for e in &sut.endpoints {
        println!("{} {e}", e.node);
    }
    let shutdown = faultline_harness::run::cancel_on_signals();
    println!("control socket {}", socket.display());
    let served = control::serve(sut.db.clone(), sut.endpoints.clone(), &socket, shutdown).await;
    // However the daemon ends (stop, Ctrl-C, SIGTERM), nothing of the system stays behind.
    let _ = sut.db.teardown().await;
    drop(sut);
    let _ = std::fs::remove_dir_all(control::control_dir(name));
    match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            faultline_harness::EXIT_HARNESS_FAILURE
        }
    }
}

/// Starts `faultline cluster start` with this command's own arguments, minus `--detach`,
/// in the background, and waits until it answers.
fn start_detached(name: &str) -> i32 {
    let dir = control::control_dir(name);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: {e}");
        return faultline_harness::EXIT_HARNESS_FAILURE;
    }
    let log = dir.join("daemon.log");
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = Command::new(exe);
    cmd.args(std::env::args_os().skip(1).filter(|a| a != "--detach"));
    let out = std::fs::File::create(&log).expect("daemon log");
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log handle"))
        .stderr(out)
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: starting the daemon: {e}");
            return faultline_harness::EXIT_HARNESS_FAILURE;
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    loop {
        if let Ok(r) = rt.block_on(control::request(name, &Request::Status)) {
            print_status(&r.data);
            println!("daemon pid {} (log {})", child.id(), log.display());
            return 0;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!(
                "error: the cluster daemon exited ({status}): {}",
                text.lines().last().unwrap_or("")
            );
            return faultline_harness::EXIT_HARNESS_FAILURE;
        }
        if started.elapsed() > Duration::from_secs(300) {
            eprintln!(
                "error: the cluster was not ready after 300 s; see {}",
                log.display()
            );
            return faultline_harness::EXIT_HARNESS_FAILURE;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

use std::os::unix::process::CommandExt;

#[cfg(test)]
mod tests {
    #[test]
    fn offsets_take_a_sign_and_a_unit() {
        assert_eq!(super::parse_offset_ms("+300ms"), Some(300));
        assert_eq!(super::parse_offset_ms("-2s"), Some(-2000));
        assert_eq!(super::parse_offset_ms("1.5s"), Some(1500));
        assert_eq!(super::parse_offset_ms("300"), None);
    }
}
