//! `faultline analyze --format ... FILE`: check histories other tools wrote.
//!
//! | format | file | checker |
//! |---|---|---|
//! | `porcupine-etcd` | Porcupine's etcd Jepsen logs | linearizable, cas-register |
//! | `porcupine-kv` | Porcupine's kv EDN lines | linearizable, kv map per key |
//! | `jepsen-edn --workload register\|cas-register` | Jepsen / Knossos EDN ops | linearizable |
//! | `jepsen-edn --workload append\|rw-register` | Jepsen / Elle txns, EDN or elle-cli JSON (told apart by their first character); ops without `:process` are one nil process | elle, `--model` |
//! | `jepsen-edn --workload bank [--negative-balances]` | Jepsen bank histories (`:transfer` / `:read`), EDN or JSON; accounts and total from the first ok read, as Jepsen does | bank |
//! | `jepsen-edn --workload set` | Jepsen set histories (`:add` / `:read`), EDN or JSON | Jepsen's `set` (the final read) |
//! | `jepsen-edn --workload set-full [--linearizable]` | the same | Jepsen's `set-full` (every read; stale elements invalid with `--linearizable`) |
//!
//! `jepsen-json` is the same as `jepsen-edn`. A malformed file is reported with its line
//! number.

use anyhow::{bail, Context};
use faultline_checkers::{bank_import, elle, linearizable, set};
use faultline_core::{CheckResult, Checker, History};
use std::path::Path;
use std::time::Duration;

/// What the user asked for on the command line.
pub struct ImportArgs<'a> {
    pub format: &'a str,
    pub workload: Option<&'a str>,
    pub model: Option<&'a str>,
    pub check_timeout: Option<Duration>,
    pub initial_value: Option<&'a str>,
    /// For Jepsen bank histories: negative balances are allowed (Jepsen's
    /// `:negative-balances?`).
    pub negative_balances: bool,
    /// For Jepsen set histories checked by set-full: a stale element is invalid (Jepsen's
    /// `:linearizable?`).
    pub linearizable: bool,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Reads `path` in `args.format` and checks it.
pub fn check_file(path: &Path, args: &ImportArgs) -> anyhow::Result<Vec<CheckResult>> {
    let lin =
        |model: linearizable::ModelKind, history: History| -> anyhow::Result<Vec<CheckResult>> {
            let mut checker = linearizable::LinearizableChecker::new(model);
            checker.check_timeout = args.check_timeout;
            if let Some(v) = args.initial_value {
                let value = serde_json::from_str(v).with_context(|| {
                    format!("--initial-value {v:?} is not JSON (e.g. 0, \"a\", null)")
                })?;
                checker.initial_value = (value != serde_json::Value::Null).then_some(value);
            }
            Ok(vec![checker.check(&history)])
        };
    match (args.format, args.workload) {
        ("porcupine-etcd", _) => lin(
            linearizable::ModelKind::CasRegister,
            linearizable::import::porcupine_etcd(path)?,
        ),
        ("porcupine-kv", _) => lin(
            linearizable::ModelKind::Kv,
            linearizable::import::porcupine_kv(path)?,
        ),
        ("jepsen-edn", Some(w @ ("register" | "cas-register"))) => lin(
            w.parse().map_err(anyhow::Error::msg)?,
            linearizable::import::jepsen_edn_register(path)?,
        ),
        ("jepsen-edn" | "jepsen-json", Some(w @ ("append" | "list-append" | "rw-register"))) => {
            let workload: elle::Workload = w.parse()?;
            let (history, names) = elle::import::jepsen_history_named(&read(path)?, workload)?;
            let checker = elle::ElleChecker::new(workload, args.model.unwrap_or("serializable"))?;
            let mut result = checker.check(&history);
            names.rename_result(&mut result);
            Ok(vec![result])
        }
        ("jepsen-edn" | "jepsen-json", Some("bank")) => {
            let opts = bank_import::JepsenBankOptions {
                negative_balances: args.negative_balances,
                ..Default::default()
            };
            let bank = bank_import::jepsen_bank(&read(path)?, &opts)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(vec![bank.check()])
        }
        ("jepsen-edn" | "jepsen-json", Some(w @ ("set" | "set-full"))) => {
            let history = set::jepsen_set_history(&read(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(vec![if w == "set" {
                set::SetChecker.check(&history)
            } else {
                set::SetFullChecker {
                    linearizable: args.linearizable,
                }
                .check(&history)
            }])
        }
        ("jepsen-edn" | "jepsen-json", Some(other)) => {
            bail!("--workload {other:?}: use register, cas-register, append, rw-register, bank, set or set-full")
        }
        ("jepsen-edn" | "jepsen-json", None) => {
            bail!("--format jepsen-edn needs --workload register|cas-register|append|rw-register|bank|set|set-full")
        }
        (other, _) => {
            bail!("--format {other:?}: use native, porcupine-etcd, porcupine-kv, jepsen-edn or jepsen-json")
        }
    }
}
