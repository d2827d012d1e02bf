//! The `Disk` capability of [`EtcdCluster`]: each member's data dir served through
//! faultline's FUSE passthrough (`faultline::cluster::disk`), whose fault switch a disk
//! fault flips (delay, EIO on a share of operations, hang, ENOSPC). Mounted only when the
//! run asks for a disk fault, as the local Galera recipe does; etcd runs as root here, so
//! the mount needs no ownership change. Unmounted after the members are dead.

use crate::cluster::EtcdCluster;
use faultline::cluster::disk::DiskMount;
use faultline::cluster::netlab::node_index;
use faultline::core::db::{Disk, DiskFault};
use faultline::prelude::*;
use std::path::Path;

impl EtcdCluster {
    /// Puts `member_dir/data` on FUSE, backed by `member_dir/data.real`.
    pub(crate) fn mount_disk(&self, member_dir: &Path) -> Result<(), DbError> {
        let (real, data) = (member_dir.join("data.real"), member_dir.join("data"));
        for d in [&real, &data] {
            std::fs::create_dir_all(d)
                .map_err(|e| DbError::new(format!("creating {}: {e}", d.display())))?;
        }
        let mount = DiskMount::mount(&real, &data).map_err(|e| DbError::new(e.to_string()))?;
        self.disks.push(mount);
        Ok(())
    }

    pub(crate) fn disk_capability(&self) -> Option<&dyn Disk> {
        (!self.disks.is_empty()).then_some(self as &dyn Disk)
    }

    /// The disk fault on `node` now (`None` also when its data dir is not on FUSE).
    pub fn disk_fault(&self, node: &str) -> DiskFault {
        self.disks.fault_of(node_index(node).unwrap_or(0))
    }
}

#[async_trait]
impl Disk for EtcdCluster {
    async fn set_disk_fault(&self, node: &str, fault: DiskFault) -> DbResult<()> {
        let k = node_index(node).map_err(|e| DbError::new(e.to_string()))?;
        self.disks.set(k, node, fault)
    }

    async fn heal_disks(&self) -> DbResult<()> {
        self.disks.heal();
        Ok(())
    }
}
