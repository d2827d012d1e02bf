//! faultline-harness' integration tests: the interpreter, the run lifecycle and the fault
//! plumbing against the in-process atom system ([`faultline_harness::testkit`]), so no
//! server is needed and each run takes a second or two.

mod common;

mod control;
mod faults;
mod interpreter;
mod lifecycle;
