//! The one list of what a faultline build can run: recipes (systems) and workloads.
//!
//! The test binaries, `faultline run <workload>`, `faultline analyze` and `faultline list`
//! all read one [`Registry`]. A workload is registered by one line,
//! `.workload(Bank)`, where `Bank` implements [`WorkloadDef`]: its name, its options (a
//! clap `Args` struct that is also serialised into test.json), the run-option defaults it
//! changes, how to build it against a running system, and its checkers. `analyze` rebuilds
//! the checkers from the options in test.json, so a run and its re-check always run the
//! same checkers.

use crate::options::{BadArgs, RunSpec};
use crate::recipe::{Plan, Recipe, Sut, SystemArgs};
use crate::Workload;
use faultline_core::Checker;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Run-option defaults a workload sets for itself (its `--help` shows them).
#[derive(Clone, Debug, Default)]
pub struct Defaults {
    /// `--concurrency`, e.g. `1` for a sequential workload.
    pub concurrency: Option<&'static str>,
    /// `--op-interval-ms`: 0 runs as fast as the system answers.
    pub op_interval_ms: Option<&'static str>,
    /// `--db`.
    pub db: Option<&'static str>,
    /// `--op-timeout` (seconds).
    pub op_timeout: Option<&'static str>,
    /// `--time-limit` (seconds), for workloads that end on their own.
    pub time_limit: Option<&'static str>,
}

/// A kind of workload: what the registry knows of it.
pub trait WorkloadDef: Send + Sync + 'static {
    /// The workload's own options: `#[derive(clap::Args, Serialize, Deserialize, Clone)]`.
    type Options: clap::Args + Serialize + DeserializeOwned + Clone + Send + Sync + 'static;
    /// `bank`, `set`, ...: the test name, the binary and `faultline run` name.
    fn name(&self) -> &'static str;
    /// One line for `faultline list workloads` and `--help`.
    fn about(&self) -> &'static str;
    fn defaults(&self) -> Defaults {
        Defaults::default()
    }
    /// The number of clients when an option of the workload's own fixes it (sqlsmith's
    /// `--workers`): it then sets `--concurrency`, and a different `--concurrency` given
    /// with it is refused.
    fn concurrency(&self, _opts: &Self::Options) -> Option<usize> {
        None
    }
    /// Refuses options that cannot work together with the run's, before anything starts.
    fn validate(&self, _opts: &Self::Options, _spec: &RunSpec) -> Result<(), BadArgs> {
        Ok(())
    }
    /// The workload for one run against a running system.
    fn build(
        &self,
        opts: &Self::Options,
        sut: &Sut,
        spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>>;
    /// The workload's checkers, configured by its options (the runner adds the ones every
    /// run gets, such as recovery).
    fn checkers(&self, opts: &Self::Options) -> anyhow::Result<Vec<Box<dyn Checker>>>;
}

/// A registered workload with its options as JSON (what test.json holds).
pub trait WorkloadEntry: Send + Sync {
    fn name(&self) -> &'static str;
    fn about(&self) -> &'static str;
    fn defaults(&self) -> Defaults;
    /// Adds the workload's options to the command line.
    fn augment(&self, cmd: clap::Command) -> clap::Command;
    /// The workload's options from parsed arguments, as JSON.
    fn options_from(&self, matches: &clap::ArgMatches) -> Result<Value, clap::Error>;
    fn concurrency(&self, options: &Value) -> Option<usize>;
    fn validate(&self, options: &Value, spec: &RunSpec) -> Result<(), BadArgs>;
    fn build(
        &self,
        options: &Value,
        sut: &Sut,
        spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>>;
    fn checkers(&self, options: &Value) -> anyhow::Result<Vec<Box<dyn Checker>>>;
}

struct Entry<W>(W);

impl<W: WorkloadDef> Entry<W> {
    fn parse(&self, options: &Value) -> anyhow::Result<W::Options> {
        serde_json::from_value(options.clone()).map_err(|e| {
            anyhow::anyhow!(
                "reading the {} options of test.json: {e} (was the run made by another faultline version?)",
                self.0.name()
            )
        })
    }
}

impl<W: WorkloadDef> WorkloadEntry for Entry<W> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn about(&self) -> &'static str {
        self.0.about()
    }
    fn defaults(&self) -> Defaults {
        self.0.defaults()
    }
    fn augment(&self, cmd: clap::Command) -> clap::Command {
        <W::Options as clap::Args>::augment_args(cmd)
    }
    fn options_from(&self, matches: &clap::ArgMatches) -> Result<Value, clap::Error> {
        let opts = <W::Options as clap::FromArgMatches>::from_arg_matches(matches)?;
        Ok(serde_json::to_value(&opts).unwrap_or(Value::Null))
    }
    fn concurrency(&self, options: &Value) -> Option<usize> {
        self.0.concurrency(&self.parse(options).ok()?)
    }
    fn validate(&self, options: &Value, spec: &RunSpec) -> Result<(), BadArgs> {
        let opts = self.parse(options).map_err(|e| BadArgs(e.to_string()))?;
        self.0.validate(&opts, spec)
    }
    fn build(
        &self,
        options: &Value,
        sut: &Sut,
        spec: &RunSpec,
    ) -> anyhow::Result<Box<dyn Workload>> {
        self.0.build(&self.parse(options)?, sut, spec)
    }
    fn checkers(&self, options: &Value) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        self.0.checkers(&self.parse(options)?)
    }
}

/// Recipes and workloads, in the order they were registered.
#[derive(Default)]
pub struct Registry {
    recipes: Vec<Box<dyn Recipe>>,
    workloads: Vec<Box<dyn WorkloadEntry>>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers a system. A later recipe with the name of an earlier one replaces it; the
    /// first one registered is the default `--db`.
    pub fn recipe(mut self, recipe: impl Recipe + 'static) -> Self {
        match self.recipes.iter().position(|r| r.name() == recipe.name()) {
            Some(i) => self.recipes[i] = Box::new(recipe),
            None => self.recipes.push(Box::new(recipe)),
        }
        self
    }

    /// Registers a workload. A later workload with the name of an earlier one replaces it.
    pub fn workload<W: WorkloadDef>(mut self, def: W) -> Self {
        match self.workloads.iter().position(|w| w.name() == def.name()) {
            Some(i) => self.workloads[i] = Box::new(Entry(def)),
            None => self.workloads.push(Box::new(Entry(def))),
        }
        self
    }

    pub fn recipes(&self) -> impl Iterator<Item = &dyn Recipe> {
        self.recipes.iter().map(|r| r.as_ref())
    }

    pub fn workloads(&self) -> impl Iterator<Item = &dyn WorkloadEntry> {
        self.workloads.iter().map(|w| w.as_ref())
    }

    pub fn find_workload(&self, name: &str) -> Result<&dyn WorkloadEntry, BadArgs> {
        self.workloads().find(|w| w.name() == name).ok_or_else(|| {
            BadArgs(format!(
                "unknown workload {name:?}: choose from {} (see `faultline list workloads`)",
                self.workloads()
                    .map(|w| w.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// The recipe that serves `--db db`.
    pub fn find_recipe(&self, db: &str) -> Result<&dyn Recipe, BadArgs> {
        self.recipes().find(|r| r.accepts(db)).ok_or_else(|| {
            BadArgs(format!(
                "--db {:?} is not known: use {} (see `faultline list systems`)",
                faultline_core::mask_url_passwords(db),
                self.recipes()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// Plans the system `args.db` names, with the recipe's own options from `matches`.
    pub fn plan(
        &self,
        args: &SystemArgs,
        matches: &clap::ArgMatches,
    ) -> Result<Box<dyn Plan>, BadArgs> {
        self.find_recipe(&args.db)?.plan(args, matches)
    }

    /// Adds every recipe's options to `cmd`.
    pub fn augment_recipes(&self, mut cmd: clap::Command) -> clap::Command {
        for r in self.recipes() {
            cmd = r.augment(cmd);
        }
        cmd
    }

    /// The checkers of the run a test.json describes: its workload's, configured as the run
    /// was, and those every run gets.
    pub fn checkers_for(&self, test: &Value) -> anyhow::Result<Vec<Box<dyn Checker>>> {
        let name = test["workload"]["name"].as_str().unwrap_or("");
        if name.is_empty() {
            anyhow::bail!("test.json names no workload: is this a faultline run folder?");
        }
        let entry = self.workloads().find(|w| w.name() == name).ok_or_else(|| {
            anyhow::anyhow!(
                "workload {name:?} is not known to this faultline build (known: {})",
                self.workloads()
                    .map(|w| w.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let mut checkers = entry.checkers(&test["workload"]["options"])?;
        checkers.extend(crate::run::standard_checkers(
            test["spec"]["recovery_slo_s"].as_f64(),
        ));
        Ok(checkers)
    }
}
