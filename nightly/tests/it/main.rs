//! faultline-nightly's integration tests, on the testkit's in-process atom system.

mod serve;
mod suite;
