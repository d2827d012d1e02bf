//! From a stored run back to its checkers: `faultline analyze` reads test.json and asks here.
//! Adding a workload adds one arm.

use crate::append::AppendOptions;
use crate::bank::{Bank, BankOptions};
use crate::register::{Register, RegisterOptions};
use crate::rw_register::RwRegisterOptions;
use anyhow::{bail, Context};
use faultline_core::Checker;
use serde_json::Value;

/// Every checker a run described by test.json had: its workload's and the standard ones.
pub fn all_checkers_for(test: &Value) -> anyhow::Result<Vec<Box<dyn Checker>>> {
    let mut checkers = checkers_for(test)?;
    checkers.extend(crate::standard::standard_checkers(
        test["spec"]["recovery_slo_s"].as_f64(),
    ));
    Ok(checkers)
}

/// The checkers of the workload a test.json describes, configured as the run was.
pub fn checkers_for(test: &Value) -> anyhow::Result<Vec<Box<dyn Checker>>> {
    let name = test["workload"]["name"].as_str().unwrap_or("");
    let options = test["workload"]["options"].clone();
    match name {
        "bank" => {
            let opts: BankOptions =
                serde_json::from_value(options).context("reading the bank options of test.json")?;
            Ok(vec![Box::new(Bank::checker(&opts))])
        }
        "register" => {
            let opts: RegisterOptions = serde_json::from_value(options)
                .context("reading the register options of test.json")?;
            Ok(vec![Box::new(Register::checker(&opts))])
        }
        "append" => {
            let opts: AppendOptions = serde_json::from_value(options)
                .context("reading the append options of test.json")?;
            Ok(vec![Box::new(crate::append::checker(&opts)?)])
        }
        "rw-register" => {
            let opts: RwRegisterOptions = serde_json::from_value(options)
                .context("reading the rw-register options of test.json")?;
            Ok(vec![Box::new(crate::rw_register::checker(&opts)?)])
        }
        "sqlsmith" => Ok(vec![Box::new(crate::sqlsmith::SqlsmithChecker)]),
        "" => bail!("test.json names no workload: is this a faultline run folder?"),
        other => bail!("workload {other:?} is not known to this faultline build"),
    }
}
