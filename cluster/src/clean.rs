//! Removes whatever a killed harness left behind: processes in our namespaces, the
//! namespaces, bridges, temp dirs and libfaketime's /dev/shm files.

use crate::netlab::remove_namespace;
use crate::run;

/// What [`clean`] removed, for the user.
#[derive(Debug, Default)]
pub struct Cleaned {
    pub namespaces: Vec<String>,
    pub links: Vec<String>,
    pub dirs: Vec<String>,
}

fn is_ours(name: &str, suffix: char) -> bool {
    // fl<digits><suffix><rest>
    let Some(rest) = name.strip_prefix("fl") else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(suffix)
}

/// Removes every faultline resource on this machine (all runs, not just one).
pub fn clean() -> Cleaned {
    let mut cleaned = Cleaned::default();
    if let Ok(list) = run("ip", &["netns", "list"]) {
        for ns in list.lines().filter_map(|l| l.split_whitespace().next()) {
            if is_ours(ns, 'n') {
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
                .map(|s| s.trim().split('@').next().unwrap_or(""))
            else {
                continue;
            };
            if is_ours(name, 'b') || is_ours(name, 'v') {
                let _ = run("ip", &["link", "del", name]);
                cleaned.links.push(name.to_string());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("faultline-fl") && std::fs::remove_dir_all(e.path()).is_ok() {
                cleaned.dirs.push(e.path().display().to_string());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("faketime_shm_")
                .or_else(|| name.strip_prefix("sem.faketime_sem_"))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid {
                if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_only_our_names() {
        assert!(super::is_ours("fl123n2", 'n'));
        assert!(super::is_ours("fl7br", 'b'));
        assert!(!super::is_ours("flannel0", 'n'));
        assert!(!super::is_ours("docker0", 'b'));
        assert!(!super::is_ours("fln1", 'n'));
    }
}
