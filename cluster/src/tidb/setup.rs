//! Before and while the playground starts: the binaries (a missing one is one line naming
//! its flag), the temp dir claim, and readiness (PD members healthy, TiKV status ports and
//! TiDB MySQL ports accepting connections).

use super::components::Role;
use super::{loopback, pd_api, TidbOptions, TidbPlayground};
use crate::{ClusterError, Result};
use rand::Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `path` as an executable file: as given when it names a directory, else found on PATH.
fn resolve(path: &Path, flag: &str) -> Result<String> {
    let missing = || {
        ClusterError::Missing(format!(
            "{} not found: pass {flag} /path/to/{} (TiDB binaries come from tiup or PingCAP's \
             release tarballs; Debian does not package them)",
            path.display(),
            path.file_name().unwrap_or_default().to_string_lossy()
        ))
    };
    let is_exe = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if path.components().count() > 1 {
        let abs = std::path::absolute(path).map_err(|_| missing())?;
        return is_exe(&abs)
            .then(|| abs.display().to_string())
            .ok_or_else(missing);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(path))
        .find(|p| is_exe(p))
        .map(|p| p.display().to_string())
        .ok_or_else(missing)
}

/// Claims a temp dir `faultline-fl<id>-<pid>` (creating it is the claim).
pub(super) fn claim_dir() -> Result<(String, PathBuf)> {
    let mut rng = rand::rng();
    for _ in 0..50 {
        // Above the network labs' ids (1..4000), so the two never share a prefix.
        let prefix = format!("fl{}", rng.random_range(5000..10000));
        let dir = std::env::temp_dir().join(format!("faultline-{prefix}-{}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok((prefix, dir));
        }
    }
    Err(ClusterError::Other(
        "could not claim a temp dir after 50 tries".into(),
    ))
}

impl TidbOptions {
    /// The three binaries as absolute paths; a missing one is an error naming its flag.
    pub fn check_binaries(&self) -> Result<[String; 3]> {
        Ok([
            resolve(&self.pd_path, "--pd.path")?,
            resolve(&self.tikv_path, "--tikv.path")?,
            resolve(&self.tidb_path, "--tidb.path")?,
        ])
    }
}

impl TidbPlayground {
    /// Waits until every component of `role` answers: PD members healthy, TiKV status
    /// ports and TiDB MySQL ports accepting connections.
    pub(super) async fn wait_role(&self, role: Role, deadline: Instant) -> Result<()> {
        loop {
            let mut waiting = Vec::new();
            for name in self.names(Some(role)) {
                if !self.running(&name) {
                    return Err(ClusterError::Other(format!(
                        "{name} exited; see {} and stdout.log beside it",
                        self.log_file(&name).unwrap_or_default().display()
                    )));
                }
            }
            match role {
                Role::Pd => {
                    let want = self.layout.pd.len();
                    let mut ok = false;
                    for p in &self.layout.pd {
                        if pd_api::healthy_members(loopback(p.client))
                            .await
                            .is_ok_and(|m| m.len() >= want)
                        {
                            ok = true;
                            break;
                        }
                    }
                    if !ok {
                        waiting.push(format!("PD members healthy ({want})"));
                    }
                }
                Role::Tikv | Role::Tidb => {
                    let ports: Vec<u16> = match role {
                        Role::Tikv => self.layout.tikv.iter().map(|t| t.status).collect(),
                        _ => self.layout.tidb.iter().map(|t| t.port).collect(),
                    };
                    for (k, port) in ports.into_iter().enumerate() {
                        if tokio::net::TcpStream::connect(loopback(port))
                            .await
                            .is_err()
                        {
                            waiting.push(format!("{}-{k} on port {port}", role.name()));
                        }
                    }
                }
            }
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Timeout(format!(
                    "still waiting for {}; see the logs under {}",
                    waiting.join(", "),
                    self.dir.display()
                )));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
