//! The MySQL / MariaDB dialect printer: `Display` for statements, queries and expressions.
//!
//! Every operator application is parenthesised, so printing never depends on precedence;
//! string literals use single quotes (valid whatever `ANSI_QUOTES` says) with `\` and `'`
//! escaped; identifiers are plain (`t0`, `c3`, `r1`) and never need quoting.

use crate::ast::*;
use std::fmt::{self, Display, Formatter, Write};

fn list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

/// A string literal, quoted and escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("NULL"),
            Literal::Int(i) if *i < 0 => write!(f, "({i})"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Num(n) if n.starts_with('-') => write!(f, "({n})"),
            Literal::Num(n) => f.write_str(n),
            Literal::Str(s) => f.write_str(&quote(s)),
            Literal::Date(d) => write!(f, "DATE {}", quote(d)),
            Literal::DateTime(d) => write!(f, "TIMESTAMP {}", quote(d)),
            Literal::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
        }
    }
}

impl BinOp {
    pub fn sql(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "=",
            BinOp::NullSafeEq => "<=>",
            BinOp::Ne => "<>",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
            BinOp::Xor => "XOR",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::ShiftLeft => "<<",
            BinOp::ShiftRight => ">>",
        }
    }
}

impl CastType {
    pub fn sql(self) -> &'static str {
        match self {
            CastType::Signed => "SIGNED",
            CastType::Unsigned => "UNSIGNED",
            CastType::Char => "CHAR",
            CastType::Decimal => "DECIMAL(12,2)",
            CastType::Double => "DOUBLE",
            CastType::Date => "DATE",
        }
    }
}

impl WinFunc {
    pub fn sql(self) -> &'static str {
        match self {
            WinFunc::Rank => "RANK",
            WinFunc::DenseRank => "DENSE_RANK",
            WinFunc::Count => "COUNT",
            WinFunc::Sum => "SUM",
            WinFunc::Min => "MIN",
            WinFunc::Max => "MAX",
        }
    }
}

impl SetOp {
    pub fn sql(self) -> &'static str {
        match self {
            SetOp::Union => "UNION",
            SetOp::UnionAll => "UNION ALL",
            SetOp::Intersect => "INTERSECT",
            SetOp::Except => "EXCEPT",
        }
    }
}

/// A derived query: its SELECTs joined by their set operations.
impl Display for Derived {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.body)?;
        for (op, s) in &self.set_ops {
            write!(f, " {} {s}", op.sql())?;
        }
        Ok(())
    }
}

impl AggFunc {
    pub fn sql(self) -> &'static str {
        match self {
            AggFunc::Count => "COUNT",
            AggFunc::Sum => "SUM",
            AggFunc::Min => "MIN",
            AggFunc::Max => "MAX",
            AggFunc::Avg => "AVG",
        }
    }
}

fn not(negated: bool) -> &'static str {
    if negated {
        "NOT "
    } else {
        ""
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Lit(l) => write!(f, "{l}"),
            Expr::Col {
                qual: Some(q),
                name,
            } => write!(f, "{q}.{name}"),
            Expr::Col { qual: None, name } => f.write_str(name),
            Expr::Unary { op: UnOp::Not, e } => write!(f, "(NOT {e})"),
            Expr::Unary { op: UnOp::Neg, e } => write!(f, "(- {e})"),
            Expr::Binary { op, l, r } => write!(f, "({l} {} {r})", op.sql()),
            Expr::IsNull { e, negated } => write!(f, "({e} IS {}NULL)", not(*negated)),
            Expr::IsTrue(e) => write!(f, "({e} IS TRUE)"),
            Expr::Between { e, lo, hi, negated } => {
                write!(f, "({e} {}BETWEEN {lo} AND {hi})", not(*negated))
            }
            Expr::Like {
                e,
                pattern,
                negated,
            } => write!(f, "({e} {}LIKE {})", not(*negated), quote(pattern)),
            Expr::InList {
                e,
                list: items,
                negated,
            } => {
                write!(f, "({e} {}IN (", not(*negated))?;
                list(f, items)?;
                f.write_str("))")
            }
            Expr::InSubquery { e, sub, negated } => write!(f, "({e} {}IN ({sub}))", not(*negated)),
            Expr::Exists { sub, negated } => write!(f, "({}EXISTS ({sub}))", not(*negated)),
            Expr::Subquery(sub) => write!(f, "({sub})"),
            Expr::Func { name, args } => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_char(')')
            }
            Expr::DateAdd { e, days } => write!(f, "DATE_ADD({e}, INTERVAL {days} DAY)"),
            Expr::Cast {
                e,
                to,
                convert: false,
            } => write!(f, "CAST({e} AS {})", to.sql()),
            Expr::Cast {
                e,
                to,
                convert: true,
            } => write!(f, "CONVERT({e}, {})", to.sql()),
            Expr::Collate { e, collation } => write!(f, "({e} COLLATE {collation})"),
            Expr::Agg {
                func,
                distinct,
                arg,
            } => match arg {
                None => write!(f, "{}(*)", func.sql()),
                Some(a) => write!(
                    f,
                    "{}({}{a})",
                    func.sql(),
                    if *distinct { "DISTINCT " } else { "" }
                ),
            },
            Expr::Window {
                func,
                arg,
                partition_by,
                order_by,
            } => {
                match arg {
                    Some(a) => write!(f, "{}({a})", func.sql())?,
                    None if *func == WinFunc::Count => f.write_str("COUNT(*)")?,
                    None => write!(f, "{}()", func.sql())?,
                }
                f.write_str(" OVER (")?;
                if !partition_by.is_empty() {
                    f.write_str("PARTITION BY ")?;
                    list(f, partition_by)?;
                }
                if !order_by.is_empty() {
                    if !partition_by.is_empty() {
                        f.write_char(' ')?;
                    }
                    f.write_str("ORDER BY ")?;
                    list(f, order_by)?;
                }
                f.write_char(')')
            }
            Expr::Case { whens, otherwise } => {
                f.write_str("(CASE")?;
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(o) = otherwise {
                    write!(f, " ELSE {o}")?;
                }
                f.write_str(" END)")
            }
        }
    }
}

impl Display for TableRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.derived.as_deref() {
            Some(d) if !d.cte => write!(f, "({d}) AS {}", self.alias)?,
            _ => write!(f, "{} AS {}", self.table, self.alias)?,
        }
        match self.hint.as_deref() {
            None => Ok(()),
            Some(IndexHint::NoIndex) => f.write_str(" USE INDEX ()"),
            Some(IndexHint::Force(i)) => write!(f, " FORCE INDEX ({i})"),
            Some(IndexHint::Ignore(i)) => write!(f, " IGNORE INDEX ({i})"),
        }
    }
}

impl Display for From {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for j in &self.joins {
            let kw = match j.kind {
                JoinKind::Inner => "JOIN",
                JoinKind::Left => "LEFT JOIN",
                JoinKind::Right => "RIGHT JOIN",
                JoinKind::Cross => "CROSS JOIN",
                JoinKind::Natural => "NATURAL JOIN",
                JoinKind::NaturalLeft => "NATURAL LEFT JOIN",
                JoinKind::Straight => "STRAIGHT_JOIN",
            };
            write!(f, " {kw} {}", j.table)?;
            if let Some(on) = &j.on {
                write!(f, " ON {on}")?;
            }
        }
        Ok(())
    }
}

impl Display for Select {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        // The CTEs this SELECT's own FROM clause reads come first, in FROM order.
        let ctes: Vec<&TableRef> = self
            .from
            .iter()
            .flat_map(From::tables)
            .filter(|t| t.derived.as_ref().is_some_and(|d| d.cte))
            .collect();
        for (i, t) in ctes.iter().enumerate() {
            let d = t.derived.as_deref().expect("a CTE");
            let sep = if i == 0 { "WITH" } else { "," };
            write!(f, "{sep} {} AS ({d}) ", t.table)?;
        }
        f.write_str("SELECT ")?;
        if self.distinct {
            f.write_str("DISTINCT ")?;
        }
        for (i, x) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{x}")?;
            if let Some(a) = self.aliases.get(i) {
                write!(f, " AS {a}")?;
            }
        }
        if let Some(from) = &self.from {
            write!(f, " FROM {from}")?;
        }
        if let Some(w) = &self.filter {
            write!(f, " WHERE {w}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            list(f, &self.group_by)?;
        }
        if let Some(h) = &self.having {
            write!(f, " HAVING {h}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            for (i, (p, desc)) in self.order_by.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{p}{}", if *desc { " DESC" } else { "" })?;
            }
        }
        if let Some(l) = self.limit {
            write!(f, " LIMIT {l}")?;
        }
        if self.for_update {
            f.write_str(" FOR UPDATE")?;
        }
        Ok(())
    }
}

fn column_def(f: &mut Formatter<'_>, c: &ColumnDef) -> fmt::Result {
    write!(f, "{} {}", c.name, c.ty.sql())?;
    if let Some(g) = &c.generated {
        // MariaDB takes no NULL / NOT NULL on a generated column.
        let how = if g.stored { "STORED" } else { "VIRTUAL" };
        return write!(f, " AS ({}) {how}", g.expr);
    }
    f.write_str(if c.nullable { " NULL" } else { " NOT NULL" })?;
    if let Some(d) = &c.default {
        write!(f, " DEFAULT {d}")?;
    }
    Ok(())
}

fn index_columns(f: &mut Formatter<'_>, cols: &[(String, Option<u16>)]) -> fmt::Result {
    f.write_char('(')?;
    for (i, (c, prefix)) in cols.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(c)?;
        if let Some(p) = prefix {
            write!(f, "({p})")?;
        }
    }
    f.write_char(')')
}

impl Display for Stmt {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stmt::CreateTable(ct) => {
                write!(f, "CREATE TABLE {} (", ct.name)?;
                for (i, c) in ct.columns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    column_def(f, c)?;
                }
                if !ct.primary_key.is_empty() {
                    write!(f, ", PRIMARY KEY ({})", ct.primary_key.join(", "))?;
                }
                for ix in &ct.indexes {
                    write!(
                        f,
                        ", {}INDEX {} ",
                        if ix.unique { "UNIQUE " } else { "" },
                        ix.name
                    )?;
                    index_columns(f, &ix.columns)?;
                }
                f.write_str(") ENGINE=InnoDB")
            }
            Stmt::CreateIndex { table, index } => {
                write!(
                    f,
                    "CREATE {}INDEX {} ON {table} ",
                    if index.unique { "UNIQUE " } else { "" },
                    index.name
                )?;
                index_columns(f, &index.columns)
            }
            Stmt::AddColumn { table, column } => {
                write!(f, "ALTER TABLE {table} ADD COLUMN ")?;
                column_def(f, column)
            }
            Stmt::DropColumn { table, column } => {
                write!(f, "ALTER TABLE {table} DROP COLUMN {column}")
            }
            Stmt::Insert {
                table,
                columns,
                rows,
            } => {
                write!(f, "INSERT INTO {table} ({}) VALUES ", columns.join(", "))?;
                for (i, r) in rows.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_char('(')?;
                    list(f, r)?;
                    f.write_char(')')?;
                }
                Ok(())
            }
            Stmt::Update {
                table,
                sets,
                filter,
            } => {
                write!(f, "UPDATE {table} SET ")?;
                for (i, (c, e)) in sets.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c} = {e}")?;
                }
                if let Some(w) = filter {
                    write!(f, " WHERE {w}")?;
                }
                Ok(())
            }
            Stmt::Delete { table, filter } => {
                write!(f, "DELETE FROM {table}")?;
                if let Some(w) = filter {
                    write!(f, " WHERE {w}")?;
                }
                Ok(())
            }
            Stmt::Select(s) => write!(f, "{s}"),
            Stmt::CreateView { name, query } => write!(f, "CREATE VIEW {name} AS {query}"),
            Stmt::Begin => f.write_str("BEGIN"),
            Stmt::Commit => f.write_str("COMMIT"),
            Stmt::Rollback => f.write_str("ROLLBACK"),
        }
    }
}
