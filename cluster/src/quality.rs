//! Link quality in the network lab: packet loss and bandwidth caps here; delay with jitter is
//! the userspace delay line of [`crate::delayline`] (this kernel has no netem).
//!
//! * Loss: iptables rules in the node's own namespace, in the `mangle` table so that they
//!   never mix with the partition rules of the `filter` table (healing a partition leaves
//!   loss alone and the other way round): `-s <peer> -m statistic --mode random
//!   --probability p -j DROP` on INPUT and `-d <peer>` on OUTPUT, for every other node. A
//!   packet between two nodes thus crosses a lossy hop once per direction. Client traffic
//!   (from the bridge address) is not dropped.
//! * Bandwidth: a `tbf` qdisc on the node's `eth0` (what it sends) and on its veth in the
//!   root namespace (what it receives). Both directions are capped, clients included.

use crate::netlab::NetLab;
use crate::{run, Result};

impl NetLab {
    fn veth(&self, k: usize) -> String {
        format!("{}v{k}", self.prefix)
    }

    pub(crate) fn ns_cmd(&self, k: usize, program: &str, args: &[&str]) -> Result<String> {
        let ns = self.namespace(k);
        let mut full = vec!["netns", "exec", ns.as_str(), program];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// Replaces node `k`'s loss rules: `percent` of packets to and from every other node
    /// are dropped (0 removes them).
    pub fn set_loss(&self, k: usize, percent: f64) -> Result<()> {
        self.ns_cmd(k, "iptables", &["-w", "-t", "mangle", "-F"])?;
        if percent <= 0.0 {
            return Ok(());
        }
        let p = format!("{:.4}", (percent / 100.0).min(1.0));
        for peer in (1..=self.nodes).filter(|&j| j != k) {
            let addr = self.address(peer).to_string();
            for (chain, dir) in [("INPUT", "-s"), ("OUTPUT", "-d")] {
                self.ns_cmd(
                    k,
                    "iptables",
                    &[
                        "-w",
                        "-t",
                        "mangle",
                        "-A",
                        chain,
                        dir,
                        &addr,
                        "-m",
                        "statistic",
                        "--mode",
                        "random",
                        "--probability",
                        &p,
                        "-j",
                        "DROP",
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// The loss rules in node `k`'s namespace (empty when healed).
    pub fn loss_rules(&self, k: usize) -> Result<Vec<String>> {
        let out = self.ns_cmd(k, "iptables", &["-w", "-t", "mangle", "-S"])?;
        Ok(out
            .lines()
            .filter(|l| !l.starts_with("-P"))
            .map(str::to_string)
            .collect())
    }

    /// Caps node `k` at `kbit` kbit/s each way (tbf on its eth0 and on its veth).
    pub fn set_bandwidth(&self, k: usize, kbit: u32) -> Result<()> {
        let kbit = kbit.max(8);
        let rate = format!("{kbit}kbit");
        // At least one MTU-sized packet, and about 100 ms worth of the rate.
        let burst = ((kbit as u64 * 1000 / 8) / 10).max(3000).to_string();
        let tbf = [
            "root", "tbf", "rate", &rate, "burst", &burst, "latency", "500ms",
        ];
        let mut inside = vec!["qdisc", "replace", "dev", "eth0"];
        inside.extend_from_slice(&tbf);
        self.ns_cmd(k, "tc", &inside)?;
        let veth = self.veth(k);
        let mut outside = vec!["qdisc", "replace", "dev", veth.as_str()];
        outside.extend_from_slice(&tbf);
        run("tc", &outside)?;
        Ok(())
    }

    /// The root qdiscs of node `k` (its eth0, then its veth), as `tc qdisc show` prints them.
    pub fn qdiscs(&self, k: usize) -> Result<Vec<String>> {
        let inside = self.ns_cmd(k, "tc", &["qdisc", "show", "dev", "eth0"])?;
        let outside = run("tc", &["qdisc", "show", "dev", &self.veth(k)])?;
        Ok(inside
            .lines()
            .chain(outside.lines())
            .map(str::to_string)
            .collect())
    }

    /// Removes every loss rule, bandwidth cap and delay of every node.
    pub fn heal_quality(&self) -> Result<()> {
        let mut first_err = None;
        for k in 1..=self.nodes {
            if let Err(e) = self.heal_quality_of(k) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Removes node `k`'s loss rules, bandwidth cap and delay.
    pub fn heal_quality_of(&self, k: usize) -> Result<()> {
        let mut first_err = self.stop_delay(k).err();
        if let Err(e) = self.ns_cmd(k, "iptables", &["-w", "-t", "mangle", "-F"]) {
            first_err.get_or_insert(e);
        }
        // Deleting a root qdisc that is not there fails; that is the healed state.
        let _ = self.ns_cmd(k, "tc", &["qdisc", "del", "dev", "eth0", "root"]);
        let _ = run("tc", &["qdisc", "del", "dev", &self.veth(k), "root"]);
        if let Ok(q) = self.qdiscs(k) {
            if q.iter().any(|l| l.contains("tbf")) {
                first_err.get_or_insert(crate::ClusterError::Other(format!(
                    "a tbf qdisc of n{k} could not be removed: {q:?}"
                )));
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}
