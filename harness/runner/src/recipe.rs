//! Recipes: how a system under test is started (or reached), behind one trait, so the runner
//! names no system.
//!
//! `--db VALUE` is parsed once, by the [`Registry`](crate::Registry): the first recipe that
//! [`accepts`](Recipe::accepts) the value [`plan`](Recipe::plan)s the system from the common
//! run options and its own command-line options (a recipe adds those to the command with
//! [`Recipe::augment`], e.g. `--pd.path` for the TiDB playground). A [`Plan`] is the
//! validated description: how many nodes, what goes into test.json, what must be installed.
//! [`Plan::start`] brings the system up with the [`Capability`]s the run's faults need and
//! returns a [`Sut`]: the database (its capabilities, heal, teardown) and the endpoints its
//! clients use.

use crate::options::BadArgs;
use async_trait::async_trait;
use faultline_core::db::{Capability, Db};
use faultline_core::Endpoint;
use serde_json::Value;
use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The running system under test, as a workload sees it.
#[derive(Clone)]
pub struct Sut {
    pub db: Arc<dyn Db>,
    /// How clients reach each client node (passwords masked when displayed).
    pub endpoints: Vec<Endpoint>,
    /// The system itself, for in-process systems whose clients call it directly (tests);
    /// a workload downcasts it to the type it knows.
    pub local: Option<Arc<dyn Any + Send + Sync>>,
}

impl Sut {
    /// A system reached over the network at `endpoints`.
    pub fn new(db: Arc<dyn Db>, endpoints: Vec<Endpoint>) -> Self {
        Sut {
            db,
            endpoints,
            local: None,
        }
    }

    /// The endpoint of `node`, or the first one when `node` has none of its own.
    pub fn endpoint_for(&self, node: &str) -> Endpoint {
        faultline_core::endpoint::endpoint_for(&self.endpoints, node)
    }
}

/// The options every recipe may read (the run's own, recipe-independent ones).
#[derive(Clone, Debug)]
pub struct SystemArgs {
    /// The `--db` value as typed (it may hold a password: never log it unmasked).
    pub db: String,
    /// `--nodes`: how many nodes a recipe that starts its own cluster starts.
    pub nodes: usize,
}

/// A kind of system: a name after `--db`, its options, and how to plan it.
pub trait Recipe: Send + Sync {
    /// What users type after `--db` (`local-galera`), or the URL scheme it accepts.
    fn name(&self) -> &'static str;
    /// One line for `faultline list systems`.
    fn about(&self) -> &'static str;
    /// Whether this recipe serves `--db db`. Default: the value is the recipe's name.
    fn accepts(&self, db: &str) -> bool {
        db == self.name()
    }
    /// Adds the recipe's own options to the command line. Every recipe's options are on
    /// every command (clap needs them before it knows `--db`), so they carry a prefix or
    /// say in their help which system they are for.
    fn augment(&self, cmd: clap::Command) -> clap::Command {
        cmd
    }
    /// Validates everything about the system before anything starts.
    fn plan(&self, args: &SystemArgs, matches: &clap::ArgMatches)
        -> Result<Box<dyn Plan>, BadArgs>;
}

/// A validated system, ready to start.
#[async_trait]
pub trait Plan: Send + Sync {
    /// Nodes of the system (for `--concurrency 2n`).
    fn nodes(&self) -> usize;
    /// The recipe's own options, for test.json (no passwords).
    fn options(&self) -> Value {
        Value::Null
    }
    /// Checks that what the system needs is installed; the error says what to install.
    fn preflight(&self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Starts (or checks) the system, able to serve the capabilities in `needs`.
    async fn start(&self, needs: &BTreeSet<Capability>) -> anyhow::Result<Sut>;
}
