//! faultline-workloads' integration tests, one binary (one link instead of sixteen), one
//! module per topic. Tests that start servers take a slot of
//! [`faultline_cluster::test_slots`] first, so at most two run at once on two cores.

mod common;
mod sqlsmith_common;

mod append_local;
mod bank_local_galera;
mod browser_check;
mod external_db;
mod register_local_galera;
mod rw_register_local;
mod sqlsmith_faults;
mod sqlsmith_metamorphic;
mod sqlsmith_no_false_alarms;
mod sqlsmith_plan_dependent;
mod sqlsmith_planted;
mod sqlsmith_reduce_oracle;
mod sqlsmith_signatures;
mod sqlsmith_switches;
mod sqlsmith_syntax;
mod sqlsmith_workers;
