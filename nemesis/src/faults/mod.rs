//! The faults, one file per family.

pub mod kill;
pub mod partition;

use faultline_core::db::NodeId;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// `n` distinct nodes chosen at random.
pub fn random_nodes(nodes: &[NodeId], n: usize, rng: &mut ChaCha8Rng) -> Vec<NodeId> {
    let mut v = nodes.to_vec();
    v.shuffle(rng);
    v.truncate(n);
    v.sort();
    v
}
