//! faultline-sqlsmith: random SQL for MySQL / MariaDB and the pure logic that judges it.
//!
//! What lives here: the [`schema`] model (tables and views, columns, types, indexes created so far), the
//! [`ast`] and its MySQL-dialect printer ([`print`]), the seeded statement generator
//! ([`gen::Smith`], configurable [`gen::Weights`], a stable mode without nondeterministic
//! functions), result comparison ([`compare`]: errors by number, affected rows, ordered lists
//! or multisets, the float rule), the metamorphic transformations TLP and NoREC
//! ([`metamorphic`]), the query-plan oracle ([`plan`]: the same query under another plan),
//! and the reducer ([`reduce`]) that writes sqllogictest files ([`slt`]),
//! with [`reduce_oracle`] shrinking the query of a TLP / NoREC finding, the [`signature`]
//! that groups findings into one per bug, the mutable walk over a query ([`visit`]), and
//! which constructs a statement uses ([`coverage`]).
//!
//! What does not: no I/O at all, no database driver, no tokio. Generation is deterministic
//! per seed given the same sequence of statement outcomes. Executing statements, the
//! differential run loop and the store live in faultline-workloads (`sqlsmith` module).

pub mod ast;
pub mod compare;
pub mod coverage;
pub mod gen;
pub mod metamorphic;
pub mod plan;
pub mod print;
pub mod reduce;
pub mod reduce_lit;
pub mod reduce_oracle;
pub mod schema;
pub mod signature;
pub mod slt;
pub mod visit;

pub use ast::{Expr, Select, Stmt};
pub use compare::{compare, Difference, Outcome};
pub use gen::{Config, Smith, Weights};
/// The generator's random number generator (re-exported for callers that derive streams).
pub use rand_chacha::ChaCha8Rng;
pub use schema::{ColType, Schema};
