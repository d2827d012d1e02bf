//! Client endpoints: the type lives in faultline-core (the runner hands endpoints to
//! workloads without knowing any system); re-exported here for the recipes.

pub use faultline_core::endpoint::{mask_url_passwords, Endpoint};
