//! The systems this build can test, as recipes of the runner's registry: `local-galera` and
//! `local-mariadb` ([`local`]), `tidb-playground` ([`tidb`]), an existing MySQL-protocol
//! cluster `mysql://...` ([`external`]). Each adapts a system of faultline-cluster to the
//! runner's [`Recipe`](faultline_harness::Recipe) trait and brings its own options. These
//! are the only files that name a recipe.

pub mod external;
pub mod local;
pub mod tidb;

pub use external::ExternalMysql;
pub use local::LocalMariadb;
pub use tidb::TidbPlaygroundRecipe;
