//! A byte-level parser for the common shape of a history line, the fast path of
//! [`super::history::read_jsonl`]:
//! `{"index":N,"time":N,"process":N|"nemesis","type":"ok","f":"txn","value":[["append",k,v],["r",k,null|v|[v,...]]],"node":"n1"}`
//! with its keys in any order.
//!
//! Why: serde's generic path (one `Op<TxnValue>` through visitors, an owned `f` string, a
//! UTF-8 check of every line) spent most of the time of a million-transaction check. This
//! parser accepts only what it fully understands and says `None` for anything else (an
//! escape, a non-ASCII byte, a float, an unknown key, a duplicate key, a value that is not
//! a list of well-formed micro-ops, a cut-off line); the caller then parses that line with
//! serde, so results, errors and the truncated-tail rule stay exactly serde's.
//! Lists are copied out of a scratch buffer at their exact length, which keeps memory
//! down too.

use super::history::{Mop, ReadValue};
use super::list::Pool;
use faultline_core::{OpType, Process};

/// What a line says, as far as transactions care.
pub struct Line {
    pub index: u64,
    pub process: Process,
    pub kind: OpType,
    /// Whether `f` is `txn`.
    pub txn: bool,
    /// The micro-ops, or `None` when the value is null.
    pub mops: Option<Vec<Mop>>,
}

/// Reusable buffers, so a line allocates only what it keeps. List reads go to `pool` as
/// pending lists: call [`Pool::share`] on the parsed lines before reading them.
#[derive(Default)]
pub struct Scratch {
    mops: Vec<Mop>,
    pub pool: Pool,
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> P<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.b.get(self.i) {
            self.i += 1;
        }
    }
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }
    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    /// A string of printable ASCII without escapes. (Outside strings the grammar accepts
    /// only ASCII, so no byte of a line accepted here is non-ASCII.)
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            match *self.b.get(self.i)? {
                b'"' => break,
                c if !(0x20..0x80).contains(&c) || c == b'\\' => return None,
                _ => self.i += 1,
            }
        }
        self.i += 1;
        let b: &'a [u8] = self.b;
        Some(&b[start..self.i - 1])
    }
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.ws();
        self.b[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())?;
        self.end_of_number_or_word()
    }
    /// The next byte may not continue a number or a word.
    fn end_of_number_or_word(&self) -> Option<()> {
        match self.b.get(self.i) {
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+') => None,
            _ => Some(()),
        }
    }
    /// JSON's integer grammar: `-?(0|[1-9][0-9]*)`, no fraction or exponent.
    fn int(&mut self) -> Option<i64> {
        self.ws();
        let neg = self.b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c @ b'0'..=b'9') = self.b.get(self.i) {
            v = v.wrapping_mul(10).wrapping_add((c - b'0') as u64);
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.b[start] == b'0') {
            return None;
        }
        if digits > 18 {
            // Up to 18 digits cannot overflow; past that, count again with checks.
            v = 0;
            for &c in &self.b[start..self.i] {
                v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
            }
        }
        self.end_of_number_or_word()?;
        if neg {
            // serde_json reads `-0` as the float -0.0, not an integer: serde decides it.
            if v == 0 {
                return None;
            }
            if v <= i64::MAX as u64 + 1 {
                Some((v as i64).wrapping_neg())
            } else {
                None
            }
        } else {
            i64::try_from(v).ok()
        }
    }
    fn uint(&mut self) -> Option<u64> {
        self.ws();
        if self.b.get(self.i) == Some(&b'-') {
            return None;
        }
        u64::try_from(self.int()?).ok()
    }
}

/// Parses one line (already trimmed), or `None` when serde must decide.
pub fn parse(line: &[u8], scratch: &mut Scratch) -> Option<Line> {
    if let Some(l) = in_writer_order(line, scratch) {
        return Some(l);
    }
    let mut p = P { b: line, i: 0 };
    p.eat(b'{')?;
    let (mut index, mut time, mut process, mut kind, mut txn) = (None, None, None, None, None);
    let mut value: Option<Option<Vec<Mop>>> = None;
    let mut node = false;
    let mut error = false;
    if p.peek()? == b'}' {
        return None;
    }
    loop {
        let key = p.string()?;
        p.eat(b':')?;
        match key {
            b"index" if index.is_none() => index = Some(p.uint()?),
            b"time" if time.is_none() => time = Some(p.uint()?),
            b"process" if process.is_none() => {
                process = Some(if p.peek()? == b'"' {
                    (p.string()? == b"nemesis").then_some(Process::Nemesis)?
                } else {
                    Process::Client(p.uint()?)
                })
            }
            b"type" if kind.is_none() => {
                kind = Some(match p.string()? {
                    b"invoke" => OpType::Invoke,
                    b"ok" => OpType::Ok,
                    b"fail" => OpType::Fail,
                    b"info" => OpType::Info,
                    _ => return None,
                })
            }
            b"f" if txn.is_none() => txn = Some(p.string()? == b"txn"),
            b"value" if value.is_none() => value = Some(mops(&mut p, scratch)?),
            b"node" if !node => {
                node = true;
                string_or_null(&mut p)?;
            }
            b"error" if !error => {
                error = true;
                string_or_null(&mut p)?;
            }
            _ => return None,
        }
        match p.peek()? {
            b',' => p.i += 1,
            b'}' => {
                p.i += 1;
                break;
            }
            _ => return None,
        }
    }
    p.ws();
    if p.i != line.len() {
        return None;
    }
    time?;
    Some(Line {
        index: index?,
        process: process?,
        kind: kind?,
        txn: txn?,
        mops: value.unwrap_or(None),
    })
}

/// The exact layout our writer emits (`{"index":..,"time":..,"process":..,"type":"..",
/// "f":"..","value":..}` then optional `"node"`/`"error"`), with no whitespace: fixed
/// key literals instead of key matching. Anything else goes to the general parser.
fn in_writer_order(line: &[u8], scratch: &mut Scratch) -> Option<Line> {
    let mut p = P { b: line, i: 0 };
    let lit =
        |p: &mut P, s: &[u8]| -> Option<()> { p.b[p.i..].starts_with(s).then(|| p.i += s.len()) };
    lit(&mut p, b"{\"index\":")?;
    let index = p.uint()?;
    lit(&mut p, b",\"time\":")?;
    p.uint()?;
    lit(&mut p, b",\"process\":")?;
    let process = if p.b.get(p.i) == Some(&b'"') {
        (p.string()? == b"nemesis").then_some(Process::Nemesis)?
    } else {
        Process::Client(p.uint()?)
    };
    lit(&mut p, b",\"type\":\"")?;
    let rest = &p.b[p.i..];
    let (kind, n) = if rest.starts_with(b"ok\"") {
        (OpType::Ok, 3)
    } else if rest.starts_with(b"invoke\"") {
        (OpType::Invoke, 7)
    } else if rest.starts_with(b"info\"") {
        (OpType::Info, 5)
    } else if rest.starts_with(b"fail\"") {
        (OpType::Fail, 5)
    } else {
        return None;
    };
    p.i += n;
    lit(&mut p, b",\"f\":")?;
    let txn = p.string()? == b"txn";
    lit(&mut p, b",\"value\":")?;
    let mops = mops(&mut p, scratch)?;
    for key in [&b",\"node\":"[..], b",\"error\":"] {
        if lit(&mut p, key).is_some() {
            string_or_null(&mut p)?;
        }
    }
    lit(&mut p, b"}")?;
    (p.i == line.len()).then_some(Line {
        index,
        process,
        kind,
        txn,
        mops,
    })
}

fn string_or_null(p: &mut P) -> Option<()> {
    if p.peek()? == b'n' {
        p.literal(b"null")
    } else {
        p.string().map(|_| ())
    }
}

/// `null`, or a list of well-formed micro-ops; anything else is serde's to judge.
fn mops(p: &mut P, scratch: &mut Scratch) -> Option<Option<Vec<Mop>>> {
    if p.peek()? == b'n' {
        p.literal(b"null")?;
        return Some(None);
    }
    p.eat(b'[')?;
    scratch.mops.clear();
    if p.peek()? == b']' {
        p.i += 1;
        return Some(Some(Vec::new()));
    }
    loop {
        let m = mop(p, &mut scratch.pool)?;
        scratch.mops.push(m);
        match p.peek()? {
            b',' => p.i += 1,
            b']' => {
                p.i += 1;
                break;
            }
            _ => return None,
        }
    }
    Some(Some(scratch.mops.drain(..).collect()))
}

fn mop(p: &mut P, pool: &mut Pool) -> Option<Mop> {
    p.eat(b'[')?;
    let tag = p.string()?;
    p.eat(b',')?;
    let key = p.int()?;
    p.eat(b',')?;
    let m = match tag {
        b"append" => Mop::Append {
            key,
            value: p.int()?,
        },
        b"w" => Mop::Write {
            key,
            value: p.int()?,
        },
        b"r" => {
            let value = match p.peek()? {
                b'n' => {
                    p.literal(b"null")?;
                    ReadValue::Nil
                }
                b'[' => {
                    p.i += 1;
                    let start = pool.start();
                    if p.peek()? == b']' {
                        p.i += 1;
                    } else {
                        loop {
                            pool.push_int(p.int()?);
                            match p.peek()? {
                                b',' => p.i += 1,
                                b']' => {
                                    p.i += 1;
                                    break;
                                }
                                _ => return None,
                            }
                        }
                    }
                    ReadValue::List(pool.list(start))
                }
                _ => ReadValue::Int(p.int()?),
            };
            Mop::Read { key, value }
        }
        _ => return None,
    };
    p.eat(b']')?;
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(s: &str) -> Option<Line> {
        let mut scratch = Scratch::default();
        let mut l = parse(s.as_bytes(), &mut scratch)?;
        if let Some(m) = l.mops.as_mut() {
            scratch.pool.share(&mut [m]);
        }
        Some(l)
    }

    #[test]
    fn reads_the_common_shape_in_any_key_order() {
        let l = fast(r#"{"index":5,"time":5000,"process":3,"type":"ok","f":"txn","value":[["r",8,[4,-2]],["append",0,1],["w",1,2],["r",2,null],["r",3,7],["r",4,[]]],"node":"n1"}"#).unwrap();
        assert_eq!(
            (l.index, l.process, l.kind, l.txn),
            (5, Process::Client(3), OpType::Ok, true)
        );
        let m = l.mops.unwrap();
        assert_eq!(
            m[0],
            Mop::Read {
                key: 8,
                value: ReadValue::List(vec![4, -2].into())
            }
        );
        assert_eq!(m[2], Mop::Write { key: 1, value: 2 });
        assert_eq!(
            m[3],
            Mop::Read {
                key: 2,
                value: ReadValue::Nil
            }
        );
        assert_eq!(
            m[4],
            Mop::Read {
                key: 3,
                value: ReadValue::Int(7)
            }
        );
        assert_eq!(
            m[5],
            Mop::Read {
                key: 4,
                value: ReadValue::List(vec![].into())
            }
        );
        let l = fast(r#"{ "f" : "start", "value" : null, "type":"info", "process":"nemesis", "time":1, "index":0, "error":null }"#).unwrap();
        assert_eq!((l.process, l.txn, l.mops), (Process::Nemesis, false, None));
    }

    #[test]
    fn leaves_anything_unusual_to_serde() {
        for s in [
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["append",1,1]]"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"t\u0078n","value":[]}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["append",1,1.5]]}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["append",1,01]]}"#,
            // serde_json reads -0 as a float (found by fuzz_jsonl's differential check)
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["append",0,-0]]}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":{"a":1}}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["x",1,1]]}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["r",1,[1,"a"]]]}"#,
            r#"{"index":0,"index":0,"time":0,"process":1,"type":"ok","f":"txn"}"#,
            r#"{"index":0,"time":0,"process":-1,"type":"ok","f":"txn"}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","extra":1}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok"}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","node":"é"}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn"} x"#,
            r#"{"index":99999999999999999999,"time":0,"process":1,"type":"ok","f":"txn"}"#,
            r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["append",1,9223372036854775808]]}"#,
        ] {
            assert!(fast(s).is_none(), "{s}");
        }
        let l = fast(r#"{"index":0,"time":0,"process":1,"type":"ok","f":"txn","value":[["append",1,-9223372036854775808]]}"#).unwrap();
        assert_eq!(
            l.mops.unwrap()[0],
            Mop::Append {
                key: 1,
                value: i64::MIN
            }
        );
    }
}
