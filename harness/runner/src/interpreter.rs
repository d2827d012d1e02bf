//! The interpreter: one coordinator, many workers.
//!
//! The coordinator alone owns the generator, the seeded random stream and the history
//! [`Recorder`]. A free worker sends it the completion of its last op and gets the next
//! invocation back; the coordinator stamps and records both ends of every op, so the history
//! is totally ordered by index and time. Workers only execute: a client worker runs each op
//! under the op timeout and, when it fires, drops its connection (`Client::reset`) and
//! reports `info` (or `fail` for a read, which has no effect). After an `info` the worker's
//! process is retired and it continues under a fresh process id. Every completion is also
//! passed to the generator ([`Generator::update`](faultline_core::Generator::update)), so a
//! generator can learn from outcomes. A cancel signal (Ctrl-C)
//! makes the coordinator hand out no more ops; ops in flight finish within their timeout.
//!
//! A client worker whose ops keep failing waits before its next one ([`fail_backoff`]:
//! none after one failure, then 1 ms doubling to 100 ms; none after an ok or info): a node that refuses at once (not in the primary component, connection refused)
//! is not hammered with thousands of failing ops a second, which would only fill the
//! history. The generator is not asked while a worker backs off.

use faultline_core::generator::{Ctx, Gen, Next};
use faultline_core::{Client, Completion, HistoryWriter, Invocation, Nemesis, Op, OpType, Process};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Writes stamped ops to history.jsonl, flushing at least once a second.
pub struct Recorder {
    writer: HistoryWriter,
    start: Instant,
    next_index: u64,
    last_flush: Instant,
    tally: Option<Arc<crate::progress::Tally>>,
}

impl Recorder {
    pub fn create(path: &Path) -> std::io::Result<Recorder> {
        Ok(Recorder {
            writer: HistoryWriter::create(path)?,
            start: Instant::now(),
            next_index: 0,
            last_flush: Instant::now(),
            tally: None,
        })
    }

    /// Every op recorded from now on is also counted in `tally` (the progress line).
    pub fn with_tally(mut self, tally: Arc<crate::progress::Tally>) -> Recorder {
        self.tally = Some(tally);
        self
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn record(
        &mut self,
        process: Process,
        kind: OpType,
        f: &str,
        value: Value,
        node: Option<String>,
        error: Option<String>,
    ) -> Op {
        let op = Op {
            index: self.next_index,
            time: self.start.elapsed().as_nanos() as u64,
            process,
            kind,
            f: f.to_string(),
            value,
            node,
            error,
        };
        self.next_index += 1;
        if let Some(t) = &self.tally {
            t.note(&op);
        }
        if let Err(e) = self.writer.append(&op) {
            tracing::error!("writing the history: {e}");
        }
        self.flush_if_due();
        op
    }

    pub fn flush_if_due(&mut self) {
        if self.last_flush.elapsed() >= Duration::from_millis(500) {
            let _ = self.writer.flush();
            self.last_flush = Instant::now();
        }
    }

    pub fn sync(&mut self) {
        if let Err(e) = self.writer.sync() {
            tracing::error!("syncing the history: {e}");
        }
    }

    pub fn ops_recorded(&self) -> u64 {
        self.next_index
    }
}

/// A client bound to the node it talks to.
pub struct BoundClient {
    pub node: String,
    pub client: Box<dyn Client>,
}

enum Assignment {
    Op(Invocation),
    Done,
}

struct Request {
    worker: usize,
    completion: Option<Completion>,
}

struct WorkerState {
    process: Process,
    node: Option<String>,
    busy: Option<Invocation>,
    waiting: Option<Option<Duration>>,
    /// When this worker began to wait (a sequence number): waiting workers are re-asked
    /// oldest first, so that a worker whose ops complete at once cannot take every paced
    /// slot and starve the workers of other nodes.
    waiting_since: u64,
    /// Client ops that failed in a row, and when the next op may start.
    fails_in_a_row: u32,
    not_before: Duration,
    done: bool,
    tx: mpsc::Sender<Assignment>,
}

/// A client worker's wait after its second failed op in a row (none after one).
pub const FAIL_BACKOFF_FIRST: Duration = Duration::from_millis(1);
/// The longest wait after failed ops in a row.
pub const FAIL_BACKOFF_MAX: Duration = Duration::from_millis(100);

/// The wait before a worker's next op after `k` failed ops in a row: none for 0 or 1 (a
/// failed cas or an insufficient balance is the workload's business), then
/// [`FAIL_BACKOFF_FIRST`] doubling to [`FAIL_BACKOFF_MAX`].
pub fn fail_backoff(k: u32) -> Duration {
    if k < 2 {
        return Duration::ZERO;
    }
    FAIL_BACKOFF_FIRST
        .saturating_mul(1u32 << (k - 2).min(16))
        .min(FAIL_BACKOFF_MAX)
}

/// Persistent state across phases: the history, the random stream, process ids.
pub struct Interpreter {
    pub recorder: Recorder,
    rng: ChaCha8Rng,
    nodes: Vec<String>,
    next_process: u64,
    client_processes: Vec<Process>,
    /// Counts the times a worker began to wait (see `WorkerState::waiting_since`).
    wait_seq: u64,
    pub op_timeout: Duration,
}

impl Interpreter {
    pub fn new(
        recorder: Recorder,
        seed: u64,
        nodes: Vec<String>,
        concurrency: usize,
        op_timeout: Duration,
    ) -> Self {
        Interpreter {
            recorder,
            rng: ChaCha8Rng::seed_from_u64(seed),
            nodes,
            next_process: concurrency as u64,
            client_processes: (0..concurrency as u64).map(Process::Client).collect(),
            wait_seq: 0,
            op_timeout,
        }
    }

    /// Runs `gen` to exhaustion (or cancellation) with one worker per client and, when
    /// given, a nemesis worker. Returns the clients for the next phase.
    pub async fn run_phase(
        &mut self,
        mut gen: Gen<Invocation>,
        clients: Vec<BoundClient>,
        nemesis: Option<Arc<dyn Nemesis>>,
        mut cancel: watch::Receiver<bool>,
    ) -> Vec<BoundClient> {
        let (req_tx, mut req_rx) = mpsc::channel::<Request>(clients.len() + 2);
        let mut workers = Vec::new();
        let mut handles = Vec::new();
        for (i, bound) in clients.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(1);
            workers.push(WorkerState {
                process: self.client_processes[i],
                node: Some(bound.node.clone()),
                busy: None,
                waiting: None,
                waiting_since: 0,
                fails_in_a_row: 0,
                not_before: Duration::ZERO,
                done: false,
                tx,
            });
            handles.push(tokio::spawn(client_worker(
                i,
                bound,
                req_tx.clone(),
                rx,
                self.op_timeout,
            )));
        }
        let nemesis_handle = nemesis.map(|n| {
            let (tx, rx) = mpsc::channel(1);
            let id = workers.len();
            workers.push(WorkerState {
                process: Process::Nemesis,
                node: None,
                busy: None,
                waiting: None,
                waiting_since: 0,
                fails_in_a_row: 0,
                not_before: Duration::ZERO,
                done: false,
                tx,
            });
            tokio::spawn(nemesis_worker(id, n, req_tx.clone(), rx))
        });
        drop(req_tx);

        let mut cancelled = *cancel.borrow();
        let mut flush = tokio::time::interval(Duration::from_millis(500));
        loop {
            if workers.iter().all(|w| w.done) {
                break;
            }
            // A timer only when some worker waits: creating one per op costs more than the op.
            let wake = self.next_wake(&workers);
            let timer = async move {
                match wake {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                req = req_rx.recv() => {
                    let Some(mut req) = req else { break };
                    // Serve every request already queued before going back to select.
                    loop {
                        if let Some(c) = req.completion {
                            self.complete(&mut gen, &mut workers[req.worker], c);
                        }
                        // Workers already waiting for a slot that is due go first.
                        self.reask_waiting(&mut gen, &mut workers, cancelled).await;
                        self.assign(&mut gen, &mut workers, req.worker, cancelled).await;
                        match req_rx.try_recv() {
                            Ok(next) => req = next,
                            Err(_) => break,
                        }
                    }
                    self.reask_waiting(&mut gen, &mut workers, cancelled).await;
                }
                _ = timer => {
                    self.reask_waiting(&mut gen, &mut workers, cancelled).await;
                }
                changed = cancel.changed(), if !cancelled => {
                    cancelled = changed.is_err() || *cancel.borrow();
                    if cancelled {
                        tracing::warn!("cancelled: no new ops; waiting for ops in flight");
                    }
                    self.reask_waiting(&mut gen, &mut workers, cancelled).await;
                }
                _ = flush.tick() => self.recorder.flush_if_due(),
            }
        }
        for (i, w) in workers.iter().enumerate() {
            if i < self.client_processes.len() {
                self.client_processes[i] = w.process;
            }
        }
        let mut clients = Vec::new();
        for h in handles {
            match h.await {
                Ok(c) => clients.push(c),
                Err(e) => tracing::error!("a client worker panicked: {e}"),
            }
        }
        if let Some(h) = nemesis_handle {
            let _ = h.await;
        }
        self.recorder.flush_if_due();
        clients
    }

    /// When to re-ask the waiting workers, if any waits: at the earliest time one asked
    /// for, and every 100 ms for those waiting for "something to change".
    fn next_wake(&self, workers: &[WorkerState]) -> Option<tokio::time::Instant> {
        let now = self.recorder.elapsed();
        let at = workers
            .iter()
            .filter_map(|w| w.waiting)
            .map(|t| t.unwrap_or(now + Duration::from_millis(100)))
            .min()?;
        Some(tokio::time::Instant::now() + at.saturating_sub(now))
    }

    /// Records the completion of `w`'s op and tells the generator (Jepsen's `update`).
    fn complete(&mut self, gen: &mut Gen<Invocation>, w: &mut WorkerState, c: Completion) {
        let Some(inv) = w.busy.take() else { return };
        let value = c.value.unwrap_or(inv.value);
        let op = self
            .recorder
            .record(w.process, c.kind, &inv.f, value, w.node.clone(), c.error);
        gen.update(&op);
        if !w.process.is_nemesis() {
            w.fails_in_a_row = if c.kind == OpType::Fail {
                w.fails_in_a_row.saturating_add(1)
            } else {
                0
            };
            w.not_before = Duration::from_nanos(op.time) + fail_backoff(w.fails_in_a_row);
        }
        if c.kind == OpType::Info && !w.process.is_nemesis() {
            // The op may still take effect: this process is retired (Jepsen's rule).
            w.process = Process::Client(self.next_process);
            self.next_process += 1;
        }
    }

    async fn reask_waiting(
        &mut self,
        gen: &mut Gen<Invocation>,
        workers: &mut [WorkerState],
        cancelled: bool,
    ) {
        let now = self.recorder.elapsed();
        let mut due: Vec<usize> = (0..workers.len())
            .filter(|&i| match workers[i].waiting {
                Some(Some(t)) => t <= now || cancelled,
                Some(None) => true,
                None => false,
            })
            .collect();
        due.sort_by_key(|&i| workers[i].waiting_since);
        for i in due {
            self.assign(gen, workers, i, cancelled).await;
        }
    }

    async fn assign(
        &mut self,
        gen: &mut Gen<Invocation>,
        workers: &mut [WorkerState],
        i: usize,
        cancelled: bool,
    ) {
        let now = self.recorder.elapsed();
        let next = if cancelled {
            Next::Done
        } else if workers[i].not_before > now {
            Next::Wait(Some(workers[i].not_before))
        } else {
            let in_flight = workers.iter().filter(|w| w.busy.is_some()).count();
            let mut ctx = Ctx {
                time: now,
                process: workers[i].process,
                thread: i,
                nodes: &self.nodes,
                in_flight,
                rng: &mut self.rng,
            };
            gen.next(&mut ctx)
        };
        let w = &mut workers[i];
        let was_waiting = w.waiting.take().is_some();
        match next {
            Next::Op(inv) => {
                self.recorder.record(
                    w.process,
                    OpType::Invoke,
                    &inv.f,
                    inv.value.clone(),
                    w.node.clone(),
                    None,
                );
                w.busy = Some(inv.clone());
                if w.tx.send(Assignment::Op(inv)).await.is_err() {
                    // The worker is gone (it panicked): its op never ran.
                    self.complete(gen, w, Completion::fail("worker exited"));
                    w.done = true;
                }
            }
            Next::Wait(t) => {
                w.waiting = Some(t);
                if !was_waiting {
                    self.wait_seq += 1;
                    w.waiting_since = self.wait_seq;
                }
            }
            Next::Done => {
                let _ = w.tx.send(Assignment::Done).await;
                w.done = true;
            }
        }
    }
}

async fn client_worker(
    id: usize,
    mut bound: BoundClient,
    tx: mpsc::Sender<Request>,
    mut rx: mpsc::Receiver<Assignment>,
    op_timeout: Duration,
) -> BoundClient {
    let mut completion = None;
    loop {
        if tx
            .send(Request {
                worker: id,
                completion: completion.take(),
            })
            .await
            .is_err()
        {
            break;
        }
        match rx.recv().await {
            Some(Assignment::Op(inv)) => {
                let c = match tokio::time::timeout(op_timeout, bound.client.invoke(&inv)).await {
                    Ok(c) => c,
                    Err(_) => {
                        bound.client.reset();
                        let msg = format!("timeout after {}s", op_timeout.as_secs_f64());
                        if bound.client.is_read_only(&inv) {
                            Completion::fail(msg)
                        } else {
                            Completion::info(msg)
                        }
                    }
                };
                completion = Some(c);
            }
            Some(Assignment::Done) | None => break,
        }
    }
    bound
}

async fn nemesis_worker(
    id: usize,
    nemesis: Arc<dyn Nemesis>,
    tx: mpsc::Sender<Request>,
    mut rx: mpsc::Receiver<Assignment>,
) {
    let mut completion = None;
    loop {
        if tx
            .send(Request {
                worker: id,
                completion: completion.take(),
            })
            .await
            .is_err()
        {
            break;
        }
        match rx.recv().await {
            Some(Assignment::Op(inv)) => completion = Some(nemesis.invoke(&inv).await),
            Some(Assignment::Done) | None => break,
        }
    }
}
