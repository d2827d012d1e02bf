//! faultline's nightly jobs: a suite is a TOML file of cases, each a workload of the registry
//! with its own command-line arguments (so every option a test binary takes works in a case);
//! [`run_suite`] runs them in process through the runner's plan / run functions, stores each
//! run as usual and writes one summary (suite.json + junit.xml) whose verdict is the worst;
//! [`index::write_index`] lists every stored run in store/index.html.
//!
//! What does not live here: how a run goes (the runner), any system or workload (the
//! registry the caller hands in).

pub mod index;
pub mod junit;
pub mod notify;
pub mod run;
pub mod serve;
pub mod suite;

pub use run::{run_suite, CaseRun, SuiteOptions, SuiteOutcome};
pub use suite::{Case, Suite, SuiteError};
