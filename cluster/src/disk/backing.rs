//! The backing side of the passthrough: inode numbers (the backing file system's, the root
//! is 1), one remembered path per looked-up inode, open files by handle, attributes, and
//! the bodies of the longer operations. `fs` answers the kernel with these.

use super::switch::{FaultSwitch, Op};
use fuser::{Errno, FileAttr, FileHandle, FileType, INodeNo, Request, TimeOrNow};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(super) const TTL: Duration = Duration::from_secs(1);

pub struct Passthrough {
    pub(super) switch: FaultSwitch,
    root_ino: u64,
    paths: Mutex<HashMap<u64, PathBuf>>,
    pub(super) files: Mutex<HashMap<u64, Arc<File>>>,
    next_fh: AtomicU64,
}

pub(super) fn errno(e: std::io::Error) -> Errno {
    Errno::from_i32(e.raw_os_error().unwrap_or(libc::EIO))
}

fn time(secs: i64, nsecs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nsecs as u32)
    } else {
        UNIX_EPOCH
    }
}

impl Passthrough {
    pub fn new(backing: &Path, switch: FaultSwitch) -> std::io::Result<Passthrough> {
        let root_ino = std::fs::metadata(backing)?.ino();
        let mut paths = HashMap::new();
        paths.insert(1, backing.to_path_buf());
        Ok(Passthrough {
            switch,
            root_ino,
            paths: Mutex::new(paths),
            files: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
        })
    }

    /// Backing inode number -> ours (the backing root is 1, and whatever had 1 takes its).
    pub(super) fn ino(&self, backing: u64) -> u64 {
        match backing {
            b if b == self.root_ino => 1,
            1 => self.root_ino,
            b => b,
        }
    }

    pub(super) fn check(&self, op: Op) -> Result<(), Errno> {
        self.switch.check(op, || false).map_err(Errno::from_i32)
    }

    pub(super) fn path(&self, ino: INodeNo) -> Result<PathBuf, Errno> {
        self.paths
            .lock()
            .unwrap()
            .get(&ino.0)
            .cloned()
            .ok_or(Errno::ENOENT)
    }

    pub(super) fn child(&self, parent: INodeNo, name: &OsStr) -> Result<PathBuf, Errno> {
        Ok(self.path(parent)?.join(name))
    }

    pub(super) fn file(&self, fh: FileHandle) -> Result<Arc<File>, Errno> {
        self.files
            .lock()
            .unwrap()
            .get(&fh.0)
            .cloned()
            .ok_or(Errno::EBADF)
    }

    pub(super) fn attr(&self, path: &Path) -> Result<FileAttr, Errno> {
        let m = std::fs::symlink_metadata(path).map_err(errno)?;
        let kind = FileType::from_std(m.file_type()).unwrap_or(FileType::RegularFile);
        Ok(FileAttr {
            ino: INodeNo(self.ino(m.ino())),
            size: m.size(),
            blocks: m.blocks(),
            atime: time(m.atime(), m.atime_nsec()),
            mtime: time(m.mtime(), m.mtime_nsec()),
            ctime: time(m.ctime(), m.ctime_nsec()),
            crtime: time(m.ctime(), m.ctime_nsec()),
            kind,
            perm: (m.mode() & 0o7777) as u16,
            nlink: m.nlink() as u32,
            uid: m.uid(),
            gid: m.gid(),
            rdev: m.rdev() as u32,
            blksize: m.blksize() as u32,
            flags: 0,
        })
    }

    /// Remembers `path` for its inode and returns its attributes.
    pub(super) fn remember(&self, path: PathBuf) -> Result<FileAttr, Errno> {
        let attr = self.attr(&path)?;
        self.paths.lock().unwrap().insert(attr.ino.0, path);
        Ok(attr)
    }

    /// A new name is owned by whoever asked for it.
    pub(super) fn own(&self, req: &Request, path: &Path) -> Result<FileAttr, Errno> {
        std::os::unix::fs::lchown(path, Some(req.uid()), Some(req.gid())).map_err(errno)?;
        self.remember(path.to_path_buf())
    }

    pub(super) fn open_file(
        &self,
        path: &Path,
        flags: i32,
        create: Option<u32>,
    ) -> Result<u64, Errno> {
        let acc = flags & libc::O_ACCMODE;
        let mut o = OpenOptions::new();
        o.read(acc == libc::O_RDONLY || acc == libc::O_RDWR)
            .write(acc == libc::O_WRONLY || acc == libc::O_RDWR)
            .append(flags & libc::O_APPEND != 0)
            // O_DIRECT is the page cache's business above us; the backing dir may refuse it.
            .custom_flags(flags & !(libc::O_ACCMODE | libc::O_APPEND | libc::O_DIRECT));
        if let Some(mode) = create {
            o.create(true).write(true).mode(mode);
        }
        let f = o.open(path).map_err(errno)?;
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        self.files.lock().unwrap().insert(fh, Arc::new(f));
        Ok(fh)
    }

    pub(super) fn sync(&self, fh: FileHandle, datasync: bool) -> Result<(), Errno> {
        self.check(Op::Sync)?;
        let f = self.file(fh)?;
        if datasync {
            f.sync_data()
        } else {
            f.sync_all()
        }
        .map_err(errno)
    }

    /// setattr: mode, owner, size, times, in that order.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn set_attr(
        &self,
        path: &Path,
        fh: Option<FileHandle>,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
    ) -> Result<FileAttr, Errno> {
        if let Some(mode) = mode {
            let perms = std::fs::Permissions::from_mode(mode & 0o7777);
            std::fs::set_permissions(path, perms).map_err(errno)?;
        }
        if uid.is_some() || gid.is_some() {
            std::os::unix::fs::lchown(path, uid, gid).map_err(errno)?;
        }
        if let Some(size) = size {
            match fh.map(|fh| self.file(fh)) {
                Some(Ok(f)) => f.set_len(size),
                _ => OpenOptions::new()
                    .write(true)
                    .open(path)
                    .and_then(|f| f.set_len(size)),
            }
            .map_err(errno)?;
        }
        if atime.is_some() || mtime.is_some() {
            let at = |t: TimeOrNow| match t {
                TimeOrNow::SpecificTime(t) => t,
                TimeOrNow::Now => SystemTime::now(),
            };
            let mut times = std::fs::FileTimes::new();
            if let Some(t) = atime {
                times = times.set_accessed(at(t));
            }
            if let Some(t) = mtime {
                times = times.set_modified(at(t));
            }
            File::open(path)
                .and_then(|f| f.set_times(times))
                .map_err(errno)?;
        }
        self.attr(path)
    }

    /// A directory's entries with `.` and `..` first, for readdir.
    pub(super) fn entries(
        &self,
        ino: INodeNo,
        path: &Path,
    ) -> Result<Vec<(u64, FileType, OsString)>, Errno> {
        let mut entries = vec![
            (ino.0, FileType::Directory, ".".into()),
            (1, FileType::Directory, "..".into()),
        ];
        for e in std::fs::read_dir(path).map_err(errno)?.flatten() {
            let kind = e.file_type().ok().and_then(FileType::from_std);
            let ino = std::os::unix::fs::DirEntryExt::ino(&e);
            entries.push((
                self.ino(ino),
                kind.unwrap_or(FileType::RegularFile),
                e.file_name(),
            ));
        }
        Ok(entries)
    }

    /// After a rename: every remembered path at or under `from` now lives under `to`.
    pub(super) fn renamed(&self, from: &Path, to: &Path) {
        for p in self.paths.lock().unwrap().values_mut() {
            if let Ok(rest) = p.strip_prefix(from) {
                *p = if rest.as_os_str().is_empty() {
                    to.to_path_buf()
                } else {
                    to.join(rest)
                };
            }
        }
    }
}
