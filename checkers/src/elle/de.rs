//! Typed deserialisation of our micro-op JSON: `["append", k, v]`, `["w", k, v]`,
//! `["r", k, null | v | [v, ...]]`, straight from the text with no intermediate
//! `serde_json::Value`. Values that are not micro-op lists (nemesis ops) read as
//! `TxnValue(None)` rather than failing the line.

use super::history::{Mop, ReadValue, TxnValue};
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

impl<'de> Deserialize<'de> for TxnValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TxnValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of micro-ops")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<TxnValue, A::Error> {
                let mut mops = Vec::with_capacity(s.size_hint().unwrap_or(4));
                while let Some(m) = s.next_element::<MopDe>()? {
                    match m.0 {
                        Some(m) => mops.push(m),
                        None => {
                            while s.next_element::<IgnoredAny>()?.is_some() {}
                            return Ok(TxnValue(None));
                        }
                    }
                }
                Ok(TxnValue(Some(mops)))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<TxnValue, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TxnValue(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TxnValue, E> {
                Ok(TxnValue(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<TxnValue, E> {
                Ok(TxnValue(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<TxnValue, E> {
                Ok(TxnValue(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<TxnValue, E> {
                Ok(TxnValue(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<TxnValue, E> {
                Ok(TxnValue(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<TxnValue, E> {
                Ok(TxnValue(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A micro-op, or `None` when the element is not one (the whole value is then not a txn).
struct MopDe(Option<Mop>);

/// Any JSON element, reduced to what micro-ops need; never fails on odd input.
enum Elem {
    Tag(u8),
    Int(i64),
    Null,
    List(Vec<i64>),
    Other,
}

const TAG_APPEND: u8 = 1;
const TAG_WRITE: u8 = 2;
const TAG_READ: u8 = 3;

impl<'de> Deserialize<'de> for Elem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Elem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a micro-op element")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Elem, E> {
                Ok(match v {
                    "append" => Elem::Tag(TAG_APPEND),
                    "w" => Elem::Tag(TAG_WRITE),
                    "r" => Elem::Tag(TAG_READ),
                    _ => Elem::Other,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Elem, E> {
                Ok(Elem::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Elem, E> {
                Ok(i64::try_from(v).map(Elem::Int).unwrap_or(Elem::Other))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Elem, E> {
                Ok(Elem::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Elem, E> {
                Ok(Elem::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Elem, E> {
                Ok(Elem::Null)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Elem, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Elem::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Elem, A::Error> {
                let mut xs = Vec::with_capacity(s.size_hint().unwrap_or(8));
                let mut ok = true;
                while let Some(e) = s.next_element::<Elem>()? {
                    match e {
                        Elem::Int(i) if ok => xs.push(i),
                        _ => ok = false,
                    }
                }
                Ok(if ok { Elem::List(xs) } else { Elem::Other })
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for MopDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MopDe;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a micro-op")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<MopDe, A::Error> {
                let tag = s.next_element::<Elem>()?;
                let key = s.next_element::<Elem>()?;
                let val = s.next_element::<Elem>()?;
                let mut extra = false;
                while s.next_element::<IgnoredAny>()?.is_some() {
                    extra = true;
                }
                let (Some(Elem::Tag(tag)), Some(Elem::Int(key)), Some(val), false) =
                    (tag, key, val, extra)
                else {
                    return Ok(MopDe(None));
                };
                let mop = match (tag, val) {
                    (TAG_APPEND, Elem::Int(value)) => Mop::Append { key, value },
                    (TAG_WRITE, Elem::Int(value)) => Mop::Write { key, value },
                    (TAG_READ, Elem::Null) => Mop::Read {
                        key,
                        value: ReadValue::Nil,
                    },
                    (TAG_READ, Elem::Int(i)) => Mop::Read {
                        key,
                        value: ReadValue::Int(i),
                    },
                    (TAG_READ, Elem::List(l)) => Mop::Read {
                        key,
                        value: ReadValue::List(l.into()),
                    },
                    _ => return Ok(MopDe(None)),
                };
                Ok(MopDe(Some(mop)))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<MopDe, E> {
                Ok(MopDe(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<MopDe, E> {
                Ok(MopDe(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<MopDe, E> {
                Ok(MopDe(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<MopDe, E> {
                Ok(MopDe(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<MopDe, E> {
                Ok(MopDe(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<MopDe, E> {
                Ok(MopDe(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<MopDe, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MopDe(None))
            }
        }
        d.deserialize_any(V)
    }
}
