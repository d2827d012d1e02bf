//! Preflight: the programs a local cluster needs, each with the line that installs it.

use crate::ClusterError;
use std::path::Path;

pub const MARIADBD: &str = "/usr/sbin/mariadbd";
pub const INSTALL_DB: &str = "/usr/bin/mariadb-install-db";
pub const GALERA_PROVIDER: &str = "/usr/lib/galera/libgalera_smm.so";
pub const APT_LINE: &str =
    "apt-get install -y mariadb-server galera-4 rsync iptables iproute2 socat libfaketime";

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Checks that everything `local-galera` (or `local-mariadb` when `galera` is false) needs
/// is installed and that we run as root (namespaces and iptables need it).
pub fn check(galera: bool) -> Result<(), ClusterError> {
    let mut missing = Vec::new();
    if !Path::new(MARIADBD).is_file() {
        missing.push(MARIADBD.to_string());
    }
    if !Path::new(INSTALL_DB).is_file() {
        missing.push(INSTALL_DB.to_string());
    }
    if galera && !Path::new(GALERA_PROVIDER).is_file() {
        missing.push(format!("the Galera library {GALERA_PROVIDER}"));
    }
    for program in ["ip", "iptables"]
        .into_iter()
        .chain(galera.then_some("rsync"))
    {
        if !on_path(program) {
            missing.push(program.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(ClusterError::Missing(format!(
            "{} not installed: run `{APT_LINE}` (as root)",
            missing.join(", ")
        )));
    }
    if !nix::unistd::Uid::effective().is_root() {
        return Err(ClusterError::Missing(
            "the local cluster needs root (network namespaces, iptables): run as root or with sudo"
                .into(),
        ));
    }
    if nix::unistd::User::from_name("mysql")
        .ok()
        .flatten()
        .is_none()
    {
        return Err(ClusterError::Missing(format!(
            "user `mysql` does not exist (mariadbd must not run as root): run `{APT_LINE}`"
        )));
    }
    Ok(())
}
