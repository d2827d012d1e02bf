//! Clock control for the local cluster through libfaketime.
//!
//! Every mariadbd starts with `LD_PRELOAD=libfaketime.so.1`,
//! `FAKETIME_TIMESTAMP_FILE=<node dir>/faketime`, `FAKETIME_NO_CACHE=1` (the file is read on
//! every time call, so an offset changes while the server runs) and
//! `FAKETIME_DONT_FAKE_MONOTONIC=1` (only the wall clock moves: NOW(), SYSDATE(),
//! UNIX_TIMESTAMP(); Galera's timers run on the monotonic clock). The file holds an offset
//! such as `+0`, `+0.250` or `-3.500` (seconds); it is replaced by a rename, so a reader
//! never sees it half written. A strobe is a thread that flips the file between `+0` and
//! the offset every period until it is stopped.
//!
//! libfaketime leaves `/dev/shm/faketime_shm_<pid>` and `sem.faketime_sem_<pid>` behind for
//! every preloaded process that dies; [`remove_dead_shm`] removes those of dead processes.

use crate::{ClusterError, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Debian's libfaketime (package `libfaketime`).
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// True when libfaketime is installed.
pub fn available() -> bool {
    Path::new(LIBFAKETIME).is_file()
}

/// The file holding a node's offset.
pub fn offset_file(node_dir: &Path) -> PathBuf {
    node_dir.join("faketime")
}

/// The environment that puts a server under libfaketime's control.
pub fn env(node_dir: &Path) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".into(), LIBFAKETIME.into()),
        (
            "FAKETIME_TIMESTAMP_FILE".into(),
            offset_file(node_dir).display().to_string(),
        ),
        ("FAKETIME_NO_CACHE".into(), "1".into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
    ]
}

/// libfaketime's spelling of an offset in milliseconds: `+0`, `+0.250`, `-3.500`.
pub fn spell(offset_ms: i64) -> String {
    if offset_ms == 0 {
        return "+0".into();
    }
    let sign = if offset_ms < 0 { '-' } else { '+' };
    let a = offset_ms.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// Writes an offset atomically (write a temp file, rename it over the old one).
pub fn write_offset(node_dir: &Path, offset_ms: i64) -> Result<()> {
    let file = offset_file(node_dir);
    let tmp = node_dir.join("faketime.tmp");
    let io = |context: String| move |source| ClusterError::Io { context, source };
    std::fs::write(&tmp, format!("{}\n", spell(offset_ms)))
        .map_err(io(format!("writing {}", tmp.display())))?;
    std::fs::rename(&tmp, &file).map_err(io(format!("renaming to {}", file.display())))
}

/// One running strobe: its stop flag and its thread.
type Strobe = (Arc<AtomicBool>, JoinHandle<()>);

/// Running strobes, by node dir.
#[derive(Default)]
pub struct Strobes(Mutex<HashMap<PathBuf, Strobe>>);

impl Strobes {
    /// Starts (or replaces) the strobe of one node.
    pub fn start(&self, node_dir: &Path, offset_ms: i64, period: Duration) {
        self.stop(node_dir);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let dir = node_dir.to_path_buf();
        let period = period.max(Duration::from_millis(1));
        let handle = std::thread::spawn(move || {
            let mut shifted = false;
            while !flag.load(Ordering::Relaxed) {
                shifted = !shifted;
                if let Err(e) = write_offset(&dir, if shifted { offset_ms } else { 0 }) {
                    tracing::warn!("strobe: {e}");
                    break;
                }
                std::thread::sleep(period);
            }
        });
        self.0
            .lock()
            .unwrap()
            .insert(node_dir.to_path_buf(), (stop, handle));
    }

    /// Stops one node's strobe (if any) and waits for its thread.
    pub fn stop(&self, node_dir: &Path) {
        let entry = self.0.lock().unwrap().remove(node_dir);
        if let Some((stop, handle)) = entry {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
    }

    /// Stops every strobe.
    pub fn stop_all(&self) {
        let dirs: Vec<PathBuf> = self.0.lock().unwrap().keys().cloned().collect();
        for d in dirs {
            self.stop(&d);
        }
    }
}

impl Drop for Strobes {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Removes libfaketime's shm and semaphore files whose process is gone; returns them.
pub fn remove_dead_shm() -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return removed;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("faketime_shm_")
            .or_else(|| name.strip_prefix("sem.faketime_sem_"))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !crate::clean::alive(pid) && std::fs::remove_file(e.path()).is_ok() {
                removed.push(e.path().display().to_string());
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::spell;

    #[test]
    fn offsets_are_spelled_in_seconds_with_millis() {
        assert_eq!(spell(0), "+0");
        assert_eq!(spell(250), "+0.250");
        assert_eq!(spell(-3500), "-3.500");
        assert_eq!(spell(5), "+0.005");
        assert_eq!(spell(-1), "-0.001");
    }
}
