//! The fields every Jepsen op map shares (`:type`, `:process`, `:f`), read once for all the
//! importers (Elle's list-append / rw-register histories, Jepsen's bank and set histories),
//! and how an op map becomes our op.
//! What each importer makes of `:value` stays with that importer.

use crate::edn::{history_forms, Edn};
use crate::elle::import::{json_forms, looks_like_json};
use faultline_core::{Op, OpType, Process};
use serde_json::Value;

/// The op maps of a Jepsen history, EDN or JSON (told apart by the first character), with
/// their lines; an error is the line (0 when JSON gives none) and what is wrong.
pub(crate) fn forms(text: &str) -> Result<Vec<(usize, Edn)>, (usize, String)> {
    if looks_like_json(text) {
        json_forms(text).map_err(|e| (0, e.to_string()))
    } else {
        history_forms(text).map_err(|e| (e.line, e.message))
    }
}

/// Our op for a Jepsen op map at position `index`: its `:time` (or the position, when it
/// has none), `:error`, and the value an importer made of `:value`.
pub(crate) fn op_of(form: &Edn, index: usize, head: OpHead, value: Value) -> Op {
    let index = index as u64;
    Op {
        index,
        time: form
            .get("time")
            .and_then(Edn::as_int)
            .map_or(index, |t| t.max(0) as u64),
        process: head.process,
        kind: head.kind,
        f: head.f.unwrap_or("").to_string(),
        value,
        node: None,
        error: form.get("error").map(|e| e.to_string()),
    }
}

/// The process number that ops without `:process` (or with `:process nil`) are given: one
/// past the highest numbered process of the history, so it collides with none.
pub(crate) fn nil_process(forms: &[(usize, Edn)]) -> u64 {
    let max_process = forms
        .iter()
        .filter_map(|(_, f)| f.get("process").and_then(Edn::as_int))
        .max()
        .unwrap_or(-1)
        .max(-1) as u64;
    max_process.wrapping_add(1)
}

/// An op map's type, process and function name (`None` when it has no `:f`).
pub(crate) struct OpHead<'a> {
    pub kind: OpType,
    pub process: Process,
    pub f: Option<&'a str>,
}

/// Reads the shared fields of one op map; the error says which field is wrong and how.
pub(crate) fn op_head(form: &Edn, nil_process: Process) -> Result<OpHead<'_>, String> {
    if !matches!(form, Edn::Map(_)) {
        return Err(format!("expected an op map, found {form}"));
    }
    let kind = match form.get("type").and_then(Edn::as_name) {
        Some("invoke") => OpType::Invoke,
        Some("ok") => OpType::Ok,
        Some("fail") => OpType::Fail,
        Some("info") => OpType::Info,
        other => {
            return Err(format!(
                "op :type must be :invoke, :ok, :fail or :info, found {other:?}"
            ))
        }
    };
    let process = match form.get("process") {
        Some(Edn::Int(p)) if *p >= 0 => Process::Client(*p as u64),
        Some(p) if p.as_name() == Some("nemesis") => Process::Nemesis,
        None | Some(Edn::Nil) => nil_process,
        Some(p) => {
            return Err(format!(
                ":process must be a non-negative integer, nil or :nemesis, found {p}"
            ))
        }
    };
    Ok(OpHead {
        kind,
        process,
        f: form.get("f").and_then(Edn::as_name),
    })
}
