//! The fault schedule: quiet interval, a fault for a while, its end, again, until the run's
//! time limit. All choices (which fault, which nodes, how long) come from the run's seeded
//! random stream, so `--seed` replays them.

use crate::Fault;
use faultline_core::generator::{once, repeat, seq, sleep, Gen};
use faultline_core::Invocation;
use rand::Rng;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How the next fault is chosen from the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Random,
    RoundRobin,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ScheduleOptions {
    /// Quiet time before each fault.
    pub interval: Duration,
    /// Each fault lasts a random time in [min, max].
    pub duration_min: Duration,
    pub duration_max: Duration,
    pub mode: Mode,
    /// The nodes faults choose their targets among (default: every node of the run).
    pub candidates: Option<Vec<faultline_core::NodeId>>,
}

/// An endless nemesis generator over `faults`; empty when there are none.
pub fn schedule(faults: Arc<Vec<Box<dyn Fault>>>, opts: ScheduleOptions) -> Gen<Invocation> {
    if faults.is_empty() {
        return seq(vec![]);
    }
    let mut turn = 0usize;
    repeat(None, move |ctx| {
        let i = match opts.mode {
            Mode::Random => ctx.rng.random_range(0..faults.len()),
            Mode::RoundRobin => {
                turn += 1;
                (turn - 1) % faults.len()
            }
        };
        let fault = &faults[i];
        let nodes = fault.targets(opts.candidates.as_deref().unwrap_or(ctx.nodes), ctx.rng);
        let (lo, hi) = (
            opts.duration_min.as_millis() as u64,
            opts.duration_max.as_millis() as u64,
        );
        let span = Duration::from_millis(if hi > lo {
            ctx.rng.random_range(lo..=hi)
        } else {
            lo
        });
        let params = fault.params(&nodes, ctx.rng);
        let mut value = json!({ "fault": fault.name(), "nodes": nodes });
        if !params.is_null() {
            value["params"] = params;
        }
        seq(vec![
            sleep(opts.interval),
            once(Invocation::new("start", value.clone())),
            sleep(span),
            once(Invocation::new("stop", value)),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_core::generator::{Ctx, Generator, Next};
    use faultline_core::Process;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Runs the schedule on a fake clock (1 s steps) and returns (time, op) pairs.
    fn run(seed: u64, mode: Mode, secs: u64) -> Vec<(u64, Invocation)> {
        let faults =
            Arc::new(crate::lookup(&["random_kill".into(), "partition_one".into()]).unwrap());
        let mut g = schedule(
            faults,
            ScheduleOptions {
                interval: Duration::from_secs(5),
                duration_min: Duration::from_secs(10),
                duration_max: Duration::from_secs(20),
                mode,
                candidates: None,
            },
        );
        let nodes: Vec<String> = vec!["n1".into(), "n2".into(), "n3".into()];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::new();
        for t in 0..secs {
            let mut ctx = Ctx {
                time: Duration::from_secs(t),
                process: Process::Nemesis,
                thread: 0,
                nodes: &nodes,
                in_flight: 0,
                rng: &mut rng,
            };
            if let Next::Op(op) = g.next(&mut ctx) {
                out.push((t, op));
            }
        }
        out
    }

    #[test]
    fn faults_start_after_the_interval_and_stop_after_their_duration() {
        let ops = run(1, Mode::Random, 200);
        assert!(ops.len() >= 8, "{ops:?}");
        assert_eq!(ops[0].0, 5);
        for pair in ops.chunks(2) {
            let (t0, start) = &pair[0];
            let (t1, stop) = &pair[1];
            assert_eq!(start.f, "start");
            assert_eq!(stop.f, "stop");
            assert_eq!(start.value, stop.value);
            assert!((10..=21).contains(&(t1 - t0)), "{t0} {t1}");
            assert_eq!(start.value["nodes"].as_array().unwrap().len(), 1);
        }
    }

    #[test]
    fn round_robin_alternates_and_a_seed_replays() {
        let ops = run(3, Mode::RoundRobin, 200);
        let names: Vec<&str> = ops
            .iter()
            .step_by(2)
            .map(|(_, o)| o.value["fault"].as_str().unwrap())
            .collect();
        assert_eq!(
            &names[..4],
            &[
                "random_kill",
                "partition_one",
                "random_kill",
                "partition_one"
            ]
        );
        assert_eq!(run(9, Mode::Random, 300), run(9, Mode::Random, 300));
    }

    #[test]
    fn every_catalogued_fault_gets_valid_targets_and_replayable_params() {
        let names: Vec<String> = crate::catalogue()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        let mut g = schedule(
            Arc::new(crate::lookup(&names).unwrap()),
            ScheduleOptions {
                interval: Duration::ZERO,
                duration_min: Duration::ZERO,
                duration_max: Duration::ZERO,
                mode: Mode::RoundRobin,
                candidates: None,
            },
        );
        let nodes: Vec<String> = (1..=5).map(|k| format!("n{k}")).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut starts = Vec::new();
        let mut t = 0;
        while starts.len() < names.len() {
            let mut ctx = Ctx {
                time: Duration::from_millis(t),
                process: Process::Nemesis,
                thread: 0,
                nodes: &nodes,
                in_flight: 0,
                rng: &mut rng,
            };
            if let Next::Op(op) = g.next(&mut ctx) {
                if op.f == "start" {
                    starts.push(op);
                }
            }
            t += 1;
        }
        for (op, name) in starts.iter().zip(&names) {
            assert_eq!(op.value["fault"], name.as_str());
            let targets = op.value["nodes"].as_array().unwrap();
            assert!(!targets.is_empty(), "{name}: no targets");
            for n in targets {
                assert!(
                    nodes.contains(&n.as_str().unwrap().to_string()),
                    "{name}: {n}"
                );
            }
        }
        let count = |name: &str| {
            starts
                .iter()
                .find(|o| o.value["fault"] == name)
                .unwrap()
                .value["nodes"]
                .as_array()
                .unwrap()
                .len()
        };
        assert_eq!(count("minor_kill"), 2);
        assert_eq!(count("major_kill"), 3);
        assert_eq!(count("all_kill"), 5);
        assert_eq!(count("partition_ring"), 5);
        let skew = starts
            .iter()
            .find(|o| o.value["fault"] == "big_skews")
            .unwrap();
        for (_, ms) in skew.value["params"]["offsets_ms"].as_object().unwrap() {
            assert!(
                (250..=500).contains(&ms.as_i64().unwrap().abs()),
                "{skew:?}"
            );
        }
    }
}
