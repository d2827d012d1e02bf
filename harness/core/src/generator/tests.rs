//! Generator tests: pure logic, no server involved, driven by a fake clock.

use super::*;
use rand::SeedableRng;

/// Asks `gen` as `process` at each of `times` (ms), with nothing in flight.
fn ask_at(
    gen: &mut Gen<u32>,
    rng: &mut ChaCha8Rng,
    times: &[u64],
    process: Process,
) -> Vec<Next<u32>> {
    let nodes: Vec<NodeId> = vec!["n1".into()];
    times
        .iter()
        .map(|&t| {
            let mut ctx = Ctx {
                time: Duration::from_millis(t),
                process,
                thread: 0,
                nodes: &nodes,
                in_flight: 0,
                rng,
            };
            gen.next(&mut ctx)
        })
        .collect()
}

fn counter() -> Gen<u32> {
    let mut i = 0;
    from_fn(move |_| {
        i += 1;
        i
    })
}

fn ops(v: &[Next<u32>]) -> Vec<u32> {
    v.iter()
        .filter_map(|n| match n {
            Next::Op(x) => Some(*x),
            _ => None,
        })
        .collect()
}

const C: Process = Process::Client(0);

#[test]
fn limit_stops_after_n_ops() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = limit(3, counter());
    let out = ask_at(&mut g, &mut rng, &[0, 0, 0, 0, 0], C);
    assert_eq!(ops(&out), vec![1, 2, 3]);
    assert_eq!(out[3], Next::Done);
}

#[test]
fn time_limit_ends_at_the_deadline_and_caps_waits() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = time_limit(Duration::from_millis(100), counter());
    let out = ask_at(&mut g, &mut rng, &[10, 50, 109, 110, 500], C);
    assert_eq!(ops(&out), vec![1, 2, 3]);
    assert_eq!(out[3], Next::Done);
    let mut g = time_limit(
        Duration::from_millis(100),
        sleep::<u32>(Duration::from_secs(60)),
    );
    let out = ask_at(&mut g, &mut rng, &[0], C);
    assert_eq!(out[0], Next::Wait(Some(Duration::from_millis(100))));
}

#[test]
fn delay_spaces_ops_evenly() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = delay(Duration::from_millis(10), counter());
    let out = ask_at(&mut g, &mut rng, &[0, 1, 10, 15, 20], C);
    assert_eq!(out[0], Next::Op(1));
    assert_eq!(out[1], Next::Wait(Some(Duration::from_millis(10))));
    assert_eq!(out[2], Next::Op(2));
    assert_eq!(out[3], Next::Wait(Some(Duration::from_millis(20))));
    assert_eq!(out[4], Next::Op(3));
}

#[test]
fn stagger_keeps_the_mean_rate() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut g = stagger(Duration::from_millis(10), counter());
    // Ask every millisecond for 10 simulated seconds: about 1000 ops.
    let times: Vec<u64> = (0..10_000).collect();
    let n = ops(&ask_at(&mut g, &mut rng, &times, C)).len();
    assert!((900..=1100).contains(&n), "{n} ops");
}

#[test]
fn sleep_waits_then_is_done() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g: Gen<u32> = seq(vec![sleep(Duration::from_millis(30)), once(9)]);
    let out = ask_at(&mut g, &mut rng, &[0, 29, 30, 31], C);
    assert_eq!(out[0], Next::Wait(Some(Duration::from_millis(30))));
    assert_eq!(out[1], Next::Wait(Some(Duration::from_millis(30))));
    assert_eq!(out[2], Next::Op(9));
    assert_eq!(out[3], Next::Done);
}

#[test]
fn phases_wait_for_in_flight_ops() {
    let nodes: Vec<NodeId> = vec![];
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g: Gen<u32> = phases(vec![once(1), once(2)]);
    let mut ask = |in_flight| {
        let mut ctx = Ctx {
            time: Duration::ZERO,
            process: C,
            thread: 0,
            nodes: &nodes,
            in_flight,
            rng: &mut rng,
        };
        g.next(&mut ctx)
    };
    assert_eq!(ask(0), Next::Op(1));
    assert_eq!(ask(1), Next::Wait(None));
    assert_eq!(ask(1), Next::Wait(None));
    assert_eq!(ask(0), Next::Op(2));
    assert_eq!(ask(0), Next::Done);
}

#[test]
fn mix_draws_from_every_generator_until_all_are_done() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut g = mix(vec![limit(5, from_fn(|_| 1)), limit(5, from_fn(|_| 2))]);
    let out = ask_at(&mut g, &mut rng, &[0; 11], C);
    let got = ops(&out);
    assert_eq!(got.iter().filter(|&&x| x == 1).count(), 5);
    assert_eq!(got.iter().filter(|&&x| x == 2).count(), 5);
    assert_eq!(out[10], Next::Done);
    // Not simply alternating or grouped: the order comes from the rng.
    assert_ne!(got, vec![1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    assert_ne!(got, vec![1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
}

#[test]
fn repeat_restarts_a_finished_generator() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = repeat(Some(3), |_| seq(vec![once(1), once(2)]));
    let out = ask_at(&mut g, &mut rng, &[0; 7], C);
    assert_eq!(ops(&out), vec![1, 2, 1, 2, 1, 2]);
    assert_eq!(out[6], Next::Done);
}

#[test]
fn clients_and_nemesis_draw_from_their_own_generators() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = clients_nemesis(limit(2, from_fn(|_| 1)), once(99));
    let n = Process::Nemesis;
    assert_eq!(ask_at(&mut g, &mut rng, &[0], n), vec![Next::Op(99)]);
    // The nemesis side is finished but the clients are not: the nemesis waits.
    assert_eq!(ask_at(&mut g, &mut rng, &[0], n), vec![Next::Wait(None)]);
    assert_eq!(ops(&ask_at(&mut g, &mut rng, &[0, 0], C)), vec![1, 1]);
    assert_eq!(ask_at(&mut g, &mut rng, &[0], C), vec![Next::Done]);
    assert_eq!(ask_at(&mut g, &mut rng, &[0], n), vec![Next::Done]);
}

#[test]
fn the_same_seed_replays_the_same_choices() {
    let run = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut g = stagger(
            Duration::from_millis(5),
            mix(vec![
                from_fn(|ctx: &mut Ctx<'_>| ctx.rng.random_range(0..1000)),
                from_fn(|ctx: &mut Ctx<'_>| 1000 + ctx.rng.random_range(0..1000)),
            ]),
        );
        let times: Vec<u64> = (0..2000).collect();
        ask_at(&mut g, &mut rng, &times, C)
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn map_transforms_ops() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = map(limit(2, counter()), |x, _| x * 10);
    assert_eq!(ops(&ask_at(&mut g, &mut rng, &[0, 0, 0], C)), vec![10, 20]);
}

#[test]
fn an_endless_nemesis_ends_with_the_clients() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = clients_nemesis(limit(1, from_fn(|_| 1)), from_fn(|_| 99));
    let n = Process::Nemesis;
    assert_eq!(ask_at(&mut g, &mut rng, &[0], n), vec![Next::Op(99)]);
    assert_eq!(ops(&ask_at(&mut g, &mut rng, &[0], C)), vec![1]);
    assert_eq!(ask_at(&mut g, &mut rng, &[0], C), vec![Next::Done]);
    assert_eq!(ask_at(&mut g, &mut rng, &[0], n), vec![Next::Done]);
}

/// Counts the completions it learns of, and stops after two failures.
struct StopAfterTwoFailures {
    failures: usize,
}

impl Generator<u32> for StopAfterTwoFailures {
    fn next(&mut self, _ctx: &mut Ctx<'_>) -> Next<u32> {
        if self.failures >= 2 {
            Next::Done
        } else {
            Next::Op(7)
        }
    }
    fn update(&mut self, completed: &crate::op::Op) {
        if completed.kind == crate::op::OpType::Fail {
            self.failures += 1;
        }
    }
}

#[test]
fn updates_reach_the_generator_that_gave_the_op_through_combinators() {
    use crate::op::{Op, OpType};
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g: Gen<u32> = clients_nemesis(
        time_limit(
            Duration::from_secs(100),
            stagger(
                Duration::ZERO,
                seq(vec![
                    Box::new(StopAfterTwoFailures { failures: 0 }),
                    once(8),
                ]),
            ),
        ),
        from_fn(|_| 99),
    );
    let fail = |process| Op {
        index: 0,
        time: 0,
        process,
        kind: OpType::Fail,
        f: "x".into(),
        value: serde_json::Value::Null,
        node: None,
        error: None,
    };
    assert_eq!(ops(&ask_at(&mut g, &mut rng, &[0], C)), vec![7]);
    // A nemesis completion goes to the nemesis side, not to the clients' generator.
    g.update(&fail(Process::Nemesis));
    g.update(&fail(Process::Nemesis));
    assert_eq!(ops(&ask_at(&mut g, &mut rng, &[0], C)), vec![7]);
    g.update(&fail(C));
    g.update(&fail(C));
    // Two client failures learned: the first generator is done, the second follows.
    assert_eq!(ops(&ask_at(&mut g, &mut rng, &[0], C)), vec![8]);
}
