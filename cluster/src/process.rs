//! A supervised server process: started inside a namespace, killed, paused, reaped.
//!
//! `ip netns exec` execs the server in place, so the child's pid is the server's pid. The
//! child runs in its own process group, so a Ctrl-C at the terminal reaches the harness only
//! and the harness decides how to stop the servers. A [`Supervised`] process kills itself
//! when dropped: no server outlives the handle that owns it, even on a panic.

use crate::{ClusterError, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Supervised {
    child: Child,
    paused: bool,
}

impl Supervised {
    /// Starts `program args` in namespace `ns`, stdout and stderr appended to `log`.
    pub fn spawn(ns: &str, program: &str, args: &[String], log: &Path) -> Result<Supervised> {
        Self::spawn_with_env(ns, program, args, &[], log)
    }

    /// Like [`Supervised::spawn`], with extra environment variables (e.g. libfaketime's).
    pub fn spawn_with_env(
        ns: &str,
        program: &str,
        args: &[String],
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Supervised> {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", ns, program]).args(args);
        Self::spawn_command(command, program, env, log)
    }

    /// Starts `program args` in the harness's own network namespace (the TiDB playground's
    /// components, which share loopback), stdout and stderr appended to `log`.
    pub fn spawn_host(program: &str, args: &[String], log: &Path) -> Result<Supervised> {
        let mut command = Command::new(program);
        command.args(args);
        Self::spawn_command(command, program, &[], log)
    }

    fn spawn_command(
        mut command: Command,
        program: &str,
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Supervised> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|source| ClusterError::Io {
                context: format!("opening {}", log.display()),
                source,
            })?;
        let err = out.try_clone().map_err(|source| ClusterError::Io {
            context: "cloning log handle".into(),
            source,
        })?;
        let child = command
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|source| ClusterError::Io {
                context: format!("starting {program}"),
                source,
            })?;
        Ok(Supervised {
            child,
            paused: false,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, sig: Signal) -> Result<()> {
        kill(Pid::from_raw(self.child.id() as i32), sig).map_err(|e| {
            ClusterError::Other(format!("sending {sig} to pid {}: {e}", self.child.id()))
        })
    }

    /// True while the process has not exited (a zombie counts as exited: it is reaped here).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// kill -9 and reap.
    pub fn kill(&mut self) {
        if self.is_running() {
            let _ = self.signal(Signal::SIGKILL);
            // A stopped process dies on SIGKILL too; CONT does no harm.
            let _ = self.signal(Signal::SIGCONT);
        }
        let _ = self.child.wait();
        self.paused = false;
    }

    /// SIGTERM, then kill -9 after `grace` if it has not exited. True when it exited cleanly
    /// within `grace`.
    pub fn stop(&mut self, grace: std::time::Duration) -> bool {
        if !self.is_running() {
            self.kill();
            return true;
        }
        let _ = self.signal(Signal::SIGCONT);
        let _ = self.signal(Signal::SIGTERM);
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if !self.is_running() {
                self.paused = false;
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.kill();
        false
    }

    pub fn pause(&mut self) -> Result<()> {
        self.signal(Signal::SIGSTOP)?;
        self.paused = true;
        Ok(())
    }

    pub fn resume(&mut self) -> Result<()> {
        self.signal(Signal::SIGCONT)?;
        self.paused = false;
        Ok(())
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }
}

impl Supervised {
    /// Lets the process outlive this handle (and the harness): it is no longer killed on
    /// drop. Returns its pid.
    pub fn detach(self) -> u32 {
        let pid = self.child.id();
        std::mem::forget(self);
        pid
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.kill();
    }
}
