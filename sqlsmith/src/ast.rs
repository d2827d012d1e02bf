//! The statement and expression tree the generator builds and the printer prints.
//!
//! Deliberately small: exactly what the generator produces, no more. Every node is
//! serialisable so a failing case can be stored and read back.

use crate::schema::ColType;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    pub ty: ColType,
    pub nullable: bool,
    /// A DEFAULT literal (used when a NOT NULL column is added to a table with rows).
    pub default: Option<Literal>,
    /// A generated column: its value is this expression over the row's other columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
}

/// The columns that the generated columns among `columns` read (such a column cannot be
/// dropped).
pub fn read_by_generated(columns: &[ColumnDef]) -> Vec<String> {
    columns
        .iter()
        .filter_map(|c| c.generated.as_ref())
        .flat_map(|g| g.expr.column_names())
        .collect()
}

/// `AS (expr) VIRTUAL` (computed when read) or `AS (expr) STORED` (computed when written).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Generated {
    pub expr: Expr,
    pub stored: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub unique: bool,
    /// Column and optional prefix length (TEXT needs one).
    pub columns: Vec<(String, Option<u16>)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateTable {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    pub primary_key: Vec<String>,
    pub indexes: Vec<IndexDef>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Stmt {
    CreateTable(CreateTable),
    CreateIndex {
        table: String,
        index: IndexDef,
    },
    AddColumn {
        table: String,
        column: ColumnDef,
    },
    DropColumn {
        table: String,
        column: String,
    },
    Insert {
        table: String,
        columns: Vec<String>,
        rows: Vec<Vec<Expr>>,
    },
    Update {
        table: String,
        sets: Vec<(String, Expr)>,
        filter: Option<Expr>,
    },
    Delete {
        table: String,
        filter: Option<Expr>,
    },
    Select(Select),
    /// `CREATE VIEW name AS query`: the query's select items carry their aliases.
    CreateView {
        name: String,
        query: Box<Derived>,
    },
    Begin,
    Commit,
    Rollback,
}

impl Stmt {
    pub fn is_ddl(&self) -> bool {
        matches!(
            self,
            Stmt::CreateTable(_)
                | Stmt::CreateView { .. }
                | Stmt::CreateIndex { .. }
                | Stmt::AddColumn { .. }
                | Stmt::DropColumn { .. }
        )
    }

    /// Writes (DML or DDL): their effect matters when the outcome is unknown.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Stmt::Insert { .. } | Stmt::Update { .. } | Stmt::Delete { .. }
        ) || self.is_ddl()
    }

    /// The table a write or DDL changes.
    pub fn written_table(&self) -> Option<&str> {
        match self {
            Stmt::CreateTable(c) => Some(&c.name),
            Stmt::CreateView { name, .. } => Some(name),
            Stmt::CreateIndex { table, .. }
            | Stmt::AddColumn { table, .. }
            | Stmt::DropColumn { table, .. }
            | Stmt::Insert { table, .. }
            | Stmt::Update { table, .. }
            | Stmt::Delete { table, .. } => Some(table),
            _ => None,
        }
    }

    /// A short label for statistics and the history (`insert`, `select`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Stmt::CreateTable(_) => "create-table",
            Stmt::CreateView { .. } => "create-view",
            Stmt::CreateIndex { .. } => "create-index",
            Stmt::AddColumn { .. } => "add-column",
            Stmt::DropColumn { .. } => "drop-column",
            Stmt::Insert { .. } => "insert",
            Stmt::Update { .. } => "update",
            Stmt::Delete { .. } => "delete",
            Stmt::Select(s) if s.for_update => "select-for-update",
            Stmt::Select(_) => "select",
            Stmt::Begin => "begin",
            Stmt::Commit => "commit",
            Stmt::Rollback => "rollback",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRef {
    pub table: String,
    pub alias: String,
    /// An index hint after the alias (on base tables only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Box<IndexHint>>,
    /// A derived table or CTE read in place of a named table: printed `(query) AS alias`,
    /// or, for a CTE, `WITH table AS (query)` before its SELECT and `table AS alias` here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<Box<Derived>>,
}

impl TableRef {
    pub fn named(table: &str, alias: &str) -> TableRef {
        TableRef {
            table: table.to_string(),
            alias: alias.to_string(),
            hint: None,
            derived: None,
        }
    }

    /// Whether this reads a base table (index hints apply): not a derived table or CTE,
    /// and not a view (views are named `v`N by the schema model, tables `t`N).
    pub fn is_base_table(&self) -> bool {
        self.derived.is_none() && !self.table.starts_with('v')
    }
}

/// A query whose rows a FROM clause reads: a SELECT, or SELECTs combined by set
/// operations (left to right, as SQL combines them). The first SELECT's items carry the
/// column aliases the outer query reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    pub body: Select,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_ops: Vec<(SetOp, Select)>,
    /// Printed as a CTE (`WITH name AS (...)`) rather than inline.
    #[serde(default)]
    pub cte: bool,
    /// The output columns (the body's aliases) and the type the generator gave each.
    pub columns: Vec<(String, ColType)>,
}

impl Derived {
    /// Every SELECT of the query, body first.
    pub fn selects(&self) -> impl Iterator<Item = &Select> {
        std::iter::once(&self.body).chain(self.set_ops.iter().map(|(_, s)| s))
    }

    pub fn selects_mut(&mut self) -> impl Iterator<Item = &mut Select> {
        std::iter::once(&mut self.body).chain(self.set_ops.iter_mut().map(|(_, s)| s))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetOp {
    Union,
    UnionAll,
    Intersect,
    Except,
}
/// How a table is read, as MariaDB's index hints say it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexHint {
    /// `USE INDEX ()`: no index at all, a full scan.
    NoIndex,
    /// `FORCE INDEX (name)`: this index wherever it can be used.
    Force(String),
    /// `IGNORE INDEX (name)`: every plan but those through this index.
    Ignore(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Cross,
    /// `NATURAL JOIN`: on every column name both sides have, no ON.
    Natural,
    /// `NATURAL LEFT JOIN`.
    NaturalLeft,
    /// `STRAIGHT_JOIN ... ON`: an inner join read left table first.
    Straight,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Join {
    pub kind: JoinKind,
    pub table: TableRef,
    pub on: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct From {
    pub first: TableRef,
    pub joins: Vec<Join>,
}

impl From {
    /// Every table reference, the first one first.
    pub fn tables(&self) -> impl Iterator<Item = &TableRef> {
        std::iter::once(&self.first).chain(self.joins.iter().map(|j| &j.table))
    }

    pub fn tables_mut(&mut self) -> impl Iterator<Item = &mut TableRef> {
        std::iter::once(&mut self.first).chain(self.joins.iter_mut().map(|j| &mut j.table))
    }

    /// The `i`-th table reference (0: the first).
    pub fn table_mut(&mut self, i: usize) -> Option<&mut TableRef> {
        self.tables_mut().nth(i)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Select {
    pub distinct: bool,
    pub items: Vec<Expr>,
    /// Output column names (`item AS name`), one per item, or none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub from: Option<From>,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    /// Output positions (1-based) and DESC.
    pub order_by: Vec<(usize, bool)>,
    pub limit: Option<u64>,
    pub for_update: bool,
}

impl Select {
    /// `SELECT FROM from` with nothing else yet (no items, no clauses).
    pub fn over(from: From) -> Select {
        Select {
            distinct: false,
            items: vec![],
            aliases: vec![],
            from: Some(from),
            filter: None,
            group_by: vec![],
            having: None,
            order_by: vec![],
            limit: None,
            for_update: false,
        }
    }

    /// ORDER BY names every output column: with binary collations the output list is then
    /// fully determined (tied rows are identical), so results compare as ordered lists.
    pub fn order_is_total(&self) -> bool {
        !self.items.is_empty()
            && (1..=self.items.len()).all(|p| self.order_by.iter().any(|(q, _)| *q == p))
    }

    /// Whether any select item is an aggregate (outside subqueries).
    pub fn has_aggregate(&self) -> bool {
        self.items.iter().any(Expr::has_aggregate)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    Null,
    Int(i64),
    /// A decimal or float literal, already spelled (`12.50`, `1.5e3`).
    Num(String),
    Str(String),
    Date(String),
    DateTime(String),
    Bool(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NullSafeEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Xor,
    /// Bitwise `&`, `|`, `^`, `<<`, `>>` (on BIGINT UNSIGNED, as MariaDB computes them).
    BitAnd,
    BitOr,
    BitXor,
    ShiftLeft,
    ShiftRight,
}

/// The target of `CAST(e AS ...)` / `CONVERT(e, ...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CastType {
    Signed,
    Unsigned,
    Char,
    Decimal,
    Double,
    Date,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggFunc {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

/// Window functions whose result is a function of the data: RANK and DENSE_RANK give
/// tied rows the same number, and aggregates over the default frame (RANGE ... CURRENT
/// ROW) include every peer. ROW_NUMBER, LAG / LEAD and FIRST_VALUE are left out: under
/// ties they may legally differ between two plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WinFunc {
    Rank,
    DenseRank,
    Count,
    Sum,
    Min,
    Max,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Lit(Literal),
    Col {
        qual: Option<String>,
        name: String,
    },
    Unary {
        op: UnOp,
        e: Box<Expr>,
    },
    Binary {
        op: BinOp,
        l: Box<Expr>,
        r: Box<Expr>,
    },
    IsNull {
        e: Box<Expr>,
        negated: bool,
    },
    /// `e IS TRUE`
    IsTrue(Box<Expr>),
    Between {
        e: Box<Expr>,
        lo: Box<Expr>,
        hi: Box<Expr>,
        negated: bool,
    },
    Like {
        e: Box<Expr>,
        pattern: String,
        negated: bool,
    },
    InList {
        e: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    InSubquery {
        e: Box<Expr>,
        sub: Box<Select>,
        negated: bool,
    },
    Exists {
        sub: Box<Select>,
        negated: bool,
    },
    Subquery(Box<Select>),
    Func {
        name: String,
        args: Vec<Expr>,
    },
    /// `DATE_ADD(e, INTERVAL n DAY)`
    DateAdd {
        e: Box<Expr>,
        days: i64,
    },
    /// `CAST(e AS to)`, or `CONVERT(e, to)` when `convert`.
    Cast {
        e: Box<Expr>,
        to: CastType,
        convert: bool,
    },
    /// `(e COLLATE collation)`: an explicit collation on a string.
    Collate {
        e: Box<Expr>,
        collation: String,
    },
    /// `arg` None is COUNT(*).
    Agg {
        func: AggFunc,
        distinct: bool,
        arg: Option<Box<Expr>>,
    },
    Case {
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// `func(arg) OVER (PARTITION BY .. ORDER BY ..)`; only in derived tables and views.
    Window {
        func: WinFunc,
        arg: Option<Box<Expr>>,
        partition_by: Vec<Expr>,
        order_by: Vec<Expr>,
    },
}

impl Expr {
    pub fn col(qual: &str, name: &str) -> Expr {
        Expr::Col {
            qual: Some(qual.to_string()),
            name: name.to_string(),
        }
    }

    /// The names of the columns this expression reads (not inside subqueries).
    pub fn column_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit_shallow(&mut |e| {
            if let Expr::Col { name, .. } = e {
                out.push(name.clone());
            }
        });
        out
    }

    pub fn has_aggregate(&self) -> bool {
        let mut found = false;
        self.visit_shallow(&mut |e| found |= matches!(e, Expr::Agg { .. }));
        found
    }

    /// Calls `f` on this node and every descendant, not entering subqueries.
    pub fn visit_shallow(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        for c in self.children() {
            c.visit_shallow(f);
        }
    }

    /// The direct sub-expressions (not those inside subqueries).
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Lit(_) | Expr::Col { .. } | Expr::Exists { .. } | Expr::Subquery(_) => vec![],
            Expr::Unary { e, .. }
            | Expr::IsNull { e, .. }
            | Expr::IsTrue(e)
            | Expr::Like { e, .. } => vec![e],
            Expr::InSubquery { e, .. } | Expr::DateAdd { e, .. } => vec![e],
            Expr::Cast { e, .. } | Expr::Collate { e, .. } => vec![e],
            Expr::Binary { l, r, .. } => vec![l, r],
            Expr::Between { e, lo, hi, .. } => vec![e, lo, hi],
            Expr::InList { e, list, .. } => std::iter::once(&**e).chain(list.iter()).collect(),
            Expr::Func { args, .. } => args.iter().collect(),
            Expr::Agg { arg, .. } => arg.iter().map(|a| &**a).collect(),
            Expr::Window {
                arg,
                partition_by,
                order_by,
                ..
            } => arg
                .iter()
                .map(|a| &**a)
                .chain(partition_by.iter())
                .chain(order_by.iter())
                .collect(),
            Expr::Case { whens, otherwise } => whens
                .iter()
                .flat_map(|(w, t)| [w, t])
                .chain(otherwise.iter().map(|o| &**o))
                .collect(),
        }
    }
}
