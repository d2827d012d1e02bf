//! The schema model: the tables, columns, types and indexes created so far.
//!
//! The generator only uses what is here, so statements stay valid. The model changes only
//! through [`Schema::apply`], which the generator calls when the caller reports that a
//! statement succeeded; a failed DDL leaves the model as it was. A table whose state became
//! unknown (an unknown outcome under faults) is [`retire`](Schema::retire)d: it stays in the
//! database but is never generated against or compared again.

use crate::ast::{ColumnDef, IndexDef, Stmt};
use serde::{Deserialize, Serialize};

/// Column types the generator uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColType {
    Int,
    BigInt,
    Decimal,
    Double,
    /// VARCHAR(n)
    Varchar(u16),
    Text,
    Date,
    DateTime,
}

/// The broad kind of a value, for type-directed expression generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    Int,
    Num,
    Str,
    Date,
    Bool,
}

impl ColType {
    pub const ALL: [ColType; 8] = [
        ColType::Int,
        ColType::BigInt,
        ColType::Decimal,
        ColType::Double,
        ColType::Varchar(16),
        ColType::Text,
        ColType::Date,
        ColType::DateTime,
    ];

    /// The SQL spelling. Text columns use a binary collation, so that ORDER BY over every
    /// output column is a total order (no case or trailing-space ties).
    pub fn sql(self) -> String {
        match self {
            ColType::Int => "INT".into(),
            ColType::BigInt => "BIGINT".into(),
            ColType::Decimal => "DECIMAL(12,2)".into(),
            ColType::Double => "DOUBLE".into(),
            ColType::Varchar(n) => format!("VARCHAR({n}) COLLATE utf8mb4_bin"),
            ColType::Text => "TEXT COLLATE utf8mb4_bin".into(),
            ColType::Date => "DATE".into(),
            ColType::DateTime => "DATETIME".into(),
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            ColType::Int | ColType::BigInt => Kind::Int,
            ColType::Decimal | ColType::Double => Kind::Num,
            ColType::Varchar(_) | ColType::Text => Kind::Str,
            ColType::Date | ColType::DateTime => Kind::Date,
        }
    }

    /// TEXT can only be indexed through a prefix and cannot be in a primary key here.
    pub fn needs_prefix(self) -> bool {
        matches!(self, ColType::Text)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub primary_key: Vec<String>,
    pub indexes: Vec<IndexDef>,
    /// The next column number (names are never reused, even after a drop).
    pub next_column: u32,
    /// Unknown state: never used again.
    pub retired: bool,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Whether a column is part of the primary key or of an index.
    pub fn is_indexed(&self, name: &str) -> bool {
        self.primary_key.iter().any(|c| c == name)
            || self
                .indexes
                .iter()
                .any(|i| i.columns.iter().any(|(c, _)| c == name))
    }
}

/// Everything created so far, plus the name counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub tables: Vec<Table>,
    pub next_table: u32,
    pub next_index: u32,
}

impl Schema {
    /// Tables the generator may use.
    pub fn live(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(|t| !t.retired)
    }

    pub fn live_count(&self) -> usize {
        self.live().count()
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    fn table_mut(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.iter_mut().find(|t| t.name == name)
    }

    /// Marks a table as of unknown state: it is never generated against or compared again.
    pub fn retire(&mut self, name: &str) {
        if let Some(t) = self.table_mut(name) {
            t.retired = true;
        }
    }

    /// Records the effect of a statement that succeeded.
    pub fn apply(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::CreateTable(ct) if self.table(&ct.name).is_none() => {
                let next_column = ct.columns.len() as u32;
                self.tables.push(Table {
                    name: ct.name.clone(),
                    columns: ct.columns.clone(),
                    primary_key: ct.primary_key.clone(),
                    indexes: ct.indexes.clone(),
                    next_column,
                    retired: false,
                });
            }
            Stmt::CreateIndex { table, index } => {
                if let Some(t) = self.table_mut(table) {
                    t.indexes.push(index.clone());
                }
            }
            Stmt::AddColumn { table, column } => {
                if let Some(t) = self.table_mut(table) {
                    t.columns.push(column.clone());
                }
            }
            Stmt::DropColumn { table, column } => {
                if let Some(t) = self.table_mut(table) {
                    t.columns.retain(|c| &c.name != column);
                }
            }
            _ => {}
        }
    }

    /// Reserves the next table name.
    pub fn new_table_name(&mut self) -> String {
        self.next_table += 1;
        format!("t{}", self.next_table - 1)
    }

    pub fn new_index_name(&mut self) -> String {
        self.next_index += 1;
        format!("i{}", self.next_index - 1)
    }

    /// Reserves the next column name of `table`.
    pub fn new_column_name(&mut self, table: &str) -> String {
        match self.table_mut(table) {
            Some(t) => {
                t.next_column += 1;
                format!("c{}", t.next_column - 1)
            }
            None => "c0".into(),
        }
    }
}
