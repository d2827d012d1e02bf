//! `faultline cluster ...`: a local cluster that keeps running between commands, like a
//! playground with error injection. `start` runs the control daemon (in the foreground, or
//! in the background with `--detach`); the other verbs talk to it over its socket.

use clap::{Args, Subcommand};
use faultline_cluster::{GaleraOptions, LocalGalera};
use faultline_harness::control::{self, Request};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
pub struct StartArgs {
    /// local-galera or local-mariadb.
    #[arg(long, default_value = "local-galera")]
    pub db: String,
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// `name=value` put into every node's [mysqld] configuration (repeatable).
    #[arg(long = "server-option")]
    pub server_options: Vec<String>,
    /// Return once the cluster is ready and leave it running in the background.
    #[arg(long)]
    pub detach: bool,
    /// Put each node's data dir on a FUSE passthrough so disk faults (io_delay, io_error,
    /// disk_hang, disk_full) can be injected.
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

/// Runs one `faultline cluster` command; returns the exit code.
pub fn run(name: &str, action: ClusterAction) -> i32 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let request = match action {
        ClusterAction::Start(args) if args.detach => return start_detached(name, &args),
        ClusterAction::Start(args) => return rt.block_on(start_foreground(name, args)),
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
        ClusterAction::Status => Request::Status,
        ClusterAction::Kill { node } => Request::Kill { node },
        ClusterAction::Restart { node } => Request::Restart { node },
        ClusterAction::Pause { node } => Request::Pause { node },
        ClusterAction::Resume { node } => Request::Resume { node },
        ClusterAction::Partition { node, from } => Request::Partition { node, from },
        ClusterAction::Skew { node, offset } => match parse_offset_ms(&offset) {
            Some(offset_ms) => Request::Skew { node, offset_ms },
            None => {
                eprintln!("error: skew offset {offset:?}: give e.g. +300ms, -2s or 150ms");
                return faultline_harness::EXIT_BAD_ARGS;
            }
        },
        ClusterAction::Loss { node, percent } => {
            match percent.trim_end_matches('%').parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => Request::Loss { node, percent: p },
                _ => {
                    eprintln!("error: loss {percent:?}: give a share like 20%");
                    return faultline_harness::EXIT_BAD_ARGS;
                }
            }
        }
        ClusterAction::Delay {
            node,
            delay,
            jitter,
        } => match (parse_offset_ms(&delay), parse_offset_ms(&jitter)) {
            (Some(delay_ms), Some(jitter_ms)) if delay_ms >= 0 && jitter_ms >= 0 => {
                Request::Delay {
                    node,
                    delay_ms: delay_ms as u64,
                    jitter_ms: jitter_ms as u64,
                }
            }
            _ => {
                eprintln!(
                    "error: delay {delay:?} --jitter {jitter:?}: give durations like 200ms or 1s"
                );
                return faultline_harness::EXIT_BAD_ARGS;
            }
        },
        ClusterAction::Heal { node } => Request::Heal { node },
        ClusterAction::Fault {
            name: fault,
            action,
            nodes,
        } => Request::Fault {
            name: fault,
            action,
            nodes,
        },
        ClusterAction::Stop => Request::Stop,
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
    for n in s["nodes"].as_array().into_iter().flatten() {
        println!(
            "{:<4} pid {:<8} {:<7} {:<10} {:<12} size {}  partition rules {}",
            n["node"].as_str().unwrap_or(""),
            n["pid"].as_u64().map_or("-".into(), |p| p.to_string()),
            if n["ready"] == true { "ready" } else { "down" },
            n["state"].as_str().unwrap_or(""),
            n["cluster_status"].as_str().unwrap_or(""),
            n["cluster_size"],
            n["partition_rules"],
        );
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

async fn start_foreground(name: &str, args: StartArgs) -> i32 {
    let socket = control::socket_path(name);
    if control::request(name, &Request::Status).await.is_ok() {
        eprintln!(
            "error: a cluster named {name:?} is already running: `faultline cluster stop` first"
        );
        return 1;
    }
    let server_options = match faultline_harness::options::parse_server_options(
        "--server-option",
        &args.server_options,
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return faultline_harness::EXIT_BAD_ARGS;
        }
    };
    // The pid file comes first: `clean` leaves the dir of a live daemon alone.
    let dir = control::control_dir(name);
    if let Err(e) = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(dir.join("daemon.pid"), std::process::id().to_string()))
    {
        eprintln!("error: {}: {e}", dir.display());
        return faultline_harness::EXIT_HARNESS_FAILURE;
    }
    let opts = GaleraOptions {
        nodes: args.nodes,
        galera: args.db != "local-mariadb",
        server_options,
        disk_faults: args.disk_faults,
        ..Default::default()
    };
    let cluster = match LocalGalera::start(opts).await {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("error: {e}");
            return faultline_harness::EXIT_HARNESS_FAILURE;
        }
    };
    for e in cluster.endpoints() {
        println!("{} {e}", e.node);
    }
    let shutdown = faultline_harness::run::cancel_on_signals();
    println!("control socket {}", socket.display());
    let served = control::serve(cluster.clone(), &socket, shutdown).await;
    drop(cluster);
    let _ = std::fs::remove_dir_all(control::control_dir(name));
    match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            faultline_harness::EXIT_HARNESS_FAILURE
        }
    }
}

fn start_detached(name: &str, args: &StartArgs) -> i32 {
    let dir = control::control_dir(name);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: {e}");
        return faultline_harness::EXIT_HARNESS_FAILURE;
    }
    let log = dir.join("daemon.log");
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "cluster",
        "--name",
        name,
        "start",
        "--db",
        &args.db,
        "--nodes",
        &args.nodes.to_string(),
    ]);
    for o in &args.server_options {
        cmd.args(["--server-option", o]);
    }
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
