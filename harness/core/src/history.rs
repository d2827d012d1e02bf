//! Histories as JSON Lines: one [`Op`] per line, appended while the run goes.
//!
//! The writer buffers and is flushed by its owner at least once a second and synced at the
//! end, so a crash of the harness loses at most the last second. The reader reports a
//! malformed line with its line number, and treats a cut-off *last* line (a crash mid-write)
//! as the end of the history rather than an error: [`History::truncated_tail`] says so.

use crate::op::{Op, OpType, Process};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "cannot open history {path}: {source} (is this a run directory or a history.jsonl file?)"
    )]
    Open { path: PathBuf, source: io::Error },
    #[error("{path}:{line}: malformed history line: {message} (each line must be one JSON op with index, time, process, type, f)")]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("reading history {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// A whole history in memory, in index order.
#[derive(Clone, Debug, Default)]
pub struct History<V = Value> {
    pub ops: Vec<Op<V>>,
    /// True when the last line was cut off mid-write and dropped.
    pub truncated_tail: bool,
}

impl<V> History<V> {
    pub fn new(ops: Vec<Op<V>>) -> Self {
        History {
            ops,
            truncated_tail: false,
        }
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn client_ops(&self) -> impl Iterator<Item = &Op<V>> {
        self.ops.iter().filter(|o| o.is_client())
    }

    /// For each op position, the position of its partner: an invoke's completion, or a
    /// completion's invoke. Invokes that never completed (the run ended) map to `None`.
    pub fn pairs(&self) -> Vec<Option<usize>> {
        let mut pair = vec![None; self.ops.len()];
        let mut open: HashMap<Process, usize> = HashMap::new();
        for (i, op) in self.ops.iter().enumerate() {
            if op.process.is_nemesis() {
                continue;
            }
            match op.kind {
                OpType::Invoke => {
                    open.insert(op.process, i);
                }
                _ => {
                    if let Some(j) = open.remove(&op.process) {
                        pair[i] = Some(j);
                        pair[j] = Some(i);
                    }
                }
            }
        }
        pair
    }
}

impl<V: DeserializeOwned + Default> History<V> {
    /// Reads `path`, which is a history.jsonl file or a run directory holding one.
    pub fn read(path: &Path) -> Result<Self, HistoryError> {
        let file_path = if path.is_dir() {
            path.join("history.jsonl")
        } else {
            path.to_path_buf()
        };
        let file = File::open(&file_path).map_err(|source| HistoryError::Open {
            path: file_path.clone(),
            source,
        })?;
        let mut reader = HistoryReader::new(BufReader::new(file), file_path);
        let mut ops = Vec::new();
        while let Some(op) = reader.next_op()? {
            ops.push(op);
        }
        Ok(History {
            ops,
            truncated_tail: reader.truncated_tail,
        })
    }

    /// Parses a history from a string (used by tests and imports).
    pub fn parse_str(text: &str) -> Result<Self, HistoryError> {
        let mut reader = HistoryReader::new(text.as_bytes(), PathBuf::from("<memory>"));
        let mut ops = Vec::new();
        while let Some(op) = reader.next_op()? {
            ops.push(op);
        }
        Ok(History {
            ops,
            truncated_tail: reader.truncated_tail,
        })
    }
}

/// Streams ops out of a JSON Lines source, with line numbers for errors.
pub struct HistoryReader<R> {
    inner: R,
    path: PathBuf,
    line_no: usize,
    buf: String,
    pub truncated_tail: bool,
}

impl<R: BufRead> HistoryReader<R> {
    pub fn new(inner: R, path: PathBuf) -> Self {
        HistoryReader {
            inner,
            path,
            line_no: 0,
            buf: String::new(),
            truncated_tail: false,
        }
    }

    pub fn next_op<V: DeserializeOwned + Default>(
        &mut self,
    ) -> Result<Option<Op<V>>, HistoryError> {
        loop {
            self.buf.clear();
            let n = self
                .inner
                .read_line(&mut self.buf)
                .map_err(|source| HistoryError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            let complete = self.buf.ends_with('\n');
            let line = self.buf.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Op<V>>(line) {
                Ok(op) => return Ok(Some(op)),
                Err(e) => {
                    // A last line without its newline is a write cut off by a crash.
                    if !complete && e.is_eof() {
                        self.truncated_tail = true;
                        return Ok(None);
                    }
                    return Err(HistoryError::Malformed {
                        path: self.path.clone(),
                        line: self.line_no,
                        message: e.to_string(),
                    });
                }
            }
        }
    }
}

/// Appends ops as JSON Lines. Not synchronised: one task owns it.
pub struct HistoryWriter {
    out: BufWriter<File>,
}

impl HistoryWriter {
    pub fn create(path: &Path) -> io::Result<Self> {
        Ok(HistoryWriter {
            out: BufWriter::with_capacity(1 << 16, File::create(path)?),
        })
    }

    pub fn append<V: Serialize>(&mut self, op: &Op<V>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, op)?;
        self.out.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and fsyncs: call once at the end of a run.
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(index: u64, process: Process, kind: OpType, f: &str, value: Value) -> Op {
        Op {
            index,
            time: index * 1000,
            process,
            kind,
            f: f.into(),
            value,
            node: Some("n1".into()),
            error: None,
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = std::env::temp_dir().join(format!("fl-hist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        let ops = vec![
            op(
                0,
                Process::Client(3),
                OpType::Invoke,
                "transfer",
                json!({"from":1,"to":4,"amount":5}),
            ),
            op(
                1,
                Process::Nemesis,
                OpType::Info,
                "start",
                json!({"fault":"partition_one","nodes":["n3"]}),
            ),
            op(
                2,
                Process::Client(3),
                OpType::Info,
                "transfer",
                json!({"from":1,"to":4,"amount":5}),
            ),
        ];
        let mut w = HistoryWriter::create(&path).unwrap();
        for o in &ops {
            w.append(o).unwrap();
        }
        w.sync().unwrap();
        let back: History = History::read(&dir).unwrap();
        assert_eq!(back.ops, ops);
        assert!(!back.truncated_tail);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_line_cut_off_mid_write_ends_the_history() {
        let text = "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n{\"index\":1,\"time\":2,\"proc";
        let h: History = History::parse_str(text).unwrap();
        assert_eq!(h.ops.len(), 1);
        assert!(h.truncated_tail);
    }

    #[test]
    fn a_malformed_line_in_the_middle_names_its_line_number() {
        let text = "{\"index\":0,\"time\":1,\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n\n{\"index\":1,\"time\":2,\"process\":0,\"type\":\"bogus\",\"f\":\"read\"}\n{\"index\":2,\"time\":3,\"process\":0,\"type\":\"ok\",\"f\":\"read\"}\n";
        let err = History::<Value>::parse_str(text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(":3:"), "{msg}");
    }

    #[test]
    fn pairs_match_invocations_with_completions_per_process() {
        let h = History::new(vec![
            op(0, Process::Client(0), OpType::Invoke, "read", Value::Null),
            op(1, Process::Client(1), OpType::Invoke, "read", Value::Null),
            op(2, Process::Nemesis, OpType::Info, "start", Value::Null),
            op(3, Process::Client(1), OpType::Ok, "read", Value::Null),
            op(4, Process::Client(0), OpType::Fail, "read", Value::Null),
            op(5, Process::Client(2), OpType::Invoke, "read", Value::Null),
        ]);
        assert_eq!(
            h.pairs(),
            vec![Some(4), Some(3), None, Some(1), Some(0), None]
        );
    }
}
