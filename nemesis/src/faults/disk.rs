//! Disk faults through the database's Disk capability, on one random node: slow I/O
//! (`io_delay`), failing writes and fsyncs (`io_error`), a hung disk (`disk_hang`) and a full
//! disk (`disk_full`). On the local cluster the node's data dir is a FUSE passthrough with a
//! fault switch, mounted when the run asks for a disk fault.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::Capability;
use faultline_core::db::{Db, DbError, DbResult, Disk, DiskFault, NodeId};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

fn disk_capability(db: &dyn Db) -> DbResult<&dyn Disk> {
    db.as_disk().ok_or_else(|| {
        DbError::new(db.lacks(Capability::Disk).unwrap_or_else(|| {
            format!(
                "{} has no disk faults: they need the local cluster with its data dirs on FUSE \
                 (faultline built with the default `fuse` feature, /dev/fuse present; the runner \
                 mounts them when --nemesis names a disk fault, `faultline cluster start --disk-faults`)",
                db.name()
            )
        }))
    })
}

/// The fault a disk fault's params describe.
fn fault_of(name: &str, params: &Value) -> DiskFault {
    match name {
        "io_delay" => DiskFault::Delay {
            ms: params["delay_ms"].as_u64().unwrap_or(100),
        },
        "io_error" => DiskFault::Error {
            percent: params["percent"].as_u64().unwrap_or(50).min(100) as u8,
        },
        "disk_hang" => DiskFault::Hang,
        _ => DiskFault::Full,
    }
}

/// One disk fault of the catalogue; `name` says which.
pub struct DiskFaultOn {
    name: &'static str,
    description: &'static str,
}

pub const IO_DELAY: DiskFaultOn = DiskFaultOn {
    name: "io_delay",
    description: "delay every read, write and fsync of one random node's data dir by 20-200 ms (FUSE), restore at the end",
};
pub const IO_ERROR: DiskFaultOn = DiskFaultOn {
    name: "io_error",
    description:
        "fail 10-100% of one random node's writes and fsyncs with EIO (FUSE), restore at the end",
};
pub const DISK_HANG: DiskFaultOn = DiskFaultOn {
    name: "disk_hang",
    description: "block every file operation on one random node's data dir until the end (FUSE)",
};
pub const DISK_FULL: DiskFaultOn = DiskFaultOn {
    name: "disk_full",
    description: "one random node's disk is full: ENOSPC on writes that grow a file and on creation, statfs 0 free (FUSE)",
};

#[async_trait]
impl Fault for DiskFaultOn {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Disk]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        disk_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    fn params(&self, _targets: &[NodeId], rng: &mut ChaCha8Rng) -> Value {
        match self.name {
            "io_delay" => json!({ "delay_ms": rng.random_range(20..=200u64) }),
            "io_error" => {
                let percent = [10u32, 25, 50, 100][rng.random_range(0..4)];
                json!({ "percent": percent })
            }
            _ => Value::Null,
        }
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_with(db, targets, &Value::Null).await
    }
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], params: &Value) -> DbResult<()> {
        let disk = disk_capability(db)?;
        for n in targets {
            disk.set_disk_fault(n, fault_of(self.name, params)).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, _targets: &[NodeId]) -> DbResult<()> {
        disk_capability(db)?.heal_disks().await
    }
}

/// The names of the disk faults.
pub const NAMES: [&str; 4] = ["io_delay", "io_error", "disk_hang", "disk_full"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_become_the_fault_they_name() {
        let p = json!({ "delay_ms": 70, "percent": 25 });
        assert_eq!(fault_of("io_delay", &p), DiskFault::Delay { ms: 70 });
        assert_eq!(fault_of("io_error", &p), DiskFault::Error { percent: 25 });
        assert_eq!(fault_of("disk_hang", &Value::Null), DiskFault::Hang);
        assert_eq!(fault_of("disk_full", &Value::Null), DiskFault::Full);
        for f in [IO_DELAY, IO_ERROR, DISK_HANG, DISK_FULL] {
            assert!(NAMES.contains(&f.name()));
        }
    }

    /// A fake database with no capabilities at all: a unit test of the refusal, no server.
    struct NoDisk;

    #[async_trait]
    impl Db for NoDisk {
        fn name(&self) -> &str {
            "plain"
        }
        fn nodes(&self) -> Vec<NodeId> {
            vec!["n1".into()]
        }
        async fn heal_all(&self) -> DbResult<()> {
            Ok(())
        }
        async fn wait_ready(&self, _t: std::time::Duration) -> DbResult<()> {
            Ok(())
        }
        async fn teardown(&self) -> DbResult<()> {
            Ok(())
        }
    }

    #[test]
    fn without_the_capability_each_refuses_in_one_line_saying_what_to_do() {
        for f in [IO_DELAY, IO_ERROR, DISK_HANG, DISK_FULL] {
            let why = f.unsupported(&NoDisk).expect("refuses");
            assert!(
                !why.contains('\n') && why.contains("--disk-faults"),
                "{why}"
            );
        }
    }
}
