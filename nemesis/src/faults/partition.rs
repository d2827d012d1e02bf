//! Network partitions, as grudges handed to the database's Partition capability.
//!
//! A grudge entry cuts the link between two nodes both ways (the local cluster drops the
//! packets in each node's own namespace), so every shape here is symmetric:
//! * `partition_one`: one random node against the rest.
//! * `partition_majority`: fixed halves (the first ⌊n/2⌋ nodes in name order against the
//!   others, Jepsen's partition-halves).
//! * `partition_random`: random halves, drawn anew each time.
//! * `partition_ring`: the nodes in a random ring, each node keeps the links to its nearest
//!   neighbours so that it sees a majority and no two nodes see the same one (Jepsen's
//!   majorities-ring, made symmetric). On three nodes the only such shape cuts one link,
//!   which is also what `partition_bridge` and `partition_link` do there.
//! * `partition_bridge`: two halves joined by one node that sees both.
//! * `partition_link`: one random link cut (`link_grudge` cuts a chosen one).
//!
//! The targets recorded in the history are the nodes in the order that defines the shape.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::Capability;
use faultline_core::db::{grudge_isolating, Db, DbError, DbResult, Grudge, NodeId, Partition};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

fn partition_capability(db: &dyn Db) -> DbResult<&dyn Partition> {
    db.as_partition().ok_or_else(|| {
        DbError::new(
            db.lacks(Capability::Partition)
                .unwrap_or_else(|| format!("{} cannot partition its nodes", db.name())),
        )
    })
}

fn unsupported(db: &dyn Db, min_nodes: usize) -> Option<String> {
    if db.nodes().len() < min_nodes {
        return Some(format!("this partition needs at least {min_nodes} nodes"));
    }
    partition_capability(db).err().map(|e| e.to_string())
}

/// Adds a symmetric cut between `a` and `b`.
fn cut(grudge: &mut Grudge, a: &NodeId, b: &NodeId) {
    grudge.entry(a.clone()).or_default().insert(b.clone());
    grudge.entry(b.clone()).or_default().insert(a.clone());
}

/// Cuts the one link between `a` and `b`.
pub fn link_grudge(a: &NodeId, b: &NodeId) -> Grudge {
    let mut g = Grudge::new();
    cut(&mut g, a, b);
    g
}

/// `order` as a ring: each node keeps the links to the nodes within ring distance `d`,
/// the smallest distance that shows it a majority; on three nodes, the link between the
/// first and the last node is cut.
pub fn ring_grudge(order: &[NodeId]) -> Grudge {
    let n = order.len();
    let mut g = Grudge::new();
    if n < 3 {
        return g;
    }
    if n == 3 {
        cut(&mut g, &order[0], &order[2]);
        return g;
    }
    let d = super::majority(n) / 2;
    for i in 0..n {
        for j in i + 1..n {
            let dist = (j - i).min(n - (j - i));
            if dist > d {
                cut(&mut g, &order[i], &order[j]);
            }
        }
    }
    g
}

/// `order[..n/2]` and `order[n/2+1..]` cut from each other; `order[n/2]` sees both.
pub fn bridge_grudge(order: &[NodeId]) -> Grudge {
    let m = order.len() / 2;
    let mut g = Grudge::new();
    if order.len() < 3 {
        return g;
    }
    for a in &order[..m] {
        for b in &order[m + 1..] {
            cut(&mut g, a, b);
        }
    }
    g
}

/// The nodes each node still sees (itself included), for tests and descriptions.
pub fn visible(nodes: &[NodeId], grudge: &Grudge) -> Vec<BTreeSet<NodeId>> {
    nodes
        .iter()
        .map(|n| {
            let enemies = grudge.get(n).cloned().unwrap_or_default();
            nodes
                .iter()
                .filter(|m| !enemies.contains(*m))
                .cloned()
                .collect()
        })
        .collect()
}

/// Defines a partition fault: name, description, minimum nodes, targets, grudge.
macro_rules! partition_fault {
    ($ty:ident, $name:literal, $desc:literal, $min:expr, $targets:expr, $grudge:expr) => {
        pub struct $ty;

        #[async_trait]
        impl Fault for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn description(&self) -> &'static str {
                $desc
            }
            fn needs(&self) -> &'static [Capability] {
                &[Capability::Partition]
            }
            fn unsupported(&self, db: &dyn Db) -> Option<String> {
                unsupported(db, $min)
            }
            fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
                let f: fn(&[NodeId], &mut ChaCha8Rng) -> Vec<NodeId> = $targets;
                f(nodes, rng)
            }
            async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
                let g: fn(&[NodeId], &[NodeId]) -> Grudge = $grudge;
                partition_capability(db)?
                    .partition(&g(&db.nodes(), targets))
                    .await
            }
            async fn stop(&self, db: &dyn Db, _targets: &[NodeId]) -> DbResult<()> {
                partition_capability(db)?.heal_network().await
            }
        }
    };
}

partition_fault!(
    PartitionOne,
    "partition_one",
    "isolate one random node from the other nodes (clients still reach it), heal at the end",
    2,
    |nodes, rng| super::random_nodes(nodes, 1, rng),
    |nodes, t| grudge_isolating(nodes, t)
);
partition_fault!(
    PartitionMajority,
    "partition_majority",
    "split the nodes into fixed halves (first n/2 by name vs the rest), heal at the end",
    2,
    |nodes, _| {
        let mut v = nodes.to_vec();
        v.sort();
        v.truncate(nodes.len() / 2);
        v
    },
    |nodes, t| grudge_isolating(nodes, t)
);
partition_fault!(
    PartitionRandom,
    "partition_random",
    "split the nodes into random halves (a new split each time), heal at the end",
    2,
    |nodes, rng| super::random_nodes(nodes, nodes.len() / 2, rng),
    |nodes, t| grudge_isolating(nodes, t)
);
partition_fault!(
    PartitionRing,
    "partition_ring",
    "nodes in a random ring, each sees only its neighbours: a majority, never the same one (on 3 nodes: one link cut)",
    3,
    |nodes, rng| super::shuffled(nodes, rng),
    |_, t| ring_grudge(t)
);
partition_fault!(
    PartitionBridge,
    "partition_bridge",
    "two random halves cut from each other but both joined to one bridge node, heal at the end",
    3,
    |nodes, rng| super::shuffled(nodes, rng),
    |_, t| bridge_grudge(t)
);
partition_fault!(
    PartitionLink,
    "partition_link",
    "cut the link between two random nodes (both still reach the others), heal at the end",
    2,
    |nodes, rng| super::random_nodes(nodes, 2, rng),
    |_, t| if t.len() == 2 {
        link_grudge(&t[0], &t[1])
    } else {
        Grudge::new()
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<NodeId> {
        (1..=n).map(|k| format!("n{k}")).collect()
    }

    #[test]
    fn ring_shows_every_node_a_different_majority() {
        for n in [3, 4, 5, 6, 7, 9] {
            let nodes = names(n);
            let seen = visible(&nodes, &ring_grudge(&nodes));
            for s in &seen {
                assert!(s.len() > n / 2, "n={n}: {seen:?}");
            }
            assert!(seen.iter().any(|s| s.len() < n), "n={n}: nothing cut");
            let distinct: BTreeSet<_> = seen.iter().collect();
            assert_eq!(distinct.len(), n, "n={n}: {seen:?}");
        }
    }

    #[test]
    fn bridge_node_sees_everyone_and_the_halves_do_not_see_each_other() {
        let nodes = names(5);
        let g = bridge_grudge(&nodes);
        let seen = visible(&nodes, &g);
        assert_eq!(seen[2].len(), 5);
        assert_eq!(
            seen[0],
            ["n1", "n2", "n3"].iter().map(|s| s.to_string()).collect()
        );
        assert_eq!(
            seen[4],
            ["n3", "n4", "n5"].iter().map(|s| s.to_string()).collect()
        );
    }

    #[test]
    fn a_link_cut_is_symmetric_and_only_that_link() {
        let g = link_grudge(&"n1".into(), &"n3".into());
        assert_eq!(g.len(), 2);
        assert!(g["n1"].contains("n3") && g["n3"].contains("n1"));
    }
}
