//! What a run with lab prefix `fl<id>` might leave behind, for tests and `cluster status`:
//! namespaces, links, its temp dir, FUSE mounts under it (disk faults), and processes whose
//! command line points into it.

use crate::run;
use std::path::Path;

/// Everything of lab `prefix` (and temp dir `dir`) that still exists; empty when clean.
pub fn leftovers(prefix: &str, dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let ours = |name: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(['n', 'b', 'v']))
    };
    if let Ok(list) = run("ip", &["netns", "list"]) {
        for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
            if ours(ns) {
                found.push(format!("namespace {ns}"));
            }
        }
    }
    if let Ok(links) = run("ip", &["-o", "link", "show"]) {
        for line in links.lines() {
            if let Some(name) = line
                .split(':')
                .nth(1)
                .map(|s| s.trim().split('@').next().unwrap_or(""))
            {
                if ours(name) {
                    found.push(format!("link {name}"));
                }
            }
        }
    }
    for m in crate::disk::mounts_under(dir) {
        found.push(format!("FUSE mount {}", m.display()));
    }
    if dir.exists() {
        found.push(format!("temp dir {}", dir.display()));
    }
    for (pid, cmdline) in processes_under(dir) {
        found.push(format!("process {pid} ({cmdline})"));
    }
    found
}

/// The processes whose command line points into `dir` (pid, command line): the servers of a
/// lab, in a namespace or not (a TiDB playground's run on the host).
pub fn processes_under(dir: &Path) -> Vec<(u32, String)> {
    let needle = dir.display().to_string();
    let mut found = Vec::new();
    if needle.is_empty() {
        return found;
    }
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            let Some(pid) = p.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(p.path().join("cmdline")) else {
                continue;
            };
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(&needle) {
                found.push((pid, cmdline.trim().to_string()));
            }
        }
    }
    found
}
