//! Generators: pure, seeded decisions about which op comes next.
//!
//! One task owns the generator. A free worker asks it for an op through [`Generator::next`]
//! with a [`Ctx`] saying who asks, what time it is, how many ops are in flight, and the one
//! seeded [`ChaCha8Rng`] stream all choices come from. The answer is an op, a request to ask
//! again later ([`Next::Wait`]) or [`Next::Done`]. Given the same seed and the same sequence of
//! questions a generator gives the same answers; under real concurrency the questions'
//! order depends on timing, so a replay makes the same random choices but may hand them to
//! other workers (as in Jepsen).
//!
//! Combinators, after Jepsen's `jepsen.generator`: [`from_fn`], [`once`], [`seq`],
//! [`phases`] (with a barrier between phases), [`mix`], [`limit`], [`time_limit`],
//! [`stagger`] (random intervals, a mean rate), [`delay`] (fixed intervals), [`sleep`],
//! [`repeat`], [`clients_nemesis`] and [`map`].

use crate::db::NodeId;
use crate::op::{Op, Process};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// What the asker knows when it asks.
pub struct Ctx<'a> {
    /// Time since the run started.
    pub time: Duration,
    /// The process asking for an op.
    pub process: Process,
    /// The worker (Jepsen's thread) asking: stable for the run, unlike its process,
    /// which a client gets anew after an indeterminate op. Clients are 0..concurrency, in
    /// the order the workload's `client` was asked for them; the nemesis comes after.
    pub thread: usize,
    pub nodes: &'a [NodeId],
    /// Ops in flight on other workers (the asker is free).
    pub in_flight: usize,
    pub rng: &'a mut ChaCha8Rng,
}

/// A generator's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Next<T> {
    Op(T),
    /// Nothing for the asker yet. `Some(t)`: ask again at time `t` (since the run started);
    /// `None`: ask again when another op completes.
    Wait(Option<Duration>),
    /// Nothing more, ever, for this asker.
    Done,
}

pub trait Generator<T>: Send {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T>;
    /// Learns how an op ended: the interpreter passes every completion (`ok`, `fail`,
    /// `info`) as it records it (Jepsen's `update`). Combinators pass it on to the
    /// generators that may have produced the op. Default: nothing to learn.
    fn update(&mut self, _completed: &Op) {}
}

pub type Gen<T> = Box<dyn Generator<T>>;

impl<T> Generator<T> for Gen<T> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        (**self).next(ctx)
    }
    fn update(&mut self, completed: &Op) {
        (**self).update(completed)
    }
}

fn earlier(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (x, None) | (None, x) => x,
    }
}

// ---- from_fn -------------------------------------------------------------------------------

struct FromFn<F>(F);

impl<T, F: FnMut(&mut Ctx<'_>) -> T + Send> Generator<T> for FromFn<F> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        Next::Op((self.0)(ctx))
    }
}

/// An endless generator calling `f` for each op.
pub fn from_fn<T: 'static, F: FnMut(&mut Ctx<'_>) -> T + Send + 'static>(f: F) -> Gen<T> {
    Box::new(FromFn(f))
}

// ---- once ----------------------------------------------------------------------------------

struct Once<T>(Option<T>);

impl<T: Send> Generator<T> for Once<T> {
    fn next(&mut self, _ctx: &mut Ctx<'_>) -> Next<T> {
        match self.0.take() {
            Some(op) => Next::Op(op),
            None => Next::Done,
        }
    }
}

/// Exactly one op.
pub fn once<T: Send + 'static>(op: T) -> Gen<T> {
    Box::new(Once(Some(op)))
}

// ---- seq and phases -----------------------------------------------------------------------

struct Seq<T> {
    gens: std::collections::VecDeque<Gen<T>>,
    barrier: bool,
    /// A phase just finished; the next may start once nothing is in flight.
    at_barrier: bool,
}

impl<T> Generator<T> for Seq<T> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        loop {
            if self.at_barrier {
                if ctx.in_flight > 0 {
                    // Every op of the finished phase must complete before the next starts.
                    return Next::Wait(None);
                }
                self.at_barrier = false;
            }
            let Some(g) = self.gens.front_mut() else {
                return Next::Done;
            };
            match g.next(ctx) {
                Next::Done => {
                    self.gens.pop_front();
                    self.at_barrier = self.barrier && !self.gens.is_empty();
                }
                other => return other,
            }
        }
    }
    fn update(&mut self, completed: &Op) {
        if let Some(g) = self.gens.front_mut() {
            g.update(completed);
        }
    }
}

/// One generator after the other, without waiting between them (a Jepsen vector).
pub fn seq<T: 'static>(gens: Vec<Gen<T>>) -> Gen<T> {
    Box::new(Seq {
        gens: gens.into(),
        barrier: false,
        at_barrier: false,
    })
}

/// One generator after the other; each phase starts only once every op of the previous
/// phase has completed.
pub fn phases<T: 'static>(gens: Vec<Gen<T>>) -> Gen<T> {
    Box::new(Seq {
        gens: gens.into(),
        barrier: true,
        at_barrier: false,
    })
}

// ---- mix -----------------------------------------------------------------------------------

struct Mix<T>(Vec<Gen<T>>);

impl<T> Generator<T> for Mix<T> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        let mut wait = None;
        // Try generators in a random order until one gives an op.
        let mut order: Vec<usize> = (0..self.0.len()).collect();
        let mut done = Vec::new();
        while !order.is_empty() {
            let k = ctx.rng.random_range(0..order.len());
            let i = order.swap_remove(k);
            match self.0[i].next(ctx) {
                Next::Op(op) => {
                    self.remove(done);
                    return Next::Op(op);
                }
                Next::Wait(t) => wait = earlier(wait, t),
                Next::Done => done.push(i),
            }
        }
        self.remove(done);
        if self.0.is_empty() {
            Next::Done
        } else {
            Next::Wait(wait)
        }
    }
    fn update(&mut self, completed: &Op) {
        for g in &mut self.0 {
            g.update(completed);
        }
    }
}

impl<T> Mix<T> {
    fn remove(&mut self, mut done: Vec<usize>) {
        done.sort_unstable();
        for i in done.into_iter().rev() {
            self.0.remove(i);
        }
    }
}

/// A uniformly random choice among the generators for each op.
pub fn mix<T: 'static>(gens: Vec<Gen<T>>) -> Gen<T> {
    Box::new(Mix(gens))
}

// ---- limit ---------------------------------------------------------------------------------

struct Limit<T> {
    left: usize,
    inner: Gen<T>,
}

impl<T> Generator<T> for Limit<T> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        if self.left == 0 {
            return Next::Done;
        }
        let n = self.inner.next(ctx);
        if matches!(n, Next::Op(_)) {
            self.left -= 1;
        }
        n
    }
    fn update(&mut self, completed: &Op) {
        self.inner.update(completed);
    }
}

/// At most `n` ops.
pub fn limit<T: 'static>(n: usize, inner: Gen<T>) -> Gen<T> {
    Box::new(Limit { left: n, inner })
}

// ---- time_limit ----------------------------------------------------------------------------

struct TimeLimit<T> {
    span: Duration,
    deadline: Option<Duration>,
    inner: Gen<T>,
}

impl<T> Generator<T> for TimeLimit<T> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        let deadline = *self.deadline.get_or_insert(ctx.time + self.span);
        if ctx.time >= deadline {
            return Next::Done;
        }
        match self.inner.next(ctx) {
            // "Ask again when an op completes" stays so (the interpreter also re-asks such
            // waits every 100 ms, which is when the deadline is noticed); a timed wait ends
            // at the deadline at the latest.
            Next::Wait(Some(t)) => Next::Wait(Some(t.min(deadline))),
            other => other,
        }
    }
    fn update(&mut self, completed: &Op) {
        self.inner.update(completed);
    }
}

/// Ops until `span` has passed since the first question.
pub fn time_limit<T: 'static>(span: Duration, inner: Gen<T>) -> Gen<T> {
    Box::new(TimeLimit {
        span,
        deadline: None,
        inner,
    })
}

// ---- stagger and delay ---------------------------------------------------------------------

struct Paced<T> {
    interval: Duration,
    random: bool,
    next_at: Option<Duration>,
    inner: Gen<T>,
}

impl<T> Generator<T> for Paced<T> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        let at = *self.next_at.get_or_insert(ctx.time);
        if ctx.time < at {
            return Next::Wait(Some(at));
        }
        let n = self.inner.next(ctx);
        if matches!(n, Next::Op(_)) {
            let step = if self.random {
                let nanos = self.interval.as_nanos() as u64 * 2;
                Duration::from_nanos(if nanos == 0 {
                    0
                } else {
                    ctx.rng.random_range(0..nanos)
                })
            } else {
                self.interval
            };
            // Do not let a slow asker build up a burst: pace from now at the latest.
            self.next_at = Some(at.max(ctx.time.saturating_sub(self.interval)) + step);
        }
        n
    }
    fn update(&mut self, completed: &Op) {
        self.inner.update(completed);
    }
}

/// Ops at random intervals, uniform in [0, 2*mean): a total rate of one op per `mean`,
/// shared by all askers.
pub fn stagger<T: 'static>(mean: Duration, inner: Gen<T>) -> Gen<T> {
    Box::new(Paced {
        interval: mean,
        random: true,
        next_at: None,
        inner,
    })
}

/// Ops exactly `interval` apart.
pub fn delay<T: 'static>(interval: Duration, inner: Gen<T>) -> Gen<T> {
    Box::new(Paced {
        interval,
        random: false,
        next_at: None,
        inner,
    })
}

// ---- sleep ---------------------------------------------------------------------------------

struct Sleep {
    span: Duration,
    until: Option<Duration>,
}

impl<T> Generator<T> for Sleep {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        let until = *self.until.get_or_insert(ctx.time + self.span);
        if ctx.time >= until {
            Next::Done
        } else {
            Next::Wait(Some(until))
        }
    }
}

/// No ops for `span` (from the first question), then done. Used between nemesis ops.
pub fn sleep<T: 'static>(span: Duration) -> Gen<T> {
    Box::new(Sleep { span, until: None })
}

// ---- repeat --------------------------------------------------------------------------------

struct Repeat<T, F> {
    make: F,
    times: Option<usize>,
    current: Option<Gen<T>>,
}

impl<T, F: FnMut(&mut Ctx<'_>) -> Gen<T> + Send> Generator<T> for Repeat<T, F> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        // Bounded so that a generator that is done at once cannot spin forever.
        for _ in 0..1000 {
            if self.current.is_none() {
                match &mut self.times {
                    Some(0) => return Next::Done,
                    Some(n) => *n -= 1,
                    None => {}
                }
                self.current = Some((self.make)(ctx));
            }
            match self.current.as_mut().expect("set above").next(ctx) {
                Next::Done => self.current = None,
                other => return other,
            }
        }
        Next::Wait(None)
    }
    fn update(&mut self, completed: &Op) {
        if let Some(g) = &mut self.current {
            g.update(completed);
        }
    }
}

/// Runs a fresh generator from `make` each time the previous one is done; `times: None`
/// repeats forever.
pub fn repeat<T: 'static, F>(times: Option<usize>, make: F) -> Gen<T>
where
    F: FnMut(&mut Ctx<'_>) -> Gen<T> + Send + 'static,
{
    Box::new(Repeat {
        make,
        times,
        current: None,
    })
}

// ---- clients_nemesis ------------------------------------------------------------------------

struct ClientsNemesis<T> {
    clients: Option<Gen<T>>,
    nemesis: Option<Gen<T>>,
}

impl<T> Generator<T> for ClientsNemesis<T> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<T> {
        let slot = if ctx.process.is_nemesis() {
            &mut self.nemesis
        } else {
            &mut self.clients
        };
        if let Some(g) = slot {
            match g.next(ctx) {
                Next::Done => *slot = None,
                other => return other,
            }
        }
        if self.clients.is_none() {
            // Without clients there is nothing left to test: the nemesis stops too (the
            // run heals whatever is still active).
            self.nemesis = None;
            Next::Done
        } else {
            // The nemesis is finished; the clients are not.
            Next::Wait(None)
        }
    }
    fn update(&mut self, completed: &Op) {
        let slot = if completed.process.is_nemesis() {
            &mut self.nemesis
        } else {
            &mut self.clients
        };
        if let Some(g) = slot {
            g.update(completed);
        }
    }
}

/// Client workers draw from `clients`, the nemesis worker from `nemesis`. Done when the
/// clients are (an endless nemesis schedule ends with them).
pub fn clients_nemesis<T: 'static>(clients: Gen<T>, nemesis: Gen<T>) -> Gen<T> {
    Box::new(ClientsNemesis {
        clients: Some(clients),
        nemesis: Some(nemesis),
    })
}

/// Only client workers get ops; the nemesis worker is done at once.
pub fn clients_only<T: 'static>(clients: Gen<T>) -> Gen<T> {
    Box::new(ClientsNemesis {
        clients: Some(clients),
        nemesis: None,
    })
}

// ---- map -----------------------------------------------------------------------------------

struct Map<T, F> {
    inner: Gen<T>,
    f: F,
}

impl<T, U, F: FnMut(T, &mut Ctx<'_>) -> U + Send> Generator<U> for Map<T, F> {
    fn next(&mut self, ctx: &mut Ctx<'_>) -> Next<U> {
        match self.inner.next(ctx) {
            Next::Op(op) => Next::Op((self.f)(op, ctx)),
            Next::Wait(t) => Next::Wait(t),
            Next::Done => Next::Done,
        }
    }
    fn update(&mut self, completed: &Op) {
        self.inner.update(completed);
    }
}

/// Transforms each op.
pub fn map<T: 'static, U: 'static, F>(inner: Gen<T>, f: F) -> Gen<U>
where
    F: FnMut(T, &mut Ctx<'_>) -> U + Send + 'static,
{
    Box::new(Map { inner, f })
}

#[cfg(test)]
mod tests;
