//! Which optimizer feature a wrong result needs: each `optimizer_switch` flag of the server
//! toggled alone, in the reproducer's session, and the failure checked again.
//!
//! A flag whose toggle makes the wrong result go away names the part of the optimizer to
//! look at (a bug report's first question) and a workaround; two reduced forms that need
//! the same flags and fail on the same condition are most likely one bug (see the report's
//! bug grouping). No flag clearing it is a result too: the bug is in evaluation, or in a
//! part no flag turns off. A server without `@@optimizer_switch` (not MariaDB / MySQL) is
//! not probed.

use super::exec::SqlDb;
use faultline_sqlsmith::Outcome;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;

/// One "does it still fail?" check on a session (see [`probe`]).
pub type Check<'a> = Pin<Box<dyn Future<Output = Option<bool>> + Send + 'a>>;

/// What toggling the flags one at a time showed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SwitchProbe {
    /// `flag=value` settings (each the flag's default toggled) under which the failure is
    /// gone, in the server's order.
    pub clearing: Vec<String>,
    /// How many flags were toggled.
    pub tried: usize,
}

impl SwitchProbe {
    /// The finding in words, for a report.
    pub fn describe(&self) -> String {
        if self.clearing.is_empty() {
            format!(
                "No single `optimizer_switch` flag makes it go away ({} flags toggled one at a time on the reduced case).",
                self.tried
            )
        } else {
            let sets: Vec<String> = self
                .clearing
                .iter()
                .map(|c| format!("`SET SESSION optimizer_switch='{c}'`"))
                .collect();
            format!(
                "The wrong result goes away with {} (each of the server's {} `optimizer_switch` flags toggled alone on the reduced case; the others leave it): the optimizer feature to look at, and a workaround.",
                sets.join(" or with "),
                self.tried
            )
        }
    }
}

/// The flags of an `@@optimizer_switch` value (`name=on,name=off,...`) with their values;
/// `default` entries are skipped.
pub fn parse_switches(value: &str) -> Vec<(String, bool)> {
    value
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            match v {
                "on" => Some((k.to_string(), true)),
                "off" => Some((k.to_string(), false)),
                _ => None,
            }
        })
        .collect()
}

async fn set(db: &mut SqlDb, flag: &str, on: bool) -> bool {
    let value = if on { "on" } else { "off" };
    let sql = format!("SET SESSION optimizer_switch='{flag}={value}'");
    matches!(db.run(&sql).await, Outcome::Affected { .. })
}

/// Toggles each flag of `db`'s session alone and asks `still_fails` (Some(true): the
/// failure shows; Some(false): the identity holds; None: it could not tell, e.g. a query
/// erred); each flag is set back before the next. None when the server has no
/// `@@optimizer_switch` or a flag could not be set back (then the session is dropped, so
/// nothing leaks into later replays).
pub async fn probe<F>(db: &mut SqlDb, mut still_fails: F) -> Option<SwitchProbe>
where
    F: for<'a> FnMut(&'a mut SqlDb) -> Check<'a>,
{
    let value = match db.run("SELECT @@SESSION.optimizer_switch").await {
        Outcome::Rows { rows } => rows.first()?.first()?.clone()?,
        _ => return None,
    };
    let flags = parse_switches(&value);
    let mut out = SwitchProbe {
        tried: 0,
        clearing: vec![],
    };
    for (flag, on) in &flags {
        if !set(db, flag, !on).await {
            continue; // a flag the server lists but refuses to toggle
        }
        out.tried += 1;
        if still_fails(db).await == Some(false) {
            out.clearing
                .push(format!("{flag}={}", if *on { "off" } else { "on" }));
        }
        if !set(db, flag, *on).await {
            db.reset();
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_with_their_values_and_defaults_are_skipped() {
        let f = parse_switches("index_merge=on,mrr=off, derived_merge=on,default,x=maybe");
        assert_eq!(
            f,
            [
                ("index_merge".to_string(), true),
                ("mrr".to_string(), false),
                ("derived_merge".to_string(), true)
            ]
        );
    }

    #[test]
    fn the_description_names_the_settings_or_says_none_cleared_it() {
        let p = SwitchProbe {
            clearing: vec!["condition_pushdown_for_derived=off".into()],
            tried: 38,
        };
        assert!(p.describe().contains(
            "`SET SESSION optimizer_switch='condition_pushdown_for_derived=off'` (each of the server's 38"
        ));
        let none = SwitchProbe {
            clearing: vec![],
            tried: 38,
        };
        assert!(none.describe().starts_with("No single"));
    }
}
