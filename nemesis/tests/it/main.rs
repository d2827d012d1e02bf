//! faultline-nemesis' integration tests against real clusters the tests start, one binary,
//! one module per family of faults. Each test takes the machine
//! ([`faultline_cluster::test_slots::exclusive`]): fault timings are what they check.

mod common;

mod delay_fault;
mod disk_faults;
mod network_clock_faults;
mod process_faults;
