//! The `Disk` capability of [`LocalGalera`]: flips the fault switch of a node's FUSE data
//! dir ([`crate::disk`]). Present only when the cluster was started with `disk_faults`.

use super::LocalGalera;
use crate::netlab::node_index;
use async_trait::async_trait;
use faultline_core::db::{DbResult, Disk, DiskFault};

impl LocalGalera {
    pub(super) fn disk_capability(&self) -> Option<&dyn Disk> {
        (!self.disks.is_empty()).then_some(self as &dyn Disk)
    }

    /// The disk fault currently on `node` (`None` also when its disk is not on FUSE).
    pub fn disk_fault(&self, node: &str) -> DiskFault {
        self.disks.fault_of(node_index(node).unwrap_or(0))
    }

    /// Our FUSE mounts still mounted under this cluster's temp dir.
    pub fn disk_mounts(&self) -> Vec<std::path::PathBuf> {
        crate::disk::mounts_under(&self.dir)
    }
}

#[async_trait]
impl Disk for LocalGalera {
    async fn set_disk_fault(&self, node: &str, fault: DiskFault) -> DbResult<()> {
        self.disks.set(node_index(node)?, node, fault)
    }

    async fn heal_disks(&self) -> DbResult<()> {
        self.disks.heal();
        Ok(())
    }
}
