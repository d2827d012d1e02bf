//! SQL plumbing shared by the MySQL-protocol workloads.

pub mod conn;
pub mod errors;
pub mod isolation;
pub mod keys;

pub use conn::SqlConn;
pub use errors::{classify, Stage};
pub use isolation::{Isolation, ReadLock};
pub use keys::KeyPool;
