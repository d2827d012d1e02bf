//! Disk faults on the local cluster: each node's data dir can be a FUSE passthrough of a
//! backing dir (`<node dir>/data.real`), with a fault switch per node.
//!
//! What lives here: [`switch`] (the per-node [`switch::FaultSwitch`]: none, delay, EIO on a
//! share of writes and fsyncs, hang, full; always compiled), `fs` and `backing` (the
//! passthrough: kernel requests, and the backing dir's inodes, paths and files; with the
//! `fuse` feature) and [`DiskMount`] (mount before mariadbd starts, unmount after it died:
//! plain unmount, lazy when busy). [`mounts_under`] and [`unmount`] serve
//! [`crate::leftovers`] and [`crate::clean`], which find our mounts in /proc/mounts.
//!
//! The mount is done with the mount(2) syscall by the fuser crate (no libfuse, no
//! fusermount3): we run as root. Options: `allow_other` (mariadbd runs as `mysql`) and
//! `default_permissions` (the kernel checks mode bits).
//!
//! A node whose data dir is on FUSE gets `innodb_flush_method=fsync` (InnoDB's default,
//! O_DIRECT, bypasses the page cache, which a FUSE file without direct-I/O support does not
//! serve like a block device) and `innodb_use_native_aio=0` (Linux native AIO is for block
//! devices; on FUSE it falls back to synchronous I/O or fails): plain buffered writes and
//! fsync, each of which passes through the fault switch. The passthrough also drops
//! O_DIRECT when it opens the backing file.

#[cfg(feature = "fuse")]
mod backing;
#[cfg(feature = "fuse")]
mod fs;
pub mod switch;
#[cfg(all(test, feature = "fuse"))]
mod tests;

use crate::{ClusterError, Result};
use std::path::{Path, PathBuf};

/// The file system type our mounts show in /proc/mounts (`fuse.<subtype>`).
pub const FS_NAME: &str = "faultline-disk";

/// Our FUSE mounts at or under `dir`, from /proc/mounts.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mut found = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(source), Some(target), Some(fstype)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        // /proc/mounts escapes spaces as \040; our paths have none.
        let target = PathBuf::from(target);
        if fstype.starts_with("fuse") && source == FS_NAME && target.starts_with(dir) {
            found.push(target);
        }
    }
    found
}

/// Unmounts `path`: plainly, or lazily (detached, gone when the last user lets go) if busy.
pub fn unmount(path: &Path) -> Result<()> {
    let p = path.display().to_string();
    if crate::run("umount", &[&p]).is_ok() {
        return Ok(());
    }
    crate::run("umount", &["-l", &p]).map(|_| ())
}

/// Whether disk faults can be had in this build.
pub fn available() -> std::result::Result<(), String> {
    if !cfg!(feature = "fuse") {
        return Err("this faultline was built without the `fuse` feature: rebuild with default features for disk faults".into());
    }
    if !Path::new("/dev/fuse").exists() {
        return Err("disk faults need /dev/fuse (FUSE in the kernel): modprobe fuse".into());
    }
    Ok(())
}

/// One node's data dir served through the passthrough.
pub struct DiskMount {
    pub mountpoint: PathBuf,
    pub switch: switch::FaultSwitch,
    #[cfg(feature = "fuse")]
    session: Option<fuser::BackgroundSession>,
}

impl DiskMount {
    /// Serves `backing` at `mountpoint` (both dirs must exist).
    #[cfg(feature = "fuse")]
    pub fn mount(backing: &Path, mountpoint: &Path) -> Result<DiskMount> {
        use fuser::{Config, MountOption, SessionACL};
        available().map_err(ClusterError::Missing)?;
        let switch = switch::FaultSwitch::default();
        let io = |source| ClusterError::Io {
            context: format!("mounting FUSE at {}", mountpoint.display()),
            source,
        };
        let fs = fs::Passthrough::new(backing, switch.clone()).map_err(io)?;
        let mut config = Config::default();
        config.mount_options = vec![
            MountOption::FSName(FS_NAME.into()),
            MountOption::Subtype(FS_NAME.into()),
            MountOption::DefaultPermissions,
            MountOption::RW,
            MountOption::NoAtime,
        ];
        config.acl = SessionACL::All;
        config.n_threads = Some(4);
        let session = fuser::spawn_mount(fs, mountpoint, &config).map_err(io)?;
        tracing::info!(
            "disk of {} on FUSE (backing {})",
            mountpoint.display(),
            backing.display()
        );
        Ok(DiskMount {
            mountpoint: mountpoint.to_path_buf(),
            switch,
            session: Some(session),
        })
    }

    #[cfg(not(feature = "fuse"))]
    pub fn mount(_backing: &Path, _mountpoint: &Path) -> Result<DiskMount> {
        Err(ClusterError::Missing(available().err().unwrap_or_default()))
    }

    /// Heals the switch (hung operations complete), then unmounts. Call after the server
    /// using it is dead; a still-busy mount is detached lazily.
    pub fn unmount(&mut self) {
        self.switch.set(faultline_core::db::DiskFault::None);
        #[cfg(feature = "fuse")]
        if let Some(session) = self.session.take() {
            // fuser unmounts plainly when its session is dropped (the session thread ends
            // once the kernel lets go; nobody waits for it); if that failed, the mount is
            // busy and goes lazily.
            drop(session);
            if !mounts_under(&self.mountpoint).is_empty() {
                if let Err(e) = unmount(&self.mountpoint) {
                    tracing::warn!("unmounting {}: {e}", self.mountpoint.display());
                }
            }
        }
    }
}

impl Drop for DiskMount {
    fn drop(&mut self) {
        self.unmount();
    }
}

/// The FUSE data dirs of a cluster's nodes (node `n<k>` at position k-1): what a system's
/// `Disk` capability needs, shared by every recipe that mounts them.
#[derive(Default)]
pub struct DiskSet(std::sync::Mutex<Vec<DiskMount>>);

impl DiskSet {
    /// Adds the next node's mount.
    pub fn push(&self, mount: DiskMount) {
        self.0.lock().unwrap().push(mount);
    }

    /// No data dir is on FUSE (the system has no `Disk` capability then).
    pub fn is_empty(&self) -> bool {
        self.0.lock().unwrap().is_empty()
    }

    /// Every node's disk back to no fault (hung operations complete).
    pub fn heal(&self) {
        for d in self.0.lock().unwrap().iter() {
            d.switch.set(faultline_core::db::DiskFault::None);
        }
    }

    /// The disk fault on node `k` now (`None` also when its data dir is not on FUSE).
    pub fn fault_of(&self, k: usize) -> faultline_core::db::DiskFault {
        self.0
            .lock()
            .unwrap()
            .get(k.wrapping_sub(1))
            .map(|d| d.switch.get())
            .unwrap_or_default()
    }

    /// Puts `fault` on node `k`'s disk (`node` names it in the error).
    pub fn set(
        &self,
        k: usize,
        node: &str,
        fault: faultline_core::db::DiskFault,
    ) -> faultline_core::db::DbResult<()> {
        let disks = self.0.lock().unwrap();
        let disk = disks.get(k.wrapping_sub(1)).ok_or_else(|| {
            faultline_core::db::DbError::new(format!(
                "{node}'s data dir is not on FUSE: start the cluster with disk faults enabled"
            ))
        })?;
        tracing::info!(node, ?fault, "disk fault");
        disk.switch.set(fault);
        Ok(())
    }

    /// Unmounts every data dir (after the servers using them are dead).
    pub fn unmount_all(&self) {
        for mut d in self.0.lock().unwrap().drain(..) {
            d.unmount();
        }
    }
}
