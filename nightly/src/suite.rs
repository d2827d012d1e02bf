//! The suite file: a name, arguments every case gets, and the cases.
//!
//! ```toml
//! name = "smoke"
//! args = ["--time-limit", "3"]          # before each case's own (optional)
//!
//! [[case]]
//! name = "register-partition"           # optional: the workload's name
//! workload = "atom-register"
//! args = ["--nemesis", "partition_one"] # the workload's own command line
//! repeat = 2                            # optional: 1
//! seed = 3                              # optional: repeat i runs with seed + i
//! ```

use faultline_harness::Registry;
use serde::Deserialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read the suite {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the suite {path} is not a valid suite file: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("case {case}: {message}")]
    Case { case: String, message: String },
    #[error("cannot write the suite summary under {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    pub name: String,
    /// Arguments every case gets before its own.
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(rename = "case", default)]
    pub cases: Vec<Case>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: Option<String>,
    pub workload: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default = "one")]
    pub repeat: u32,
    pub seed: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Case {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.workload)
    }

    /// The command line of repeat `i` (argv[0] included): the suite's arguments but those the
    /// case sets itself, the case's, `--store` unless given, `--seed` when the case has one.
    pub fn argv(&self, suite: &Suite, store: &Path, i: u32) -> Vec<OsString> {
        let mut argv: Vec<OsString> = vec![format!("{} {}", suite.name, self.name()).into()];
        let flag = |a: &str| a.split('=').next().unwrap_or(a).to_string();
        let own: std::collections::HashSet<String> = self
            .args
            .iter()
            .filter(|a| a.starts_with("--"))
            .map(|a| flag(a))
            .collect();
        let mut skipping = false;
        for a in &suite.args {
            if a.starts_with("--") {
                skipping = own.contains(&flag(a));
            }
            if !skipping {
                argv.push(a.into());
            }
        }
        argv.extend(self.args.iter().map(OsString::from));
        if !argv.iter().any(|a| a == "--store") {
            argv.extend(["--store".into(), store.as_os_str().to_owned()]);
        }
        if let Some(seed) = self.seed {
            argv.extend(["--seed".into(), (seed + u64::from(i)).to_string().into()]);
        }
        argv
    }
}

impl Suite {
    pub fn read(path: &Path) -> Result<Suite, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Read {
            path: path.to_owned(),
            source,
        })?;
        Suite::parse(&text).map_err(|message| SuiteError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Suite, String> {
        let suite: Suite = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if suite.cases.is_empty() {
            return Err("it has no [[case]]".into());
        }
        let mut names = std::collections::HashSet::new();
        for c in &suite.cases {
            if !names.insert(c.name()) {
                return Err(format!(
                    "two cases are named {} (give one a name)",
                    c.name()
                ));
            }
            if c.repeat == 0 {
                return Err(format!("case {}: repeat must be at least 1", c.name()));
            }
        }
        Ok(suite)
    }

    /// Plans every case (and checks what its system needs is installed) without starting
    /// anything: a suite with a bad case is refused before its first run.
    pub fn validate(&self, registry: &Registry, store: &Path) -> Result<(), SuiteError> {
        for c in &self.cases {
            let err = |message: String| SuiteError::Case {
                case: c.name().to_string(),
                message,
            };
            let plan = registry
                .plan_run(&c.workload, c.argv(self, store, 0))
                .map_err(|e| err(e.to_string()))?;
            plan.system.preflight().map_err(|e| err(format!("{e:#}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_is_its_workloads_command_line() {
        let s = Suite::parse(
            r#"name = "s"
args = ["--time-limit", "3"]
[[case]]
workload = "noop"
args = ["--concurrency", "2", "--time-limit=5"]
seed = 7
"#,
        )
        .unwrap();
        let argv: Vec<String> = s.cases[0]
            .argv(&s, Path::new("st"), 1)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            argv,
            [
                "s noop",
                "--concurrency",
                "2",
                "--time-limit=5",
                "--store",
                "st",
                "--seed",
                "8"
            ]
        );
    }

    #[test]
    fn bad_suites_say_why() {
        assert!(Suite::parse("name = \"s\"")
            .unwrap_err()
            .contains("no [[case]]"));
        let e =
            Suite::parse("name = \"s\"\n[[case]]\nworkload = \"a\"\n[[case]]\nworkload = \"a\"\n")
                .unwrap_err();
        assert!(e.contains("two cases are named a"), "{e}");
        let e = Suite::parse("name = \"s\"\n[[case]]\nworklod = \"a\"\n").unwrap_err();
        assert!(e.contains("worklod"), "{e}");
    }
}
