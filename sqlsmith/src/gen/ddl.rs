//! DDL generation: CREATE TABLE (types, NULL / NOT NULL, generated columns, primary keys,
//! secondary indexes: unique, composite, prefix), CREATE INDEX, ALTER TABLE ADD / DROP
//! COLUMN, CREATE VIEW. Names come from counters in the schema model
//! and are never reused, so a failed or unknown DDL cannot make a later name collide.

use super::expr::{Scope, ScopeCol};
use super::Smith;
use crate::ast::{read_by_generated, ColumnDef, CreateTable, Generated, IndexDef, Literal, Stmt};
use crate::schema::{ColType, Kind, Table};
use rand::seq::IndexedRandom;
use rand::Rng;

/// ALTER TABLE ADD COLUMN stops adding at this many columns.
const MAX_COLUMNS: usize = 12;

impl Smith {
    fn col_type(&mut self) -> ColType {
        match *ColType::ALL.choose(&mut self.rng).unwrap() {
            ColType::Varchar(_) => ColType::Varchar(*[8u16, 16, 32].choose(&mut self.rng).unwrap()),
            ColType::Char(_) => ColType::Char(*[1u16, 4, 10].choose(&mut self.rng).unwrap()),
            t => t,
        }
    }

    /// A generated column over the plain (not generated) columns of `cols`: an expression
    /// of a random kind, no subquery, stored or virtual. Its type is the kind's widest.
    ///
    /// A VIRTUAL column's value is computed on a write only where the server needs it (an
    /// index on it, or Galera's row events), so one whose expression can fail (an integer
    /// overflow, a BLOB cut mid-character into TEXT) fails an INSERT on one server and not
    /// on another with the same version: virtual columns are string expressions over the
    /// text columns (which cannot fail), stored ones anything (always computed).
    fn generated_column(&mut self, name: String, cols: &[ColumnDef]) -> Option<ColumnDef> {
        let stored = self.chance(0.4);
        let scope: Scope = cols
            .iter()
            .filter(|c| c.generated.is_none())
            .filter(|c| stored || (c.ty.kind() == Kind::Str && c.ty != ColType::Blob))
            .map(|c| ScopeCol {
                qual: None,
                name: c.name.clone(),
                ty: c.ty,
                nullable: c.nullable,
            })
            .collect();
        if scope.is_empty() {
            return None;
        }
        let kind = if stored {
            scope.choose(&mut self.rng).unwrap().ty.kind()
        } else {
            Kind::Str
        };
        let subqueries = std::mem::replace(&mut self.cfg.subqueries, false);
        let expr = self.expr(&scope, kind, 2);
        self.cfg.subqueries = subqueries;
        Some(ColumnDef {
            name,
            ty: ColType::of_kind(kind),
            nullable: true,
            default: None,
            generated: Some(Generated { expr, stored }),
        })
    }

    /// `CREATE VIEW vN AS query`: a derived query over the live tables and views.
    pub(crate) fn create_view(&mut self) -> Stmt {
        let name = self.schema.new_view_name();
        let query = self.derived_query();
        Stmt::CreateView {
            name,
            query: Box::new(query),
        }
    }

    fn default_for(&mut self, ty: ColType) -> Literal {
        if let Some(l) = self.typed_value(ty) {
            return l;
        }
        match ty.kind() {
            Kind::Date => Literal::Str("2020-01-01".into()),
            Kind::Str => Literal::Str("d".into()),
            k => self.literal(k),
        }
    }

    /// Index columns chosen from `cols` (TEXT gets a prefix).
    fn index_columns(&mut self, cols: &[ColumnDef]) -> Vec<(String, Option<u16>)> {
        let n = self.rng.random_range(1..3).min(cols.len());
        cols.choose_multiple(&mut self.rng, n)
            .map(|c| (c.name.clone(), c.ty.needs_prefix().then_some(8)))
            .collect()
    }

    pub(crate) fn create_table(&mut self) -> CreateTable {
        let name = self.schema.new_table_name();
        let n = self.rng.random_range(1..7);
        let mut columns: Vec<ColumnDef> = (0..n)
            .map(|i| {
                let ty = self.col_type();
                ColumnDef {
                    name: format!("c{i}"),
                    ty,
                    nullable: self.chance(0.6),
                    default: None,
                    generated: None,
                }
            })
            .collect();
        if self.chance(0.25) {
            let name = format!("c{}", columns.len());
            if let Some(g) = self.generated_column(name, &columns) {
                columns.push(g);
            }
        }
        let mut primary_key = Vec::new();
        if self.chance(0.85) {
            let keyable: Vec<usize> = (0..columns.len())
                // ENUM and SET have five members: as a key, nearly every INSERT would be
                // a duplicate.
                .filter(|i| {
                    let c = &columns[*i];
                    !c.ty.needs_prefix()
                        && c.generated.is_none()
                        && !matches!(c.ty, ColType::Enum | ColType::Set)
                })
                .collect();
            let k = self.rng.random_range(1..3).min(keyable.len());
            for &i in keyable.choose_multiple(&mut self.rng, k) {
                // Primary key columns are NOT NULL (MariaDB makes them so anyway).
                columns[i].nullable = false;
                primary_key.push(columns[i].name.clone());
            }
        }
        let mut indexes = Vec::new();
        for _ in 0..self.rng.random_range(0..3) {
            let cols = self.index_columns(&columns);
            let name = self.schema.new_index_name();
            indexes.push(IndexDef {
                name,
                unique: self.chance(0.2),
                columns: cols,
            });
        }
        CreateTable {
            name,
            columns,
            primary_key,
            indexes,
        }
    }

    fn live_table_def(&mut self) -> Table {
        let live: Vec<&Table> = self.schema.live().collect();
        (*live.choose(&mut self.rng).expect("a live table")).clone()
    }

    pub(crate) fn alter_table(&mut self) -> Stmt {
        let t = self.live_table_def();
        // A column a generated column reads cannot be dropped.
        let read_by_generated = read_by_generated(&t.columns);
        let droppable: Vec<&ColumnDef> = t
            .columns
            .iter()
            .filter(|c| !t.is_indexed(&c.name) && !read_by_generated.contains(&c.name))
            .collect();
        // Nor a column of a table a view reads (the view would stop working: 1356).
        let read_by_view = self
            .schema
            .tables
            .iter()
            .any(|v| v.view && v.reads.contains(&t.name));
        if t.columns.len() > 1 && !droppable.is_empty() && !read_by_view && self.chance(0.4) {
            let column = droppable.choose(&mut self.rng).unwrap().name.clone();
            return Stmt::DropColumn {
                table: t.name,
                column,
            };
        }
        // Tables stay narrow (a reproducer's CREATE TABLE should read at a glance).
        if t.columns.len() >= MAX_COLUMNS {
            return self.insert();
        }
        let name = self.schema.new_column_name(&t.name);
        if self.chance(0.2) {
            if let Some(column) = self.generated_column(name.clone(), &t.columns) {
                return Stmt::AddColumn {
                    table: t.name,
                    column,
                };
            }
        }
        let ty = self.col_type();
        let nullable = self.chance(0.7);
        let default = (!nullable).then(|| self.default_for(ty));
        Stmt::AddColumn {
            table: t.name,
            column: ColumnDef {
                name,
                ty,
                nullable,
                default,
                generated: None,
            },
        }
    }

    pub(crate) fn create_index(&mut self) -> Stmt {
        let t = self.live_table_def();
        if t.indexes.len() >= self.cfg.max_indexes {
            return self.insert();
        }
        let columns = self.index_columns(&t.columns);
        let name = self.schema.new_index_name();
        Stmt::CreateIndex {
            table: t.name,
            index: IndexDef {
                name,
                unique: self.chance(0.2),
                columns,
            },
        }
    }
}
