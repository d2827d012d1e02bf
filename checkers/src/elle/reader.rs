//! The history.jsonl reader of the typed fast path: the line loop of
//! [`faultline_core::HistoryReader`] (1-based line numbers, blank lines skipped, a cut-off
//! last line is the end of the history, not an error), over bytes and in blocks.
//!
//! Why blocks: parsing is most of the time of a large check, and lines parse
//! independently, so blocks of whole lines go to worker threads while the calling thread
//! reads ahead and pairs the parsed ops in file order (pairing needs order; parsing does
//! not). Each line goes through [`super::fastline`] first and through serde only when that
//! declines it, so results and errors are serde's. Blocks in flight are bounded, so memory
//! does not grow with the file.

use super::fastline::{self, Line, Scratch};
use super::history::{Mop, TxnBuilder, TxnValue, Txns};
use faultline_core::{HistoryError, Op};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};

/// Bytes per block handed to a worker (a block always ends at a line end).
const BLOCK: usize = 4 << 20;

/// Why a block stopped early.
enum Stop {
    /// The final line was cut off mid-write: the history ends before it.
    Truncated,
    Malformed {
        line: usize,
        message: String,
    },
    Utf8 {
        line: usize,
        err: std::str::Utf8Error,
    },
}

/// A parsed block: its ops in order, how many lines it had, and where it stopped.
struct Done {
    seq: usize,
    ops: Vec<Line>,
    lines: usize,
    stop: Option<Stop>,
}

fn parse_block(seq: usize, block: &[u8], last: bool, scratch: &mut Scratch) -> Done {
    let mut ops = Vec::with_capacity(block.len() / 128);
    let mut lines = 0;
    let mut rest = block;
    while !rest.is_empty() {
        let (raw, complete) = match newline(rest) {
            Some(i) => {
                let raw = &rest[..i];
                rest = &rest[i + 1..];
                (raw, true)
            }
            None => {
                let raw = rest;
                rest = &[];
                (raw, false)
            }
        };
        lines += 1;
        let line = raw.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if let Some(l) = fastline::parse(line, scratch) {
            ops.push(l);
            continue;
        }
        let stop = match std::str::from_utf8(line) {
            Err(err) => Stop::Utf8 { line: lines, err },
            Ok(text) => match serde_json::from_str::<Op<TxnValue>>(text) {
                Ok(op) => {
                    ops.push(Line {
                        index: op.index,
                        process: op.process,
                        kind: op.kind,
                        txn: op.f == "txn",
                        mops: op.value.0,
                    });
                    continue;
                }
                Err(e) if last && !complete && e.is_eof() => Stop::Truncated,
                Err(e) => Stop::Malformed {
                    line: lines,
                    message: e.to_string(),
                },
            },
        };
        share_lists(&mut ops, scratch);
        return Done {
            seq,
            ops,
            lines,
            stop: Some(stop),
        };
    }
    share_lists(&mut ops, scratch);
    Done {
        seq,
        ops,
        lines,
        stop: None,
    }
}

/// Resolves the block's pending list reads, sharing buffers (see [`super::list`]).
fn share_lists(ops: &mut [Line], scratch: &mut Scratch) {
    let mut mops: Vec<&mut Vec<Mop>> = ops.iter_mut().filter_map(|l| l.mops.as_mut()).collect();
    scratch.pool.share(&mut mops);
}

/// The first `\n` in `b`, eight bytes at a time (lines are a few hundred bytes, and
/// every byte of a history passes here).
fn newline(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let x = w ^ (ONES * b'\n' as u64);
        // The lowest flagged byte is the first zero byte of x (the classic haszero).
        let t = x.wrapping_sub(ONES) & !x & HIGHS;
        if t != 0 {
            return Some(i + (t.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == b'\n').map(|p| i + p)
}

/// Hands out blocks of whole lines.
struct Blocks<R> {
    inner: R,
    carry: Vec<u8>,
    eof: bool,
}

impl<R: Read> Blocks<R> {
    /// The next block and whether it is the last one.
    fn next(&mut self) -> std::io::Result<Option<(Vec<u8>, bool)>> {
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        let mut block = std::mem::take(&mut self.carry);
        loop {
            let start = block.len();
            block.reserve(BLOCK);
            // `read_to_end` fills spare capacity without zeroing it first.
            let n = (&mut self.inner)
                .take(BLOCK as u64)
                .read_to_end(&mut block)?;
            if n < BLOCK {
                self.eof = true;
            }
            if self.eof {
                return Ok((!block.is_empty()).then_some((block, true)));
            }
            if let Some(i) = block[start..].iter().rposition(|&c| c == b'\n') {
                self.carry = block[start + i + 1..].to_vec();
                block.truncate(start + i + 1);
                return Ok(Some((block, false)));
            }
            // A line longer than a block: read on.
        }
    }
}

/// Consumes parsed blocks in order.
struct Sink {
    builder: TxnBuilder,
    pending: BTreeMap<usize, Done>,
    next: usize,
    base: usize,
    truncated: bool,
    error: Option<HistoryError>,
    path: PathBuf,
}

impl Sink {
    fn stopped(&self) -> bool {
        self.truncated || self.error.is_some()
    }

    fn take(&mut self, d: Done) {
        self.pending.insert(d.seq, d);
        while let Some(d) = self.pending.remove(&self.next) {
            self.next += 1;
            if self.stopped() {
                continue;
            }
            for l in d.ops {
                let f = if l.txn { "txn" } else { "" };
                self.builder.push(l.index, l.process, l.kind, f, l.mops);
            }
            match d.stop {
                None => {}
                Some(Stop::Truncated) => self.truncated = true,
                Some(Stop::Malformed { line, message }) => {
                    self.error = Some(HistoryError::Malformed {
                        path: self.path.clone(),
                        line: self.base + line,
                        message,
                    })
                }
                Some(Stop::Utf8 { line, err }) => {
                    self.error = Some(HistoryError::Io {
                        path: self.path.clone(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("line {}: {err}", self.base + line),
                        ),
                    })
                }
            }
            self.base += d.lines;
        }
    }
}

/// Reads a JSON Lines history into transactions, parsing on up to `threads` workers
/// (`threads <= 1`: all on the calling thread).
pub fn read<R: Read + Send>(r: R, path: PathBuf, threads: usize) -> Result<Txns, HistoryError> {
    let io_err = |path: &PathBuf, source| HistoryError::Io {
        path: path.clone(),
        source,
    };
    let mut blocks = Blocks {
        inner: r,
        carry: Vec::new(),
        eof: false,
    };
    let mut sink = Sink {
        builder: TxnBuilder::default(),
        pending: BTreeMap::new(),
        next: 0,
        base: 0,
        truncated: false,
        error: None,
        path: path.clone(),
    };
    if threads <= 1 {
        let mut scratch = Scratch::default();
        let mut seq = 0;
        while let Some((block, last)) = blocks.next().map_err(|e| io_err(&path, e))? {
            sink.take(parse_block(seq, &block, last, &mut scratch));
            seq += 1;
            if sink.stopped() {
                break;
            }
        }
    } else {
        let read_error = std::thread::scope(|s| {
            let (to_workers, from_main) = mpsc::sync_channel::<(usize, Vec<u8>, bool)>(threads);
            let from_main = Arc::new(Mutex::new(from_main));
            let (to_main, from_workers) = mpsc::channel::<Done>();
            for _ in 0..threads {
                let rx = Arc::clone(&from_main);
                let tx = to_main.clone();
                s.spawn(move || {
                    let mut scratch = Scratch::default();
                    loop {
                        let job = rx.lock().map(|r| r.recv());
                        let Ok(Ok((seq, block, last))) = job else {
                            return;
                        };
                        if tx
                            .send(parse_block(seq, &block, last, &mut scratch))
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
            drop(to_main);
            let mut seq = 0;
            let mut read_error = None;
            loop {
                while let Ok(d) = from_workers.try_recv() {
                    sink.take(d);
                }
                if sink.stopped() {
                    break;
                }
                match blocks.next() {
                    Ok(Some((block, last))) => {
                        if to_workers.send((seq, block, last)).is_err() {
                            break;
                        }
                        seq += 1;
                    }
                    Ok(None) => break,
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
            }
            drop(to_workers);
            for d in from_workers {
                sink.take(d);
            }
            read_error
        });
        if let Some(e) = read_error {
            return Err(io_err(&path, e));
        }
    }
    if let Some(e) = sink.error {
        return Err(e);
    }
    let mut txns = sink.builder.finish();
    if sink.truncated {
        txns.problems
            .push("the history's last line was cut off mid-write and dropped".into());
    }
    Ok(txns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> String {
        (0..n)
            .map(|i| {
                let p = i % 7;
                format!(
                    "{{\"index\":{},\"time\":0,\"process\":{p},\"type\":\"invoke\",\"f\":\"txn\",\"value\":[[\"append\",{p},{i}],[\"r\",{p},null]]}}\n{{\"index\":{},\"time\":0,\"process\":{p},\"type\":\"ok\",\"f\":\"txn\",\"value\":[[\"append\",{p},{i}],[\"r\",{p},[{i}]]]}}\n",
                    2 * i,
                    2 * i + 1
                )
            })
            .collect()
    }

    #[test]
    fn threads_and_blocks_do_not_change_the_result() {
        let text = lines(60_000)
            + "\n{\"index\":1,\"time\":0,\"process\":3,\"type\":\"ok\",\"f\":\"txn\",\"val";
        assert!(text.len() > 2 * BLOCK, "spans several blocks");
        let one = read(text.as_bytes(), PathBuf::from("t"), 1).unwrap();
        let four = read(text.as_bytes(), PathBuf::from("t"), 4).unwrap();
        assert_eq!(one.txns, four.txns);
        assert_eq!(one.txns.len(), 60_000);
        assert_eq!(one.problems, four.problems);
        assert!(one.problems[0].contains("cut off"), "{:?}", one.problems);
    }

    #[test]
    fn newline_finds_the_first_one() {
        for len in 0..40 {
            for at in 0..len {
                let mut b = vec![b'x'; len];
                b[at] = b'\n';
                if at + 3 < len {
                    b[at + 3] = b'\n';
                }
                b.iter_mut().take(at).for_each(|c| *c = 0x0b);
                assert_eq!(newline(&b), Some(at), "len {len} at {at}");
            }
            assert_eq!(newline(&vec![0x8a; len]), None);
        }
    }

    #[test]
    fn errors_carry_the_absolute_line() {
        let mut text = lines(30_000);
        text.push_str("{\"index\": oops}\n");
        text.push_str(&lines(10));
        for threads in [1, 3] {
            let e = read(text.as_bytes(), PathBuf::from("t"), threads).unwrap_err();
            assert!(e.to_string().contains(":60001:"), "{e}");
        }
    }
}
