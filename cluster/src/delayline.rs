//! A userspace delay line for one node of the network lab (this kernel has no netem).
//!
//! For node k, iptables rules in the `raw` table of node k's own namespace send the packets
//! between node k and its peers to NFQUEUE number k: PREROUTING `-s <peer>` (what it
//! receives) and OUTPUT `-d <peer>` (what it sends), for every other node. Client traffic
//! from the bridge address is not queued. A listener on its own OS thread, which first enters
//! node k's namespace (`setns`) and then binds the queue there, holds each packet for
//! `delay ± jitter` (uniform, drawn from the listener thread's `rand::rng()`, so not
//! reproducible from the run's seed) and then gives it the ACCEPT verdict. Only metadata is
//! copied to userspace (copy range 0), never the payload.
//!
//! The `raw` table is used by nothing else: partitions live in `filter`, loss in `mangle`, so
//! healing a partition or changing loss leaves a delay in place and the other way round.
//! [`NetLab::heal_quality`] ends every delay too.
//!
//! Stopping a delay removes its rules first, then gives ACCEPT to every held packet and to
//! whatever is still queued, then unbinds and ends the thread. Setting a node's delay again
//! replaces the old line. The lines live in a process-wide registry keyed by namespace
//! (namespace names are unique: a lab claims its id by creating its bridge).
//!
//! Limits:
//! * Applied once per direction at the delayed node: a round trip between the node and a peer
//!   grows by about 2 × delay (one hop each way); peer-to-peer traffic is untouched.
//! * Jitter reorders packets, as netem's does: each packet's hold is drawn on its own.
//! * At most [`MAX_HELD`] packets are held per node (the kernel queue's length); past that
//!   the queue fails open and packets pass undelayed.
//! * The listener polls the queue every millisecond (the crate gives no fd to wait on):
//!   about 2% of one core per delayed node (measured on an idle 3-node Galera cluster), more
//!   under load, and release times are late by up to ~1 ms.
//! * Fail-open: the rules carry `--queue-bypass`, so if the harness is killed (kill -9) the
//!   socket closes, the queue is unbound and packets flow undelayed; the rules stay in the
//!   namespace until it is removed (`faultline cluster clean`).

use crate::netlab::NetLab;
use crate::{ClusterError, Result};
use rand::Rng;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The most packets one node's line holds at once (the kernel queue's maximum length).
pub const MAX_HELD: u32 = 16_384;
const POLL: Duration = Duration::from_millis(1);

static LINES: Mutex<BTreeMap<String, DelayLine>> = Mutex::new(BTreeMap::new());

struct DelayLine {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Stats>,
}

/// What a line did, returned when it stops.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub delayed: u64,
    pub most_held: usize,
    pub errors: u64,
}

/// Why the delay line cannot work here, or `None` when it can.
pub fn unsupported() -> Option<String> {
    let proc_file = std::path::Path::new("/proc/net/netfilter/nfnetlink_queue");
    if !proc_file.exists() {
        let _ = crate::run("modprobe", &["-q", "nfnetlink_queue"]);
    }
    if !proc_file.exists() {
        return Some(
            "the delay line needs the kernel's NFQUEUE (CONFIG_NETFILTER_NETLINK_QUEUE): \
             modprobe nfnetlink_queue xt_NFQUEUE"
                .into(),
        );
    }
    None
}

/// The name of node `ns`'s listener thread (what /proc/self/task/*/comm shows).
pub fn thread_name(ns: &str) -> String {
    format!("dl-{ns}")
}

/// Whether an OS thread of this process is still listening for namespace `ns`.
pub fn listener_running(ns: &str) -> bool {
    let name = thread_name(ns);
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .any(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name))
}

/// How long one TCP connect from inside namespace `ns` to `peer` takes (one round trip:
/// SYN out, SYN-ACK back). For tests and diagnostics of the delay line.
pub fn connect_time(ns: &str, peer: std::net::SocketAddr) -> Result<Duration> {
    let path = format!("/run/netns/{ns}");
    let probe = move || -> std::result::Result<Duration, String> {
        let file = std::fs::File::open(&path).map_err(|e| format!("opening {path}: {e}"))?;
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("entering {path}: {e}"))?;
        let t = Instant::now();
        std::net::TcpStream::connect_timeout(&peer, Duration::from_secs(10))
            .map_err(|e| format!("connecting to {peer}: {e}"))?;
        Ok(t.elapsed())
    };
    // A thread of its own: setns changes the calling thread's namespace for good.
    std::thread::spawn(probe)
        .join()
        .map_err(|_| ClusterError::Other("the connect probe panicked".into()))?
        .map_err(ClusterError::Other)
}

impl NetLab {
    fn raw(&self, k: usize, args: &[&str]) -> Result<String> {
        let mut full = vec!["-w", "-t", "raw"];
        full.extend_from_slice(args);
        self.ns_cmd(k, "iptables", &full)
    }

    /// Delays node `k`'s packets to and from every other node by `delay ± jitter`, replacing
    /// any delay it had. A zero delay and jitter just removes it.
    pub fn set_delay(&self, k: usize, delay: Duration, jitter: Duration) -> Result<()> {
        self.stop_delay(k)?;
        if delay.is_zero() && jitter.is_zero() {
            return Ok(());
        }
        if let Some(reason) = unsupported() {
            return Err(ClusterError::Missing(reason));
        }
        let ns = self.namespace(k);
        let queue = (k as u16).to_string();
        let line = start(&ns, k as u16, delay, jitter)?;
        LINES.lock().unwrap().insert(ns, line);
        let install = || -> Result<()> {
            for peer in (1..=self.nodes).filter(|&j| j != k) {
                let addr = self.address(peer).to_string();
                for (chain, dir) in [("PREROUTING", "-s"), ("OUTPUT", "-d")] {
                    let rule = [
                        "-A",
                        chain,
                        dir,
                        &addr,
                        "-j",
                        "NFQUEUE",
                        "--queue-num",
                        &queue,
                        "--queue-bypass",
                    ];
                    self.raw(k, &rule)?;
                }
            }
            Ok(())
        };
        install().inspect_err(|_| {
            let _ = self.stop_delay(k);
        })
    }

    /// Removes node `k`'s delay rules, then releases its held packets and ends its listener.
    pub fn stop_delay(&self, k: usize) -> Result<Option<Stats>> {
        let flushed = self
            .raw(k, &["-F", "PREROUTING"])
            .and_then(|_| self.raw(k, &["-F", "OUTPUT"]));
        let stats = stop(&self.namespace(k));
        flushed.map(|_| stats)
    }

    /// Ends the delay of every node of the lab (teardown and heal). A namespace already
    /// removed (a second teardown) has no rules left to flush.
    pub fn stop_delays(&self) -> Result<()> {
        let mut first_err = None;
        for k in 1..=self.nodes {
            let ns = self.namespace(k);
            if !std::path::Path::new(&format!("/run/netns/{ns}")).exists() {
                stop(&ns);
                continue;
            }
            if let Err(e) = self.stop_delay(k) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// The delay rules (iptables raw table) in node `k`'s namespace; empty when healed.
    pub fn delay_rules(&self, k: usize) -> Result<Vec<String>> {
        let out = self.raw(k, &["-S"])?;
        Ok(out
            .lines()
            .filter(|l| !l.starts_with("-P"))
            .map(str::to_string)
            .collect())
    }
}

/// Ends the listener of namespace `ns`, if any, after it released every packet.
fn stop(ns: &str) -> Option<Stats> {
    let line = LINES.lock().unwrap().remove(ns)?;
    line.stop.store(true, Ordering::SeqCst);
    match line.thread.join() {
        Ok(stats) => {
            tracing::info!(ns, ?stats, "delay line stopped");
            Some(stats)
        }
        Err(_) => {
            tracing::warn!(ns, "delay line thread panicked");
            None
        }
    }
}

fn start(ns: &str, queue: u16, delay: Duration, jitter: Duration) -> Result<DelayLine> {
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let flag = stop.clone();
    let ns_owned = ns.to_string();
    let thread = std::thread::Builder::new()
        .name(thread_name(ns))
        .spawn(move || listen(&ns_owned, queue, delay, jitter, &flag, ready_tx))
        .map_err(|source| ClusterError::Io {
            context: "starting the delay line thread".into(),
            source,
        })?;
    let line = DelayLine { stop, thread };
    match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => Ok(line),
        Ok(Err(e)) => {
            let _ = line.thread.join();
            Err(ClusterError::Other(format!("delay line of {ns}: {e}")))
        }
        Err(_) => {
            line.stop.store(true, Ordering::SeqCst);
            Err(ClusterError::Timeout(format!(
                "the delay line of {ns} did not bind its queue within 10 s"
            )))
        }
    }
}

/// A held packet, ordered so that the heap's top is the one due first.
struct Held {
    due: Instant,
    seq: u64,
    msg: nfq::Message,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

fn open_queue(ns: &str, queue: u16) -> std::result::Result<nfq::Queue, String> {
    let path = format!("/run/netns/{ns}");
    let file = std::fs::File::open(&path).map_err(|e| format!("opening {path}: {e}"))?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("entering namespace {ns}: {e}"))?;
    let mut q = nfq::Queue::open().map_err(|e| format!("opening an NFQUEUE socket: {e}"))?;
    let bind = |q: &mut nfq::Queue| -> std::io::Result<()> {
        q.bind(queue)?;
        q.set_copy_range(queue, 0)?;
        q.set_queue_max_len(queue, MAX_HELD)?;
        q.set_fail_open(queue, true)
    };
    bind(&mut q).map_err(|e| format!("binding NFQUEUE {queue}: {e}"))?;
    q.set_nonblocking(true);
    Ok(q)
}

fn accept(q: &mut nfq::Queue, mut msg: nfq::Message, stats: &mut Stats) {
    msg.set_verdict(nfq::Verdict::Accept);
    if q.verdict(msg).is_err() {
        stats.errors += 1;
    }
}

/// The listener: runs on its own thread inside the namespace until `stop` is set.
fn listen(
    ns: &str,
    queue: u16,
    delay: Duration,
    jitter: Duration,
    stop: &AtomicBool,
    ready: mpsc::Sender<std::result::Result<(), String>>,
) -> Stats {
    let mut stats = Stats::default();
    let mut q = match open_queue(ns, queue) {
        Ok(q) => q,
        Err(e) => {
            let _ = ready.send(Err(e));
            return stats;
        }
    };
    let _ = ready.send(Ok(()));
    let low = delay.saturating_sub(jitter).as_micros() as u64;
    let high = (delay + jitter).as_micros() as u64;
    let mut rng = rand::rng();
    let mut held: BinaryHeap<Held> = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        for _ in 0..4096 {
            match q.recv() {
                Ok(msg) if stopping || held.len() >= MAX_HELD as usize => {
                    accept(&mut q, msg, &mut stats)
                }
                Ok(msg) => {
                    let hold = Duration::from_micros(rng.random_range(low..=high));
                    seq += 1;
                    held.push(Held {
                        due: Instant::now() + hold,
                        seq,
                        msg,
                    });
                    stats.delayed += 1;
                    stats.most_held = stats.most_held.max(held.len());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    stats.errors += 1;
                    break;
                }
            }
        }
        let now = Instant::now();
        while held.peek().is_some_and(|h| stopping || h.due <= now) {
            let h = held.pop().expect("peeked");
            accept(&mut q, h.msg, &mut stats);
        }
        if stopping {
            break;
        }
        let wait = held
            .peek()
            .map_or(POLL, |h| h.due.saturating_duration_since(now).min(POLL));
        std::thread::sleep(wait);
    }
    // Whatever reached the queue while the last batch was released passes too.
    while let Ok(msg) = q.recv() {
        accept(&mut q, msg, &mut stats);
    }
    let _ = q.unbind(queue);
    stats
}
