//! Wall-clock skews with TiPocket's bands, through the database's Clock capability (the
//! local cluster: libfaketime with an offset file read on every time call).
//!
//! A skew fault picks a random non-empty subset of the nodes and, for each, an offset in
//! its band with a random sign: small_skews 0-100 ms, subcritical_skews 100-200 ms,
//! critical_skews 200-250 ms, big_skews 250-500 ms, huge_skews 0.5-5 s. The offsets are
//! recorded in the op as `params.offsets_ms`. `strobe_skews` flips one node's clock between
//! true time and an offset of 0.2-2 s every 10-100 ms while the fault lasts. Every clock
//! fault ends with the targets back at true time.

use crate::Fault;
use async_trait::async_trait;
use faultline_core::db::Capability;
use faultline_core::db::{Clock, Db, DbError, DbResult, NodeId};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

fn clock_capability(db: &dyn Db) -> DbResult<&dyn Clock> {
    db.as_clock().ok_or_else(|| {
        DbError::new(db.lacks(Capability::Clock).unwrap_or_else(|| {
            format!(
                "{} cannot shift node clocks (the local cluster needs libfaketime: apt-get install -y libfaketime)",
                db.name()
            )
        }))
    })
}

async fn reset(db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
    let clock = clock_capability(db)?;
    for n in targets {
        clock.set_offset(n, 0).await?;
    }
    Ok(())
}

/// A skew band: every target's clock moves by ±[lo, hi] ms.
pub struct ClockSkew {
    pub name: &'static str,
    pub description: &'static str,
    pub lo_ms: i64,
    pub hi_ms: i64,
}

pub const SMALL_SKEWS: ClockSkew = ClockSkew {
    name: "small_skews",
    description: "shift the wall clock of random nodes by ±0-100 ms, back to true time at the end",
    lo_ms: 0,
    hi_ms: 100,
};
pub const SUBCRITICAL_SKEWS: ClockSkew = ClockSkew {
    name: "subcritical_skews",
    description:
        "shift the wall clock of random nodes by ±100-200 ms, back to true time at the end",
    lo_ms: 100,
    hi_ms: 200,
};
pub const CRITICAL_SKEWS: ClockSkew = ClockSkew {
    name: "critical_skews",
    description:
        "shift the wall clock of random nodes by ±200-250 ms, back to true time at the end",
    lo_ms: 200,
    hi_ms: 250,
};
pub const BIG_SKEWS: ClockSkew = ClockSkew {
    name: "big_skews",
    description:
        "shift the wall clock of random nodes by ±250-500 ms, back to true time at the end",
    lo_ms: 250,
    hi_ms: 500,
};
pub const HUGE_SKEWS: ClockSkew = ClockSkew {
    name: "huge_skews",
    description: "shift the wall clock of random nodes by ±0.5-5 s, back to true time at the end",
    lo_ms: 500,
    hi_ms: 5000,
};

impl ClockSkew {
    /// The offsets of `targets` in `params`, or the band's upper edge for each.
    fn offsets(&self, targets: &[NodeId], params: &Value) -> Vec<(NodeId, i64)> {
        targets
            .iter()
            .map(|n| {
                let ms = params["offsets_ms"][n].as_i64().unwrap_or(self.hi_ms);
                (n.clone(), ms)
            })
            .collect()
    }
}

#[async_trait]
impl Fault for ClockSkew {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.description
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Clock]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        clock_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_subset(nodes, rng)
    }
    fn params(&self, targets: &[NodeId], rng: &mut ChaCha8Rng) -> Value {
        let mut offsets = serde_json::Map::new();
        for n in targets {
            let ms = rng.random_range(self.lo_ms..=self.hi_ms);
            let sign = if rng.random_bool(0.5) { 1 } else { -1 };
            offsets.insert(n.clone(), json!(sign * ms));
        }
        json!({ "offsets_ms": offsets })
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_with(db, targets, &Value::Null).await
    }
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], params: &Value) -> DbResult<()> {
        let clock = clock_capability(db)?;
        for (n, ms) in self.offsets(targets, params) {
            clock.set_offset(&n, ms).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        reset(db, targets).await
    }
}

/// Flips one node's clock back and forth while the fault lasts.
pub struct StrobeSkews;

#[async_trait]
impl Fault for StrobeSkews {
    fn name(&self) -> &'static str {
        "strobe_skews"
    }
    fn description(&self) -> &'static str {
        "flip one random node's wall clock between true time and +0.2-2 s every 10-100 ms while the fault lasts"
    }
    fn needs(&self) -> &'static [Capability] {
        &[Capability::Clock]
    }
    fn unsupported(&self, db: &dyn Db) -> Option<String> {
        clock_capability(db).err().map(|e| e.to_string())
    }
    fn targets(&self, nodes: &[NodeId], rng: &mut ChaCha8Rng) -> Vec<NodeId> {
        super::random_nodes(nodes, 1, rng)
    }
    fn params(&self, _targets: &[NodeId], rng: &mut ChaCha8Rng) -> Value {
        json!({
            "delta_ms": rng.random_range(200..=2000i64),
            "period_ms": rng.random_range(10..=100u64),
        })
    }
    async fn start(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        self.start_with(db, targets, &Value::Null).await
    }
    async fn start_with(&self, db: &dyn Db, targets: &[NodeId], params: &Value) -> DbResult<()> {
        let clock = clock_capability(db)?;
        let delta = params["delta_ms"].as_i64().unwrap_or(1000);
        let period = Duration::from_millis(params["period_ms"].as_u64().unwrap_or(50));
        for n in targets {
            clock.strobe(n, delta, period).await?;
        }
        Ok(())
    }
    async fn stop(&self, db: &dyn Db, targets: &[NodeId]) -> DbResult<()> {
        reset(db, targets).await
    }
}
