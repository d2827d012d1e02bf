//! faultline-sqlsmith's integration tests, one binary, one module per topic: generation
//! (statements, determinism, coverage) and the oracles and reducer. No server.

mod generate;
mod oracles;
mod signature;
