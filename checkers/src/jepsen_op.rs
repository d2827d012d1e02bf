//! The fields every Jepsen op map shares (`:type`, `:process`, `:f`), read once for all the
//! importers (Elle's list-append / rw-register histories and Jepsen's bank histories).
//! What each importer makes of `:value` stays with that importer.

use crate::edn::Edn;
use faultline_core::{OpType, Process};

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
