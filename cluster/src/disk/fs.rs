//! The passthrough: answers the kernel's FUSE requests from the backing dir
//! ([`super::backing`]), asking the node's fault switch before each operation. Runs as
//! root; `default_permissions` lets the kernel check access, and what is created is
//! chowned to the requesting uid/gid.

pub use super::backing::Passthrough;
use super::backing::{errno, TTL};
use super::switch::Op;
use fuser::{
    AccessFlags, Errno, FileHandle, Filesystem, FopenFlags, Generation, INodeNo, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry,
    ReplyOpen, ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::time::SystemTime;

macro_rules! tri {
    ($reply:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $reply.error(e),
        }
    };
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
        let attr = tri!(
            reply,
            self.set_attr(&path, fh, mode, uid, gid, size, atime, mtime)
        );
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
        self.renamed(&from, &to);
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
        let entries = tri!(reply, self.entries(ino, &path));
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
