//! The network lab: one network namespace per node, joined by a private bridge.
//!
//! Node k lives in namespace `fl<id>n<k>` with address `10.<a>.<b>.k/24` on its `eth0`, the
//! other end of a veth `fl<id>v<k>` plugged into the bridge `fl<id>br` (address `.254`) in
//! the root namespace, from where clients connect. The namespaces have no default route:
//! nothing leaves the machine. Partitions are iptables DROP rules inside a node's own
//! namespace (its INPUT and OUTPUT chains), so the root namespace's firewall is never
//! touched and deleting the namespace removes every rule with it.

use crate::{run, ClusterError, Result};
use faultline_core::Grudge;
use rand::Rng;
use std::net::Ipv4Addr;

pub struct NetLab {
    pub prefix: String,
    pub nodes: usize,
    subnet: [u8; 3],
    torn_down: bool,
}

impl NetLab {
    /// Creates the bridge and `nodes` namespaces, choosing a free id.
    pub fn create(nodes: usize) -> Result<NetLab> {
        let mut rng = rand::rng();
        for _ in 0..20 {
            let id: u32 = rng.random_range(1..4000);
            let prefix = format!("fl{id}");
            let bridge = format!("{prefix}br");
            // Creating the bridge is the atomic claim on this id.
            if run("ip", &["link", "add", &bridge, "type", "bridge"]).is_err() {
                continue;
            }
            let mut lab = NetLab {
                prefix,
                nodes,
                subnet: [10, 200 + (id / 250) as u8, (id % 250) as u8],
                torn_down: false,
            };
            if let Err(e) = lab.build() {
                lab.teardown();
                return Err(e);
            }
            return Ok(lab);
        }
        Err(ClusterError::Other(
            "could not claim a network lab id after 20 tries (run `faultline cluster clean`)"
                .into(),
        ))
    }

    fn build(&mut self) -> Result<()> {
        let bridge = self.bridge();
        let gw = format!("{}/24", self.gateway());
        run("ip", &["addr", "add", &gw, "dev", &bridge])?;
        run("ip", &["link", "set", &bridge, "up"])?;
        for k in 1..=self.nodes {
            let ns = self.namespace(k);
            let veth = format!("{}v{k}", self.prefix);
            run("ip", &["netns", "add", &ns])?;
            run(
                "ip",
                &[
                    "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
                ],
            )?;
            run("ip", &["link", "set", &veth, "master", &bridge])?;
            run("ip", &["link", "set", &veth, "up"])?;
            let addr = format!("{}/24", self.address(k));
            run("ip", &["-n", &ns, "addr", "add", &addr, "dev", "eth0"])?;
            run("ip", &["-n", &ns, "link", "set", "eth0", "up"])?;
            run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
        }
        Ok(())
    }

    pub fn bridge(&self) -> String {
        format!("{}br", self.prefix)
    }

    /// The namespace of node `k` (1-based).
    pub fn namespace(&self, k: usize) -> String {
        format!("{}n{k}", self.prefix)
    }

    /// The address of node `k` (1-based).
    pub fn address(&self, k: usize) -> Ipv4Addr {
        Ipv4Addr::new(self.subnet[0], self.subnet[1], self.subnet[2], k as u8)
    }

    /// The root namespace's address on the bridge (where clients come from).
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.subnet[0], self.subnet[1], self.subnet[2], 254)
    }

    fn iptables(&self, k: usize, args: &[&str]) -> Result<()> {
        let ns = self.namespace(k);
        let mut full = vec!["netns", "exec", ns.as_str(), "iptables", "-w"];
        full.extend_from_slice(args);
        run("ip", &full).map(|_| ())
    }

    /// Replaces all partition rules with `grudge` (node names are `n<k>`). Each node drops
    /// packets to and from the nodes it holds a grudge against.
    pub fn partition(&self, grudge: &Grudge) -> Result<()> {
        self.heal()?;
        for (node, enemies) in grudge {
            let k = node_index(node)?;
            for enemy in enemies {
                let peer = self.address(node_index(enemy)?).to_string();
                self.iptables(k, &["-A", "INPUT", "-s", &peer, "-j", "DROP"])?;
                self.iptables(k, &["-A", "OUTPUT", "-d", &peer, "-j", "DROP"])?;
            }
        }
        Ok(())
    }

    /// Removes every partition rule in every namespace.
    pub fn heal(&self) -> Result<()> {
        let mut first_err = None;
        for k in 1..=self.nodes {
            for chain in ["INPUT", "OUTPUT"] {
                if let Err(e) = self.iptables(k, &["-F", chain]) {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Rules currently installed in node `k`'s namespace (for tests and status).
    pub fn rules(&self, k: usize) -> Result<Vec<String>> {
        let ns = self.namespace(k);
        let out = run("ip", &["netns", "exec", &ns, "iptables", "-w", "-S"])?;
        Ok(out
            .lines()
            .filter(|l| !l.starts_with("-P"))
            .map(str::to_string)
            .collect())
    }

    /// Kills anything still running in our namespaces, deletes them and the bridge.
    /// Idempotent; errors are logged, not returned, so teardown always goes all the way.
    pub fn teardown(&mut self) {
        if self.torn_down {
            return;
        }
        for k in 1..=self.nodes {
            // Deleting our end of the veth pair is synchronous. Left to the namespace's
            // deletion, the kernel frees the pair later, from a work queue: under load the
            // links were seen to outlive teardown by seconds.
            let _ = run("ip", &["link", "del", &format!("{}v{k}", self.prefix)]);
            remove_namespace(&self.namespace(k));
        }
        let _ = run("ip", &["link", "del", &self.bridge()]);
        self.torn_down = true;
    }
}

impl NetLab {
    /// Leaves the namespaces, bridge and links in place when this handle goes (a cluster
    /// kept after its run; `faultline cluster clean` removes them once we have exited).
    pub fn detach(&mut self) {
        self.torn_down = true;
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Kills every process inside `ns`, then deletes it (its veth goes with it).
pub(crate) fn remove_namespace(ns: &str) {
    if let Ok(pids) = run("ip", &["netns", "pids", ns]) {
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT);
        }
    }
    if let Err(e) = run("ip", &["netns", "del", ns]) {
        if !e.to_string().contains("No such file") {
            tracing::warn!("removing namespace {ns}: {e}");
        }
    }
}

/// `n3` -> 3.
pub fn node_index(node: &str) -> Result<usize> {
    node.strip_prefix('n')
        .and_then(|k| k.parse().ok())
        .filter(|&k: &usize| k >= 1)
        .ok_or_else(|| {
            ClusterError::Other(format!("unknown node {node:?} (nodes are n1, n2, ...)"))
        })
}
