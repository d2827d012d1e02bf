//! The schema model: the tables, columns, types and indexes created so far.
//!
//! The generator only uses what is here, so statements stay valid. The model changes only
//! through [`Schema::apply`], which the generator calls when the caller reports that a
//! statement succeeded; a failed DDL leaves the model as it was. A table whose state became
//! unknown (an unknown outcome under faults) is [`retire`](Schema::retire)d: it stays in the
//! database but is never generated against or compared again.

use crate::ast::{ColumnDef, Derived, IndexDef, Stmt, TableRef};
use crate::visit::{select_mut, VisitMut};
use serde::{Deserialize, Serialize};

/// Column types the generator uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColType {
    TinyInt,
    SmallInt,
    MediumInt,
    Int,
    BigInt,
    IntUnsigned,
    BigIntUnsigned,
    Decimal,
    Float,
    Double,
    /// CHAR(n)
    Char(u16),
    /// VARCHAR(n)
    Varchar(u16),
    Text,
    Blob,
    Date,
    DateTime,
    Timestamp,
    Time,
    Year,
    /// ENUM of [`ENUM_MEMBERS`]
    Enum,
    /// SET of [`ENUM_MEMBERS`]
    Set,
    Json,
}

/// The members of every ENUM and SET column: a non-ASCII one, and two that differ in case
/// only (the column is utf8mb4_bin, so they are distinct members).
pub const ENUM_MEMBERS: &[&str] = &["a", "b", "ab", "B", "ü"];

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
    pub const ALL: [ColType; 22] = [
        ColType::TinyInt,
        ColType::SmallInt,
        ColType::MediumInt,
        ColType::Int,
        ColType::BigInt,
        ColType::IntUnsigned,
        ColType::BigIntUnsigned,
        ColType::Decimal,
        ColType::Float,
        ColType::Double,
        ColType::Char(4),
        ColType::Varchar(16),
        ColType::Text,
        ColType::Blob,
        ColType::Date,
        ColType::DateTime,
        ColType::Timestamp,
        ColType::Time,
        ColType::Year,
        ColType::Enum,
        ColType::Set,
        ColType::Json,
    ];

    /// The SQL spelling. Text columns use a binary collation, so that ORDER BY over every
    /// output column is a total order (no case or trailing-space ties). TIMESTAMP is
    /// always spelled with its NULL-ness by the column, so no server default
    /// (CURRENT_TIMESTAMP) is ever implied.
    pub fn sql(self) -> String {
        let members = || {
            ENUM_MEMBERS
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            ColType::TinyInt => "TINYINT".into(),
            ColType::SmallInt => "SMALLINT".into(),
            ColType::MediumInt => "MEDIUMINT".into(),
            ColType::Int => "INT".into(),
            ColType::BigInt => "BIGINT".into(),
            ColType::IntUnsigned => "INT UNSIGNED".into(),
            ColType::BigIntUnsigned => "BIGINT UNSIGNED".into(),
            ColType::Decimal => "DECIMAL(12,2)".into(),
            ColType::Float => "FLOAT".into(),
            ColType::Double => "DOUBLE".into(),
            ColType::Char(n) => format!("CHAR({n}) COLLATE utf8mb4_bin"),
            ColType::Varchar(n) => format!("VARCHAR({n}) COLLATE utf8mb4_bin"),
            ColType::Text => "TEXT COLLATE utf8mb4_bin".into(),
            ColType::Blob => "BLOB".into(),
            ColType::Date => "DATE".into(),
            ColType::DateTime => "DATETIME".into(),
            ColType::Timestamp => "TIMESTAMP".into(),
            ColType::Time => "TIME".into(),
            ColType::Year => "YEAR".into(),
            ColType::Enum => format!("ENUM({}) COLLATE utf8mb4_bin", members()),
            ColType::Set => format!("SET({}) COLLATE utf8mb4_bin", members()),
            ColType::Json => "JSON".into(),
        }
    }

    /// The kind expressions treat a value of this type as. TIME, ENUM, SET and JSON are
    /// strings to the generator (compared and concatenated as such: comparisons across
    /// types are wanted); YEAR is an integer.
    pub fn kind(self) -> Kind {
        match self {
            ColType::TinyInt
            | ColType::SmallInt
            | ColType::MediumInt
            | ColType::Int
            | ColType::BigInt
            | ColType::IntUnsigned
            | ColType::BigIntUnsigned
            | ColType::Year => Kind::Int,
            ColType::Decimal | ColType::Float | ColType::Double => Kind::Num,
            ColType::Char(_)
            | ColType::Varchar(_)
            | ColType::Text
            | ColType::Blob
            | ColType::Time
            | ColType::Enum
            | ColType::Set
            | ColType::Json => Kind::Str,
            ColType::Date | ColType::DateTime | ColType::Timestamp => Kind::Date,
        }
    }

    /// TEXT, BLOB and JSON can only be indexed through a prefix and are never in a
    /// primary key here.
    pub fn needs_prefix(self) -> bool {
        matches!(self, ColType::Text | ColType::Blob | ColType::Json)
    }

    /// The column type of a value of `kind` (a derived table's or a generated column's).
    pub fn of_kind(kind: Kind) -> ColType {
        match kind {
            Kind::Int | Kind::Bool => ColType::BigInt,
            Kind::Num => ColType::Double,
            Kind::Str => ColType::Text,
            Kind::Date => ColType::DateTime,
        }
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
    /// A view (`v`N): read like a table, never written, altered or indexed.
    #[serde(default)]
    pub view: bool,
    /// The tables a view reads; it is live only while all of them are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns a write may set: all but the generated ones.
    pub fn writable(&self) -> impl Iterator<Item = &ColumnDef> {
        self.columns.iter().filter(|c| c.generated.is_none())
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
    #[serde(default)]
    pub next_view: u32,
}

/// A view's columns: its query's output columns, all nullable.
fn view_columns(query: &Derived) -> Vec<ColumnDef> {
    query
        .columns
        .iter()
        .map(|(name, ty)| ColumnDef {
            name: name.clone(),
            ty: *ty,
            nullable: true,
            default: None,
            generated: None,
        })
        .collect()
}

/// The named tables a query reads, derived tables and subqueries included.
pub fn read_tables(query: &Derived) -> Vec<String> {
    struct Names(Vec<String>);
    impl VisitMut for Names {
        fn table(&mut self, t: &mut TableRef) {
            if t.derived.is_none() && !self.0.contains(&t.table) {
                self.0.push(t.table.clone());
            }
        }
    }
    let mut v = Names(vec![]);
    let mut q = query.clone();
    for s in q.selects_mut() {
        select_mut(s, &mut v);
    }
    v.0
}

impl Schema {
    /// Base tables the generator may read and write.
    pub fn live(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(|t| !t.retired && !t.view)
    }

    pub fn live_count(&self) -> usize {
        self.live().count()
    }

    /// Live views: not retired, and every table or view they read live.
    pub fn live_views(&self) -> impl Iterator<Item = &Table> {
        self.tables
            .iter()
            .filter(|t| t.view && self.is_readable(&t.name, 4))
    }

    fn is_readable(&self, name: &str, depth: u32) -> bool {
        match self.table(name) {
            Some(t) if !t.retired && !t.view => true,
            Some(t) if !t.retired && depth > 0 => {
                t.reads.iter().all(|r| self.is_readable(r, depth - 1))
            }
            _ => false,
        }
    }

    /// Everything a query may read: live tables and live views.
    pub fn readable(&self) -> impl Iterator<Item = &Table> {
        self.live().chain(self.live_views())
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
                    view: false,
                    reads: vec![],
                });
            }
            Stmt::CreateView { name, query } if self.table(name).is_none() => {
                let columns = view_columns(query);
                self.tables.push(Table {
                    name: name.clone(),
                    next_column: columns.len() as u32,
                    columns,
                    primary_key: vec![],
                    indexes: vec![],
                    retired: false,
                    view: true,
                    reads: read_tables(query),
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

    /// Reserves the next view name (`v`N: [`TableRef::is_base_table`] relies on it).
    ///
    /// [`TableRef::is_base_table`]: crate::ast::TableRef::is_base_table
    pub fn new_view_name(&mut self) -> String {
        self.next_view += 1;
        format!("v{}", self.next_view - 1)
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
