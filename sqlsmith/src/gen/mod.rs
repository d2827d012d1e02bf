//! The seeded statement generator ([`Smith`]) and its configuration.
//!
//! One [`ChaCha8Rng`] drives every choice, and the generator reads nothing but its own
//! schema model, so the same seed and the same sequence of reported outcomes
//! ([`Smith::record`]) give the same statements. Statement kinds are drawn by [`Weights`]
//! (TiPocket's pocket defaults), restricted to what makes sense right now: COMMIT and
//! ROLLBACK only inside a transaction, BEGIN only outside, CREATE TABLE while there is room,
//! a CREATE TABLE first when no table is live.
//!
//! Where the parts live: `ddl` (CREATE TABLE / INDEX / VIEW, ALTER TABLE, generated
//! columns), `query` (SELECT, FROM and joins, aggregates, INSERT / UPDATE / DELETE),
//! `derived` (derived tables, CTEs and view bodies: set operations, window functions),
//! `expr` (value expressions and the [`Scope`]), `literal` (literals, column values),
//! `predicate` (three-valued predicates), `subquery` (table references; scalar, IN and
//! EXISTS subqueries).

mod ddl;
mod derived;
mod expr;
mod literal;
mod predicate;
mod query;
mod subquery;

pub use expr::{Scope, ScopeCol};

use crate::ast::{Expr, From, Select, Stmt};
use crate::schema::Schema;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Relative weights of the statement kinds; TiPocket's pocket values by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    pub begin: u32,
    pub commit: u32,
    pub rollback: u32,
    pub create_table: u32,
    pub alter_table: u32,
    pub create_index: u32,
    pub select: u32,
    pub select_for_update: u32,
    pub delete: u32,
    pub update: u32,
    pub insert: u32,
    #[serde(default = "default_create_view")]
    pub create_view: u32,
}

fn default_create_view() -> u32 {
    2
}

fn yes() -> bool {
    true
}

fn default_max_views() -> usize {
    3
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            begin: 20,
            commit: 20,
            rollback: 10,
            create_table: 1,
            alter_table: 10,
            create_index: 10,
            select: 10,
            select_for_update: 30,
            delete: 10,
            update: 120,
            insert: 120,
            create_view: default_create_view(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub weights: Weights,
    /// Leave out nondeterministic functions (RAND, NOW, UUID, ...). On for differential and
    /// metamorphic testing: their results differ between servers and between runs.
    pub stable: bool,
    /// At most this many live tables.
    pub max_tables: usize,
    /// Secondary indexes per table at most.
    pub max_indexes: usize,
    /// Expression nesting depth.
    pub max_depth: u32,
    /// Subqueries (scalar, IN, EXISTS) in predicates and expressions.
    pub subqueries: bool,
    /// Derived tables and CTEs in FROM clauses.
    #[serde(default = "yes")]
    pub derived_tables: bool,
    /// At most this many live views.
    #[serde(default = "default_max_views")]
    pub max_views: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            weights: Weights::default(),
            stable: true,
            max_tables: 6,
            max_indexes: 5,
            max_depth: 3,
            subqueries: true,
            derived_tables: true,
            max_views: default_max_views(),
        }
    }
}

/// The generator: a seeded random stream, a schema model and the transaction state.
pub struct Smith {
    pub(crate) rng: ChaCha8Rng,
    pub(crate) schema: Schema,
    pub(crate) cfg: Config,
    in_txn: bool,
    /// Alias counter of the statement being generated (`r0`, `r1`, ...).
    pub(crate) next_alias: u32,
    /// How many derived queries enclose the one being generated (they do not nest).
    pub(crate) derived_depth: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Begin,
    Commit,
    Rollback,
    CreateTable,
    CreateView,
    Alter,
    CreateIndex,
    Select,
    SelectForUpdate,
    Delete,
    Update,
    Insert,
}

impl Smith {
    pub fn new(seed: u64, cfg: Config) -> Smith {
        Smith {
            rng: ChaCha8Rng::seed_from_u64(seed),
            schema: Schema::default(),
            cfg,
            in_txn: false,
            next_alias: 0,
            derived_depth: 0,
        }
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Whether the statements so far left a transaction open.
    pub fn in_txn(&self) -> bool {
        self.in_txn
    }

    /// Never use `table` again (its state is unknown).
    pub fn retire(&mut self, table: &str) {
        self.schema.retire(table);
    }

    /// Records the outcome of `stmt`: the schema changes only when it succeeded; DDL, COMMIT
    /// and ROLLBACK end a transaction whatever happened (DDL commits implicitly before it
    /// runs).
    pub fn record(&mut self, stmt: &Stmt, ok: bool) {
        if ok {
            self.schema.apply(stmt);
        }
        match stmt {
            Stmt::Begin => self.in_txn = ok || self.in_txn,
            Stmt::Commit | Stmt::Rollback => self.in_txn = false,
            s if s.is_ddl() => self.in_txn = false,
            _ => {}
        }
    }

    /// Forgets an open transaction (the connection was lost, the harness rolled back).
    pub fn txn_ended(&mut self) {
        self.in_txn = false;
    }

    fn pick_kind(&mut self) -> Kind {
        let w = &self.cfg.weights;
        let live = self.schema.live_count();
        if live == 0 {
            return Kind::CreateTable;
        }
        let mut options = vec![
            (Kind::Select, w.select),
            (Kind::SelectForUpdate, w.select_for_update),
            (Kind::Delete, w.delete),
            (Kind::Update, w.update),
            (Kind::Insert, w.insert),
            (Kind::Alter, w.alter_table),
            (Kind::CreateIndex, w.create_index),
        ];
        if live < self.cfg.max_tables {
            options.push((Kind::CreateTable, w.create_table));
        }
        if self.schema.live_views().count() < self.cfg.max_views {
            options.push((Kind::CreateView, w.create_view));
        }
        if self.in_txn {
            options.push((Kind::Commit, w.commit));
            options.push((Kind::Rollback, w.rollback));
        } else {
            options.push((Kind::Begin, w.begin));
        }
        let total: u32 = options.iter().map(|(_, w)| w).sum();
        if total == 0 {
            return Kind::Select;
        }
        let mut x = self.rng.random_range(0..total);
        for (k, w) in options {
            if x < w {
                return k;
            }
            x -= w;
        }
        Kind::Select
    }

    /// The next statement.
    pub fn next_stmt(&mut self) -> Stmt {
        self.next_alias = 0;
        match self.pick_kind() {
            Kind::Begin => Stmt::Begin,
            Kind::Commit => Stmt::Commit,
            Kind::Rollback => Stmt::Rollback,
            Kind::CreateTable => Stmt::CreateTable(self.create_table()),
            Kind::CreateView => self.create_view(),
            Kind::Alter => self.alter_table(),
            Kind::CreateIndex => self.create_index(),
            Kind::Select => Stmt::Select(self.top_select(false)),
            Kind::SelectForUpdate => Stmt::Select(self.top_select(true)),
            Kind::Delete => self.delete(),
            Kind::Update => self.update(),
            Kind::Insert => self.insert(),
        }
    }

    /// A plain query for the metamorphic oracles: no aggregate, no LIMIT, no ORDER BY.
    /// None when no table is live.
    pub fn oracle_query(&mut self) -> Option<(Select, Scope)> {
        if self.schema.live_count() == 0 {
            return None;
        }
        self.next_alias = 0;
        Some(self.plain_select())
    }

    /// A predicate over the columns of `scope`, for TLP and NoREC.
    pub fn predicate(&mut self, scope: &Scope) -> Expr {
        let depth = self.cfg.max_depth;
        self.bool_expr(scope, depth)
    }

    /// A FROM clause with one or two tables and its scope (None when no table is live).
    pub fn from_clause(&mut self) -> Option<(From, Scope)> {
        if self.schema.live_count() == 0 {
            return None;
        }
        Some(self.random_from())
    }

    pub(crate) fn alias(&mut self) -> String {
        self.next_alias += 1;
        format!("r{}", self.next_alias - 1)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }
}
