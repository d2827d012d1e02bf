//! The `Disk` capability of [`LocalGalera`]: flips the fault switch of a node's FUSE data
//! dir ([`crate::disk`]). Present only when the cluster was started with `disk_faults`.

use super::LocalGalera;
use crate::netlab::node_index;
use async_trait::async_trait;
use faultline_core::db::{DbError, DbResult, Disk, DiskFault};

impl LocalGalera {
    pub(super) fn disk_capability(&self) -> Option<&dyn Disk> {
        (!self.disks.lock().unwrap().is_empty()).then_some(self as &dyn Disk)
    }

    /// Every node's disk back to no fault (hung operations complete).
    pub(super) fn heal_disk_switches(&self) {
        for d in self.disks.lock().unwrap().iter() {
            d.switch.set(DiskFault::None);
        }
    }

    /// The disk fault currently on `node` (`None` also when its disk is not on FUSE).
    pub fn disk_fault(&self, node: &str) -> DiskFault {
        let k = node_index(node).unwrap_or(0);
        self.disks
            .lock()
            .unwrap()
            .get(k.wrapping_sub(1))
            .map(|d| d.switch.get())
            .unwrap_or_default()
    }

    /// Our FUSE mounts still mounted under this cluster's temp dir.
    pub fn disk_mounts(&self) -> Vec<std::path::PathBuf> {
        crate::disk::mounts_under(&self.dir)
    }
}

#[async_trait]
impl Disk for LocalGalera {
    async fn set_disk_fault(&self, node: &str, fault: DiskFault) -> DbResult<()> {
        let k = node_index(node)?;
        let disks = self.disks.lock().unwrap();
        let disk = disks.get(k - 1).ok_or_else(|| {
            DbError::new(format!(
                "{node}'s data dir is not on FUSE: start the cluster with disk faults enabled"
            ))
        })?;
        tracing::info!(node, ?fault, "disk fault");
        disk.switch.set(fault);
        Ok(())
    }

    async fn heal_disks(&self) -> DbResult<()> {
        self.heal_disk_switches();
        Ok(())
    }
}
