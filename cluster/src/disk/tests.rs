//! The passthrough on a real FUSE mount (root and /dev/fuse needed, as for the cluster):
//! files go through to the backing dir, each fault shows as the errno it promises, and a
//! mount left behind is found in /proc/mounts and unmounted the way `clean` does it.

use super::{mounts_under, unmount, DiskMount};
use faultline_core::db::DiskFault;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

fn lab(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("faultline-disktest-{name}-{}", std::process::id()));
    let (real, data) = (dir.join("data.real"), dir.join("data"));
    std::fs::create_dir_all(&real).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    (dir, real, data)
}

#[test]
fn files_pass_through_and_faults_show_as_errnos() {
    let (dir, real, data) = lab("faults");
    let mut m = DiskMount::mount(&real, &data).expect("mount");
    assert_eq!(mounts_under(&dir), vec![data.clone()]);

    std::fs::create_dir(data.join("db")).unwrap();
    std::fs::write(data.join("db/t.ibd"), b"hello").unwrap();
    std::os::unix::fs::chown(data.join("db/t.ibd"), Some(65534), Some(65534)).unwrap();
    std::fs::rename(data.join("db"), data.join("db2")).unwrap();
    assert_eq!(std::fs::read(data.join("db2/t.ibd")).unwrap(), b"hello");
    assert_eq!(
        std::fs::read(real.join("db2/t.ibd")).unwrap(),
        b"hello",
        "in the backing dir"
    );
    assert_eq!(
        std::fs::metadata(real.join("db2/t.ibd")).unwrap().uid(),
        65534
    );

    m.switch.set(DiskFault::Error { percent: 100 });
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("db2/t.ibd"))
        .unwrap();
    assert_eq!(
        f.write_all(b"x").unwrap_err().raw_os_error(),
        Some(libc::EIO)
    );
    assert_eq!(
        std::fs::read(data.join("db2/t.ibd")).unwrap(),
        b"hello",
        "reads still work"
    );

    m.switch.set(DiskFault::Full);
    let e = std::fs::write(data.join("db2/new"), b"x").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
    assert_eq!(
        f.write_all(b"grow").unwrap_err().raw_os_error(),
        Some(libc::ENOSPC)
    );
    let free = nix::sys::statvfs::statvfs(&data)
        .unwrap()
        .blocks_available();
    assert_eq!(free, 0, "statfs says full");

    m.switch.set(DiskFault::Hang);
    let reader = {
        let p = data.join("db2/t.ibd");
        std::thread::spawn(move || std::fs::read(p))
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(!reader.is_finished(), "a read blocks while hung");
    m.switch.set(DiskFault::None);
    assert_eq!(reader.join().unwrap().unwrap(), b"hello");
    f.write_all(b"!").unwrap();
    drop(f);

    m.unmount();
    assert!(mounts_under(&dir).is_empty());
    assert_eq!(std::fs::read(real.join("db2/t.ibd")).unwrap(), b"hello!");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_forgotten_mount_is_found_and_unmounted() {
    let (dir, real, data) = lab("forgotten");
    let m = DiskMount::mount(&real, &data).expect("mount");
    // As if the harness died: nothing will unmount it.
    std::mem::forget(m);
    assert_eq!(mounts_under(&dir), vec![data.clone()]);
    let busy = std::fs::File::open(data.join(".")).unwrap();
    unmount(&data).unwrap();
    assert!(mounts_under(&dir).is_empty(), "gone, lazily while busy");
    drop(busy);
    assert_eq!(
        std::fs::read_dir(&data).unwrap().count(),
        0,
        "the bare mountpoint"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
