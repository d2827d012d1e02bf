//! A small, generic reader for Jepsen's EDN histories.
//!
//! Jepsen stores histories as EDN (`history.edn`): either one op map per line
//! (`{:type :invoke, :f :txn, :value [[:append 1 2]], :process 0, :time 12, :index 0}`) or
//! one vector holding all op maps. This reader turns EDN text into [`Edn`] values and
//! [`history_forms`] yields the op forms of either layout together with the line each starts
//! on, so an importer can report a bad op by line number.
//!
//! Supported: `nil`, booleans, integers (with an optional `N` suffix), floats (optional `M`),
//! strings with escapes, characters (read as one-character strings), keywords (stored
//! without the leading colon: `:ok` is `Keyword("ok")`), symbols, lists, vectors, maps,
//! `#{}` sets, `;` comments, commas as whitespace, `#_` discards, and tagged literals
//! (`#inst "..."`, `#jepsen.history.Op{...}`), which read as the tagged value itself.
//! Not supported (an error with its line): ratios, regexes and other reader macros.

use std::fmt;

/// One EDN value. Maps keep their entries in source order (Jepsen op maps are small).
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A keyword without its leading colon: `:append` is `Keyword("append")`.
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    List(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
    Set(Vec<Edn>),
}

/// A syntax error, with the 1-based line it was found on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("EDN line {line}: {message}")]
pub struct EdnError {
    pub line: usize,
    pub message: String,
}

impl Edn {
    /// The value under keyword `key` (without colon) of a map, if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Edn::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Edn::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Edn::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_keyword(&self) -> Option<&str> {
        match self {
            Edn::Keyword(s) => Some(s),
            _ => None,
        }
    }
    /// Keyword, symbol or string contents: `:ok`, `ok` and `"ok"` all give `ok`.
    pub fn as_name(&self) -> Option<&str> {
        match self {
            Edn::Keyword(s) | Edn::Symbol(s) | Edn::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The elements of a vector, list or set.
    pub fn as_seq(&self) -> Option<&[Edn]> {
        match self {
            Edn::Vector(v) | Edn::List(v) | Edn::Set(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_nil(&self) -> bool {
        matches!(self, Edn::Nil)
    }
}

impl fmt::Display for Edn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(f: &mut fmt::Formatter<'_>, open: &str, xs: &[Edn], close: &str) -> fmt::Result {
            f.write_str(open)?;
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{x}")?;
            }
            f.write_str(close)
        }
        match self {
            Edn::Nil => f.write_str("nil"),
            Edn::Bool(b) => write!(f, "{b}"),
            Edn::Int(i) => write!(f, "{i}"),
            Edn::Float(x) => write!(f, "{x:?}"),
            Edn::Str(s) => write!(f, "{s:?}"),
            Edn::Keyword(k) => write!(f, ":{k}"),
            Edn::Symbol(s) => f.write_str(s),
            Edn::Vector(v) => seq(f, "[", v, "]"),
            Edn::List(v) => seq(f, "(", v, ")"),
            Edn::Set(v) => seq(f, "#{", v, "}"),
            Edn::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Reads all top-level forms of `text`, each with the line it starts on.
pub fn parse_all(text: &str) -> Result<Vec<(usize, Edn)>, EdnError> {
    let mut r = Reader::new(text);
    let mut out = Vec::new();
    while let Some(form) = r.next_form()? {
        out.push(form);
    }
    Ok(out)
}

/// Reads exactly one form (surrounding whitespace and comments allowed).
pub fn parse_one(text: &str) -> Result<Edn, EdnError> {
    let mut r = Reader::new(text);
    let Some((_, form)) = r.next_form()? else {
        return Err(r.err("no EDN form in input"));
    };
    if let Some((line, _)) = r.next_form()? {
        return Err(EdnError {
            line,
            message: "more than one top-level form".into(),
        });
    }
    Ok(form)
}

/// The op forms of a Jepsen history, with their starting lines: the top-level forms of a
/// one-op-per-line file, or the elements when the whole file is one vector (or list).
pub fn history_forms(text: &str) -> Result<Vec<(usize, Edn)>, EdnError> {
    let mut r = Reader::new(text);
    r.skip_ws();
    let close = match r.peek() {
        Some(b'[') => b']',
        Some(b'(') => b')',
        _ => return parse_all(text),
    };
    r.pos += 1;
    let mut out = Vec::new();
    loop {
        r.skip_ws();
        match r.peek() {
            None => return Err(r.err("unterminated history vector")),
            Some(c) if c == close => {
                r.pos += 1;
                break;
            }
            _ => {
                let line = r.line;
                if let Some(form) = r.read()? {
                    out.push((line, form));
                }
            }
        }
    }
    if let Some((line, _)) = r.next_form()? {
        return Err(EdnError {
            line,
            message: "unexpected form after the history vector".into(),
        });
    }
    Ok(out)
}

/// A streaming reader over EDN text.
pub struct Reader<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    line: usize,
    /// Forms being read, nested: bounded by [`MAX_DEPTH`].
    depth: usize,
}

/// How deeply forms may nest. Jepsen ops nest a handful of levels; the bound keeps a
/// hostile or corrupt file (`[[[[...`) from overflowing the stack, here or when the value
/// is dropped. Found by fuzzing (fuzz/, target fuzz_edn).
pub const MAX_DEPTH: usize = 256;

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader {
            src: text.as_bytes(),
            text,
            pos: 0,
            line: 1,
            depth: 0,
        }
    }

    /// The next top-level form and its starting line, or `None` at the end.
    pub fn next_form(&mut self) -> Result<Option<(usize, Edn)>, EdnError> {
        loop {
            self.skip_ws();
            if self.peek().is_none() {
                return Ok(None);
            }
            let line = self.line;
            if let Some(form) = self.read()? {
                return Ok(Some((line, form)));
            }
        }
    }

    fn err(&self, message: impl Into<String>) -> EdnError {
        EdnError {
            line: self.line,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b',' => self.pos += 1,
                b';' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Reads one form at the current position; `None` for a `#_` discard.
    fn read(&mut self) -> Result<Option<Edn>, EdnError> {
        if self.depth == MAX_DEPTH {
            return Err(self.err(format!("forms nested deeper than {MAX_DEPTH}")));
        }
        self.depth += 1;
        let r = self.read_form();
        self.depth -= 1;
        r
    }

    fn read_form(&mut self) -> Result<Option<Edn>, EdnError> {
        let Some(c) = self.peek() else {
            return Err(self.err("unexpected end of input"));
        };
        let form = match c {
            b'[' => Edn::Vector(self.read_seq(b']')?),
            b'(' => Edn::List(self.read_seq(b')')?),
            b'{' => self.read_map()?,
            b'"' => Edn::Str(self.read_string()?),
            b'\\' => Edn::Str(self.read_char()?),
            b']' | b')' | b'}' => return Err(self.err(format!("unexpected '{}'", c as char))),
            b'#' => return self.read_dispatch(),
            _ => self.read_atom()?,
        };
        Ok(Some(form))
    }

    fn read_required(&mut self) -> Result<Edn, EdnError> {
        loop {
            self.skip_ws();
            if let Some(form) = self.read()? {
                return Ok(form);
            }
        }
    }

    fn read_seq(&mut self, close: u8) -> Result<Vec<Edn>, EdnError> {
        let start = self.line;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    return Err(EdnError {
                        line: start,
                        message: format!("unterminated collection (expected '{}')", close as char),
                    })
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(out);
                }
                _ => {
                    if let Some(form) = self.read()? {
                        out.push(form);
                    }
                }
            }
        }
    }

    fn read_map(&mut self) -> Result<Edn, EdnError> {
        let start = self.line;
        let items = self.read_seq(b'}')?;
        if items.len() % 2 != 0 {
            return Err(EdnError {
                line: start,
                message: "map with an odd number of forms".into(),
            });
        }
        let mut it = items.into_iter();
        let mut entries = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            entries.push((k, v));
        }
        Ok(Edn::Map(entries))
    }

    fn read_dispatch(&mut self) -> Result<Option<Edn>, EdnError> {
        self.pos += 1;
        match self.peek() {
            Some(b'{') => Ok(Some(Edn::Set(self.read_seq(b'}')?))),
            Some(b'_') => {
                self.pos += 1;
                self.read_required()?;
                Ok(None)
            }
            Some(c) if c.is_ascii_alphabetic() => {
                // A tagged literal: skip the tag, read the tagged form as itself.
                while let Some(c) = self.peek() {
                    if is_delim(c) {
                        break;
                    }
                    self.pos += 1;
                }
                Ok(Some(self.read_required()?))
            }
            _ => Err(self.err("unsupported '#' dispatch")),
        }
    }

    fn read_string(&mut self) -> Result<String, EdnError> {
        let start = self.line;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(c) = self.peek() else {
                return Err(EdnError {
                    line: start,
                    message: "unterminated string".into(),
                });
            };
            match c {
                b'"' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(&self.text[run..self.pos]);
                    self.pos += 1;
                    let e = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'r' => out.push('\r'),
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'u' => {
                            let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                            let code = u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.err("bad \\u escape"))?;
                            out.push(code);
                            self.pos += 4;
                        }
                        _ => return Err(self.err(format!("bad escape '\\{}'", e as char))),
                    }
                    run = self.pos;
                }
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn read_char(&mut self) -> Result<String, EdnError> {
        self.pos += 1;
        let start = self.pos;
        // At least one char, then up to the next delimiter (named chars like \newline).
        let first = self.text[start..]
            .chars()
            .next()
            .ok_or_else(|| self.err("character literal at end of input"))?;
        self.pos += first.len_utf8();
        while let Some(c) = self.peek() {
            if is_delim(c) {
                break;
            }
            self.pos += 1;
        }
        let name = &self.text[start..self.pos];
        Ok(match name {
            "newline" => "\n".into(),
            "space" => " ".into(),
            "tab" => "\t".into(),
            "return" => "\r".into(),
            _ if name.chars().count() == 1 => name.into(),
            _ => return Err(self.err(format!("unknown character \\{name}"))),
        })
    }

    fn read_atom(&mut self) -> Result<Edn, EdnError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_delim(c) {
                break;
            }
            self.pos += 1;
        }
        let tok = &self.text[start..self.pos];
        if tok.is_empty() {
            return Err(self.err("unexpected character"));
        }
        if let Some(k) = tok.strip_prefix(':') {
            return Ok(Edn::Keyword(k.to_string()));
        }
        let b = tok.as_bytes();
        let numeric = b[0].is_ascii_digit()
            || (b.len() > 1 && (b[0] == b'-' || b[0] == b'+') && b[1].is_ascii_digit());
        if numeric {
            return self.number(tok);
        }
        Ok(match tok {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ => Edn::Symbol(tok.to_string()),
        })
    }

    fn number(&self, tok: &str) -> Result<Edn, EdnError> {
        let int = tok.strip_suffix('N').unwrap_or(tok);
        if let Ok(i) = int.parse::<i64>() {
            return Ok(Edn::Int(i));
        }
        let float = tok.strip_suffix('M').unwrap_or(tok);
        if let Ok(x) = float.parse::<f64>() {
            return Ok(Edn::Float(x));
        }
        Err(self.err(format!("bad number {tok:?}")))
    }
}

fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\r' | b'\n' | b',' | b';' | b'[' | b']' | b'(' | b')' | b'{' | b'}' | b'"'
    )
}
