//! What the test observes of the stand-ins: the symlinks that make this binary a stand-in,
//! a process's flags and state from /proc, and the `reach` lines a stand-in logged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The stand-in binaries: symlinks to this test binary, removed on drop.
pub struct Standins(pub PathBuf);

impl Standins {
    pub fn create() -> Standins {
        let dir = std::env::temp_dir().join(format!("faultline-standins-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::env::current_exe().unwrap();
        for name in ["pd-server", "tikv-server", "tidb-server"] {
            let _ = std::fs::remove_file(dir.join(name));
            std::os::unix::fs::symlink(&me, dir.join(name)).unwrap();
        }
        Standins(dir)
    }
}

impl Drop for Standins {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// `reach <kind> <addr> ok|fail` lines a stand-in logged during `window`, counted as
/// (kind addr) -> (ok, fail).
pub async fn reach_in(log: &Path, window: Duration) -> BTreeMap<String, (u32, u32)> {
    let from = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0) as usize;
    tokio::time::sleep(window).await;
    let text = std::fs::read(log).unwrap_or_default();
    let mut out: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for line in String::from_utf8_lossy(&text[from.min(text.len())..]).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 4 && f[0] == "reach" {
            let e = out.entry(format!("{} {}", f[1], f[2])).or_default();
            if f[3] == "ok" {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }
    out
}
