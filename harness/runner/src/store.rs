//! The store: one folder per run, `store/<test>/<UTC time>/`, and `latest` links.
//!
//! A run folder holds test.json (every option, the seed, the versions of the system under
//! test), history.jsonl, results.json, report.html, harness.log and nodes/<node>/ (each
//! server's logs). `store/latest` and `store/<test>/latest` point at the newest run.

use serde::Serialize;
use std::io;
use std::path::{Path, PathBuf};

pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Creates a fresh run folder for `test` under `store` and points the links at it.
    pub fn create(store: &Path, test: &str) -> io::Result<RunDir> {
        let mut stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let mut path = store.join(test).join(&stamp);
        // Two runs in the same millisecond (tests) get distinct folders.
        let mut n = 1;
        while path.exists() {
            stamp = format!("{}-{n}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
            path = store.join(test).join(&stamp);
            n += 1;
        }
        std::fs::create_dir_all(path.join("nodes"))?;
        relink(&store.join("latest"), &Path::new(test).join(&stamp));
        relink(&store.join(test).join("latest"), Path::new(&stamp));
        Ok(RunDir { path })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value)?;
        std::fs::write(self.file(name), text + "\n")
    }
}

fn relink(link: &Path, target: &Path) {
    let _ = std::fs::remove_file(link);
    if let Err(e) = std::os::unix::fs::symlink(target, link) {
        tracing::warn!("linking {}: {e}", link.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_folders_are_unique_and_latest_follows() {
        let store = std::env::temp_dir().join(format!("fl-store-test-{}", std::process::id()));
        let a = RunDir::create(&store, "bank").unwrap();
        let b = RunDir::create(&store, "bank").unwrap();
        assert_ne!(a.path, b.path);
        assert!(b.path.join("nodes").is_dir());
        let latest = std::fs::canonicalize(store.join("latest")).unwrap();
        assert_eq!(latest, std::fs::canonicalize(&b.path).unwrap());
        let latest = std::fs::canonicalize(store.join("bank").join("latest")).unwrap();
        assert_eq!(latest, std::fs::canonicalize(&b.path).unwrap());
        std::fs::remove_dir_all(&store).unwrap();
    }
}
