//! The passthrough: serves a backing dir through FUSE, asking the node's [`FaultSwitch`]
//! before each operation. Inode numbers are the backing file system's (the root is 1); each
//! looked-up inode remembers one path. Runs as root; `default_permissions` lets the kernel
//! check access, and what is created is chowned to the requesting uid/gid.

use super::switch::{FaultSwitch, Op};
use fuser::{
    AccessFlags, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TTL: Duration = Duration::from_secs(1);

pub struct Passthrough {
    switch: FaultSwitch,
    root_ino: u64,
    paths: Mutex<HashMap<u64, PathBuf>>,
    files: Mutex<HashMap<u64, Arc<File>>>,
    next_fh: AtomicU64,
}

fn errno(e: std::io::Error) -> Errno {
    Errno::from_i32(e.raw_os_error().unwrap_or(libc::EIO))
}

fn time(secs: i64, nsecs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::new(secs as u64, nsecs as u32)
    } else {
        UNIX_EPOCH
    }
}

macro_rules! tri {
    ($reply:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $reply.error(e),
        }
    };
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
    fn ino(&self, backing: u64) -> u64 {
        match backing {
            b if b == self.root_ino => 1,
            1 => self.root_ino,
            b => b,
        }
    }

    fn check(&self, op: Op) -> Result<(), Errno> {
        self.switch.check(op, || false).map_err(Errno::from_i32)
    }

    fn path(&self, ino: INodeNo) -> Result<PathBuf, Errno> {
        self.paths
            .lock()
            .unwrap()
            .get(&ino.0)
            .cloned()
            .ok_or(Errno::ENOENT)
    }

    fn child(&self, parent: INodeNo, name: &OsStr) -> Result<PathBuf, Errno> {
        Ok(self.path(parent)?.join(name))
    }

    fn file(&self, fh: FileHandle) -> Result<Arc<File>, Errno> {
        self.files
            .lock()
            .unwrap()
            .get(&fh.0)
            .cloned()
            .ok_or(Errno::EBADF)
    }

    fn attr(&self, path: &Path) -> Result<FileAttr, Errno> {
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
    fn remember(&self, path: PathBuf) -> Result<FileAttr, Errno> {
        let attr = self.attr(&path)?;
        self.paths.lock().unwrap().insert(attr.ino.0, path);
        Ok(attr)
    }

    /// A new name is owned by whoever asked for it.
    fn own(&self, req: &Request, path: &Path) -> Result<FileAttr, Errno> {
        std::os::unix::fs::lchown(path, Some(req.uid()), Some(req.gid())).map_err(errno)?;
        self.remember(path.to_path_buf())
    }

    fn open_file(&self, path: &Path, flags: i32, create: Option<u32>) -> Result<u64, Errno> {
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

    fn sync(&self, fh: FileHandle, datasync: bool) -> Result<(), Errno> {
        self.check(Op::Sync)?;
        let f = self.file(fh)?;
        if datasync {
            f.sync_data()
        } else {
            f.sync_all()
        }
        .map_err(errno)
    }
}

impl Filesystem for Passthrough {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.child(parent, name));
        let attr = tri!(reply, self.remember(path));
        reply.entry(&TTL, &attr, Generation(0));
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        tri!(reply, self.check(Op::Meta));
        let attr = tri!(reply, self.path(ino).and_then(|p| self.attr(&p)));
        reply.attr(&TTL, &attr);
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.path(ino));
        if let Some(mode) = mode {
            let perms = std::fs::Permissions::from_mode(mode & 0o7777);
            tri!(reply, std::fs::set_permissions(&path, perms).map_err(errno));
        }
        if uid.is_some() || gid.is_some() {
            tri!(
                reply,
                std::os::unix::fs::lchown(&path, uid, gid).map_err(errno)
            );
        }
        if let Some(size) = size {
            let r = match fh.map(|fh| self.file(fh)) {
                Some(Ok(f)) => f.set_len(size),
                _ => OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_len(size)),
            };
            tri!(reply, r.map_err(errno));
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
            let r = File::open(&path).and_then(|f| f.set_times(times));
            tri!(reply, r.map_err(errno));
        }
        let attr = tri!(reply, self.attr(&path));
        reply.attr(&TTL, &attr);
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.path(ino));
        let target = tri!(reply, std::fs::read_link(path).map_err(errno));
        reply.data(std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str()));
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        tri!(reply, self.check(Op::Create));
        let path = tri!(reply, self.child(parent, name));
        let mut b = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(&mut b, mode & !umask);
        tri!(reply, b.create(&path).map_err(errno));
        let attr = tri!(reply, self.own(req, &path));
        reply.entry(&TTL, &attr, Generation(0));
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.child(parent, name));
        tri!(reply, std::fs::remove_file(path).map_err(errno));
        reply.ok();
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.child(parent, name));
        tri!(reply, std::fs::remove_dir(path).map_err(errno));
        reply.ok();
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        tri!(reply, self.check(Op::Create));
        let path = tri!(reply, self.child(parent, link_name));
        tri!(
            reply,
            std::os::unix::fs::symlink(target, &path).map_err(errno)
        );
        let attr = tri!(reply, self.own(req, &path));
        reply.entry(&TTL, &attr, Generation(0));
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        tri!(reply, self.check(Op::Meta));
        if !flags.is_empty() {
            return reply.error(Errno::EINVAL);
        }
        let from = tri!(reply, self.child(parent, name));
        let to = tri!(reply, self.child(newparent, newname));
        tri!(reply, std::fs::rename(&from, &to).map_err(errno));
        for p in self.paths.lock().unwrap().values_mut() {
            if let Ok(rest) = p.strip_prefix(&from) {
                *p = if rest.as_os_str().is_empty() {
                    to.clone()
                } else {
                    to.join(rest)
                };
            }
        }
        reply.ok();
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        tri!(reply, self.check(Op::Create));
        let from = tri!(reply, self.path(ino));
        let to = tri!(reply, self.child(newparent, newname));
        tri!(reply, std::fs::hard_link(&from, &to).map_err(errno));
        let attr = tri!(reply, self.attr(&to));
        reply.entry(&TTL, &attr, Generation(0));
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.path(ino));
        let fh = tri!(reply, self.open_file(&path, flags.0, None));
        reply.opened(FileHandle(fh), FopenFlags::empty());
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        tri!(reply, self.check(Op::Create));
        let path = tri!(reply, self.child(parent, name));
        let fh = tri!(reply, self.open_file(&path, flags, Some(mode & !umask)));
        let attr = tri!(reply, self.own(req, &path));
        reply.created(
            &TTL,
            &attr,
            Generation(0),
            FileHandle(fh),
            FopenFlags::empty(),
        );
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyData,
    ) {
        tri!(reply, self.check(Op::Read));
        let f = tri!(reply, self.file(fh));
        let mut buf = vec![0u8; size as usize];
        let mut done = 0;
        while done < buf.len() {
            match f.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return reply.error(errno(e)),
            }
        }
        reply.data(&buf[..done]);
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyWrite,
    ) {
        let f = tri!(reply, self.file(fh));
        let end = offset + data.len() as u64;
        let grows = || f.metadata().map(|m| end > m.size()).unwrap_or(true);
        tri!(
            reply,
            self.switch.check(Op::Write, grows).map_err(Errno::from_i32)
        );
        tri!(reply, f.write_all_at(data, offset).map_err(errno));
        reply.written(data.len() as u32);
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lo: fuser::LockOwner,
        reply: ReplyEmpty,
    ) {
        tri!(reply, self.check(Op::Meta));
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.files.lock().unwrap().remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        tri!(reply, self.sync(fh, datasync));
        reply.ok();
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.path(ino));
        let mut entries = vec![
            (ino.0, FileType::Directory, ".".into()),
            (1, FileType::Directory, "..".into()),
        ];
        for e in tri!(reply, std::fs::read_dir(&path).map_err(errno)).flatten() {
            let kind = e.file_type().ok().and_then(FileType::from_std);
            let ino = std::os::unix::fs::DirEntryExt::ino(&e);
            entries.push((
                self.ino(ino),
                kind.unwrap_or(FileType::RegularFile),
                e.file_name(),
            ));
        }
        for (i, (ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize) {
            if reply.add(INodeNo(ino), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _ds: bool,
        reply: ReplyEmpty,
    ) {
        tri!(reply, self.check(Op::Sync));
        let path = tri!(reply, self.path(ino));
        tri!(
            reply,
            File::open(path).and_then(|d| d.sync_all()).map_err(errno)
        );
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        tri!(reply, self.check(Op::Meta));
        let path = tri!(reply, self.path(INodeNo::ROOT));
        let s = tri!(
            reply,
            nix::sys::statvfs::statvfs(&path).map_err(|e| Errno::from_i32(e as i32))
        );
        let (free, avail) = if self.switch.full() {
            (0, 0)
        } else {
            (s.blocks_free(), s.blocks_available())
        };
        reply.statfs(
            s.blocks(),
            free,
            avail,
            s.files(),
            s.files_free(),
            s.block_size() as u32,
            s.name_max() as u32,
            s.fragment_size() as u32,
        );
    }

    fn access(&self, _req: &Request, ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        tri!(reply, self.check(Op::Meta));
        // default_permissions: the kernel has checked the mode bits already.
        tri!(reply, self.path(ino).and_then(|p| self.attr(&p)));
        reply.ok();
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let f = tri!(reply, self.file(fh));
        let grows = || {
            f.metadata()
                .map(|m| offset + length > m.size())
                .unwrap_or(true)
        };
        tri!(
            reply,
            self.switch.check(Op::Write, grows).map_err(Errno::from_i32)
        );
        let flags = nix::fcntl::FallocateFlags::from_bits_truncate(mode);
        let r = nix::fcntl::fallocate(&*f, flags, offset as i64, length as i64);
        tri!(reply, r.map_err(|e| Errno::from_i32(e as i32)));
        reply.ok();
    }
}
