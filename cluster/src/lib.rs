//! faultline-cluster: the systems under test and how they are controlled.
//!
//! What lives here: [`preflight`] (are mariadbd, Galera, ip and iptables installed?),
//! [`netlab`] (one network namespace per node on a private bridge, iptables partitions inside
//! each namespace), [`process`] (a supervised server process: start in its namespace, kill -9,
//! SIGSTOP/SIGCONT, reap), [`quality`] (packet loss and bandwidth caps in the lab),
//! [`delayline`] (delay with jitter: NFQUEUE rules in a node's namespace and a listener
//! thread inside it that holds each packet, since this kernel has no netem),
//! [`galera`] (the `local-galera` recipe: bootstrap, join, wait for Synced, crash and IST
//! rejoin, whole-cluster recovery, partitions, clocks through libfaketime, teardown),
//! [`tidb`] (the `tidb-playground` recipe, unverified against real TiDB: PD, TiKV and TiDB
//! processes on loopback behind TCP proxies of ours that cut partitioned links),
//! [`external`] (`mysql://...`: an existing cluster, checked node by node), [`endpoint`]
//! (client endpoints with masked passwords), [`disk`] (disk faults: a FUSE passthrough
//! under each node's data dir with a fault switch, feature `fuse`), [`leftovers`] (what a lab left behind) and
//! [`clean`] (removes whatever a killed harness left behind, sparing live owners) and
//! [`test_slots`] (how many server-starting tests of one binary run at once).
//!
//! What does not: no fault schedules (faultline-nemesis), no workloads, no history.
//!
//! Every resource we create carries the prefix `fl<id>` (namespaces `fl<id>n<k>`, the bridge
//! `fl<id>br`) or lives under a temp dir named `faultline-fl<id>-*`, so [`clean`] can find it
//! (FUSE mounts included: they are mounted under that temp dir).

pub mod clean;
pub mod delayline;
pub mod disk;
pub mod endpoint;
pub mod external;
pub mod galera;
pub mod leftovers;
pub mod netlab;
pub mod preflight;
pub mod process;
pub mod quality;
pub mod test_slots;
pub mod tidb;

pub use endpoint::Endpoint;
pub use galera::{GaleraOptions, LocalGalera};
pub use tidb::{TidbOptions, TidbPlayground};

/// Errors from controlling the system under test.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{0}")]
    Missing(String),
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
    #[error("{0}")]
    Timeout(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl From<ClusterError> for faultline_core::db::DbError {
    fn from(e: ClusterError) -> Self {
        faultline_core::db::DbError(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, ClusterError>;

/// Runs a short command to completion; non-zero exit is an error with its stderr.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<String> {
    run_with_input(program, args, None)
}

/// [`run`], writing `input` to the command's stdin first (then closing it).
pub(crate) fn run_with_input(program: &str, args: &[&str], input: Option<&str>) -> Result<String> {
    use std::io::Write;
    let io = |source| ClusterError::Io {
        context: format!("running {program}"),
        source,
    };
    let mut child = std::process::Command::new(program)
        .args(args)
        .stdin(if input.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(io)?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).map_err(io)?;
    }
    let out = child.wait_with_output().map_err(io)?;
    if !out.status.success() {
        return Err(ClusterError::Command {
            command: format!("{program} {}", args.join(" ")),
            stderr: {
                let err = String::from_utf8_lossy(&out.stderr);
                let out = String::from_utf8_lossy(&out.stdout);
                let text = if err.trim().is_empty() { out } else { err };
                text.trim()
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join(" | ")
            },
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
