//! The faults, one file per family: process crashes and restarts ([`kill`]), freezes
//! ([`pause`]), network partitions ([`partition`]), wall-clock skews ([`clock`]) and link
//! quality ([`net`]), disks ([`disk`]), CPU and memory pressure
//! ([`stress`]), and TiDB's own: killing the PD leader ([`tidb`]).

pub mod clock;
pub mod disk;
pub mod kill;
pub mod net;
pub mod partition;
pub mod pause;
pub mod stress;
pub mod tidb;

use faultline_core::db::NodeId;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// `n` distinct nodes chosen at random.
pub fn random_nodes(nodes: &[NodeId], n: usize, rng: &mut ChaCha8Rng) -> Vec<NodeId> {
    let mut v = nodes.to_vec();
    v.shuffle(rng);
    v.truncate(n);
    v.sort();
    v
}

/// Every node, in a random order (for faults whose shape follows the order).
pub fn shuffled(nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
    let mut v = nodes.to_vec();
    v.shuffle(rng);
    v
}

/// A random non-empty subset of the nodes (Jepsen's random-nonempty-subset).
pub fn random_subset(nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
    if nodes.is_empty() {
        return Vec::new();
    }
    let n = rng.random_range(1..=nodes.len());
    random_nodes(nodes, n, rng)
}

/// The size of a majority of `n` nodes.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// The size of the largest minority of `n` nodes (at least one).
pub fn minority(n: usize) -> usize {
    (n.saturating_sub(1) / 2).max(1).min(n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn majorities_and_minorities() {
        assert_eq!((super::majority(3), super::minority(3)), (2, 1));
        assert_eq!((super::majority(5), super::minority(5)), (3, 2));
        assert_eq!((super::majority(4), super::minority(4)), (3, 1));
        assert_eq!(super::minority(1), 1);
    }
}
