//! DDL generation: CREATE TABLE (types, NULL / NOT NULL, primary keys, secondary indexes),
//! CREATE INDEX, ALTER TABLE ADD / DROP COLUMN. Names come from counters in the schema model
//! and are never reused, so a failed or unknown DDL cannot make a later name collide.

use super::Smith;
use crate::ast::{ColumnDef, CreateTable, IndexDef, Literal, Stmt};
use crate::schema::{ColType, Kind, Table};
use rand::seq::IndexedRandom;
use rand::Rng;

impl Smith {
    fn col_type(&mut self) -> ColType {
        match *ColType::ALL.choose(&mut self.rng).unwrap() {
            ColType::Varchar(_) => ColType::Varchar(*[8u16, 16, 32].choose(&mut self.rng).unwrap()),
            t => t,
        }
    }

    fn default_for(&mut self, ty: ColType) -> Literal {
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
                }
            })
            .collect();
        let mut primary_key = Vec::new();
        if self.chance(0.85) {
            let keyable: Vec<usize> = (0..columns.len())
                .filter(|i| !columns[*i].ty.needs_prefix())
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
        let droppable: Vec<&ColumnDef> = t
            .columns
            .iter()
            .filter(|c| !t.is_indexed(&c.name))
            .collect();
        if t.columns.len() > 1 && !droppable.is_empty() && self.chance(0.4) {
            let column = droppable.choose(&mut self.rng).unwrap().name.clone();
            return Stmt::DropColumn {
                table: t.name,
                column,
            };
        }
        let name = self.schema.new_column_name(&t.name);
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
