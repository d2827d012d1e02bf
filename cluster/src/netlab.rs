//! The network lab: one network namespace per node, joined by a private bridge.
//!
//! Node k lives in namespace `fl<id>n<k>` with address `10.<a>.<b>.k/24` on its `eth0`, the
//! other end of a veth `fl<id>v<k>` plugged into the bridge `fl<id>br` (address `.254`) in
//! the root namespace, from where clients connect. The namespaces have no default route:
//! nothing leaves the machine. Partitions are iptables DROP rules inside a node's own
//! namespace (its INPUT and OUTPUT chains), so the root namespace's firewall is never
//! touched and deleting the namespace removes every rule with it.

use crate::{run, run_with_input, ClusterError, Result};
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
    ///
    /// Each namespace's rules are replaced in one `iptables-restore` transaction, and the
    /// nodes with the most enemies go first: cutting one node off is then a single step (its
    /// own rules drop both directions), where rule-by-rule installation left the cluster for
    /// a moment in a partial partition (n1-n2 cut, both still seeing n3). Galera formed its
    /// primary component in that moment out of the wrong pair ({n1, n3}), and the real
    /// majority {n2, n3} then could not reach quorum against it and stayed non-Primary.
    pub fn partition(&self, grudge: &Grudge) -> Result<()> {
        for k in install_order(grudge, self.nodes)? {
            let peers = match grudge.get(format!("n{k}").as_str()) {
                Some(enemies) => enemies
                    .iter()
                    .map(|e| Ok(self.address(node_index(e)?)))
                    .collect::<Result<Vec<_>>>()?,
                None => Vec::new(),
            };
            let ns = self.namespace(k);
            run_with_input(
                "ip",
                &["netns", "exec", &ns, "iptables-restore", "-w"],
                Some(&drop_rules(&peers)),
            )?;
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

/// The order in which a grudge's rules go in: nodes with the most enemies first (ties by
/// index), every node of the lab once (a node without enemies gets its rules cleared).
fn install_order(grudge: &Grudge, nodes: usize) -> Result<Vec<usize>> {
    let mut enemies = vec![0; nodes + 1];
    for (node, against) in grudge {
        let k = node_index(node)?;
        if k > nodes {
            return Err(ClusterError::Other(format!(
                "unknown node {node:?} (this cluster has n1..n{nodes})"
            )));
        }
        enemies[k] = against.len();
    }
    let mut order: Vec<usize> = (1..=nodes).collect();
    order.sort_by_key(|&k| (std::cmp::Reverse(enemies[k]), k));
    Ok(order)
}

/// An `iptables-restore` script that replaces the filter table with rules dropping every
/// packet to and from `peers` (one transaction: the node is cut from all of them at once).
fn drop_rules(peers: &[Ipv4Addr]) -> String {
    let mut script = String::from("*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
    for peer in peers {
        script += &format!("-A INPUT -s {peer}/32 -j DROP\n-A OUTPUT -d {peer}/32 -j DROP\n");
    }
    script + "COMMIT\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grudge(pairs: &[(&str, &[&str])]) -> Grudge {
        pairs
            .iter()
            .map(|(n, e)| (n.to_string(), e.iter().map(|x| x.to_string()).collect()))
            .collect()
    }

    #[test]
    fn the_isolated_node_is_cut_first_and_every_node_is_visited() {
        // n3 cut off from n1 and n2: n3's own rules cut it in one step.
        let g = grudge(&[("n1", &["n3"]), ("n2", &["n3"]), ("n3", &["n1", "n2"])]);
        assert_eq!(install_order(&g, 3).unwrap(), vec![3, 1, 2]);
        // The node with three enemies first, then the one with one;
        // a node outside the grudge is still visited, to clear what it had.
        let g = grudge(&[("n1", &["n3", "n4", "n5"]), ("n3", &["n1"])]);
        assert_eq!(install_order(&g, 5).unwrap(), vec![1, 3, 2, 4, 5]);
        assert!(install_order(&grudge(&[("n7", &["n1"])]), 3).is_err());
        assert!(install_order(&grudge(&[("x1", &["n1"])]), 3).is_err());
    }

    #[test]
    fn drop_rules_replace_the_filter_table_in_one_transaction() {
        let script = drop_rules(&[Ipv4Addr::new(10, 1, 2, 3)]);
        assert_eq!(
            script,
            "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
             -A INPUT -s 10.1.2.3/32 -j DROP\n-A OUTPUT -d 10.1.2.3/32 -j DROP\nCOMMIT\n"
        );
        assert_eq!(
            drop_rules(&[]),
            "*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"
        );
    }
}
