//! Removes whatever a killed harness left behind: processes in our namespaces or anywhere
//! else whose command line points into a dead lab's temp dir (a TiDB playground's), the
//! namespaces, bridges and veths, FUSE mounts (disk faults) and then the temp dirs they are
//! under, control dirs and libfaketime's /dev/shm files.
//!
//! A lab `fl<id>` belongs to the process whose pid ends its temp dir's name
//! (`faultline-fl<id>-<pid>`). While that process lives the lab is in use and is left alone
//! (other runs and tests may be going on); `force` removes it anyway. A namespace or link
//! with no temp dir at all is an orphan and always goes.

use crate::netlab::remove_namespace;
use crate::run;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// What [`clean`] removed, for the user.
#[derive(Debug, Default)]
pub struct Cleaned {
    pub namespaces: Vec<String>,
    pub links: Vec<String>,
    pub dirs: Vec<String>,
    pub mounts: Vec<String>,
    /// Processes killed because their command line points into a dead lab's temp dir.
    pub processes: Vec<String>,
    /// Labs left alone because their owner is alive.
    pub in_use: Vec<String>,
}

/// `fl123n2` -> Some("fl123") when the part after the digits starts with `suffix`.
fn lab_of(name: &str, suffixes: &[char]) -> Option<String> {
    let rest = name.strip_prefix("fl")?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    (digits > 0 && rest[digits..].starts_with(suffixes)).then(|| format!("fl{}", &rest[..digits]))
}

pub(crate) fn alive(pid: u32) -> bool {
    // A zombie has exited: it only waits to be reaped.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|r| !r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Where a lab's node dirs may live: the temp dir, and [`MEMORY_ROOT`] (data in memory).
pub fn lab_roots() -> Vec<PathBuf> {
    let mut roots = vec![std::env::temp_dir()];
    let shm = PathBuf::from(MEMORY_ROOT);
    if shm.is_dir() && !roots.contains(&shm) {
        roots.push(shm);
    }
    roots
}

/// The tmpfs that holds data dirs kept in memory (`--data-in-memory`).
pub const MEMORY_ROOT: &str = "/dev/shm";

/// Removes faultline resources whose owner is gone (all of them with `force`).
pub fn clean(force: bool) -> Cleaned {
    let mut cleaned = Cleaned::default();
    // Labs in use: their temp dir names a live owner.
    let mut live = BTreeSet::new();
    let mut dirs = Vec::new();
    for root in lab_roots() {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix("faultline-fl-ctl-") {
                // A control dir is in use while its daemon (daemon.pid) lives.
                let daemon = std::fs::read_to_string(e.path().join("daemon.pid"))
                    .ok()
                    .and_then(|p| p.trim().parse::<u32>().ok());
                if !force && daemon.is_some_and(alive) {
                    cleaned.in_use.push(format!("cluster {rest}"));
                } else {
                    dirs.push(e.path());
                }
            } else if let Some(rest) = name.strip_prefix("faultline-") {
                let Some((lab, pid)) = rest.rsplit_once('-') else {
                    continue;
                };
                let is_lab = lab
                    .strip_prefix("fl")
                    .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
                if !is_lab {
                    continue;
                }
                match pid.parse::<u32>() {
                    Ok(pid) if !force && alive(pid) => {
                        live.insert(lab.to_string());
                        cleaned.in_use.push(lab.to_string());
                    }
                    Ok(_) => dirs.push(e.path()),
                    Err(_) => {}
                }
            }
        }
    }
    if let Ok(list) = run("ip", &["netns", "list"]) {
        for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
            if lab_of(ns, &['n']).is_some_and(|lab| !live.contains(&lab)) {
                remove_namespace(ns);
                cleaned.namespaces.push(ns.to_string());
            }
        }
    }
    if let Ok(links) = run("ip", &["-o", "link", "show"]) {
        for line in links.lines() {
            let Some(name) = line
                .split(':')
                .nth(1)
                .map(|s| s.trim().split('@').next().unwrap_or("").to_string())
            else {
                continue;
            };
            if lab_of(&name, &['b', 'v']).is_some_and(|lab| !live.contains(&lab)) {
                let _ = run("ip", &["link", "del", &name]);
                cleaned.links.push(name);
            }
        }
    }
    for d in &dirs {
        // Servers outside any namespace (a TiDB playground's) die with their lab too; a
        // stopped one gets SIGKILL all the same.
        for (pid, cmdline) in crate::leftovers::processes_under(d) {
            if pid != std::process::id() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
                cleaned.processes.push(format!("{pid} ({cmdline})"));
            }
        }
    }
    if !cleaned.processes.is_empty() {
        // Give the kernel a moment to tear them down before their dirs go.
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    for d in dirs {
        // A dead harness's FUSE mounts answer ENOTCONN: unmount them before removing the dir.
        for m in crate::disk::mounts_under(&d) {
            if crate::disk::unmount(&m).is_ok() {
                cleaned.mounts.push(m.display().to_string());
            }
        }
        if std::fs::remove_dir_all(&d).is_ok() {
            cleaned.dirs.push(d.display().to_string());
        }
    }
    crate::galera::clock::remove_dead_shm();
    cleaned
}

#[cfg(test)]
mod tests {
    use super::lab_of;

    #[test]
    fn recognises_only_our_names() {
        assert_eq!(lab_of("fl123n2", &['n']).as_deref(), Some("fl123"));
        assert_eq!(lab_of("fl7br", &['b', 'v']).as_deref(), Some("fl7"));
        assert_eq!(lab_of("fl7v3", &['b', 'v']).as_deref(), Some("fl7"));
        assert!(lab_of("flannel0", &['n']).is_none());
        assert!(lab_of("docker0", &['b']).is_none());
        assert!(lab_of("fln1", &['n']).is_none());
    }

    #[test]
    fn our_own_process_is_alive_and_a_missing_one_is_not() {
        assert!(super::alive(std::process::id()));
        assert!(!super::alive(u32::MAX - 1));
    }
}
