//! Which SQL constructs a statement uses, for the per-run coverage report: the constructs
//! the hunt is meant to reach (derived tables, CTEs, views, set operations, window
//! functions, casts, operator and function families, collations, column types, generated
//! columns, index shapes, join kinds, NULL, subqueries), each found in the printed
//! statement with its string literals masked, so that data never counts as syntax.
//!
//! [`CONSTRUCTS`] is the whole list, in report order: a run reports every one, zeros
//! included, so what the generator never emits is plain to see.

/// Every construct the report counts, in its order.
pub const CONSTRUCTS: &[&str] = &[
    "select",
    "insert",
    "update",
    "delete",
    "create-table",
    "create-index",
    "transaction",
    "derived-table",
    "cte",
    "view",
    "union",
    "intersect",
    "except",
    "window-function",
    "cast",
    "convert",
    "arithmetic",
    "bitwise",
    "string-function",
    "date-function",
    "aggregate",
    "case",
    "collate",
    "collation:utf8mb4_bin",
    "collation:utf8mb4_general_ci",
    "collation:utf8mb4_unicode_ci",
    "collation:utf8mb4_unicode_520_ci",
    "collation:utf8mb4_german2_ci",
    "non-ascii-data",
    "type:tinyint",
    "type:smallint",
    "type:mediumint",
    "type:int",
    "type:bigint",
    "type:unsigned",
    "type:float",
    "type:double",
    "type:decimal",
    "type:char",
    "type:varchar",
    "type:text",
    "type:blob",
    "type:date",
    "type:datetime",
    "type:timestamp",
    "type:time",
    "type:year",
    "type:enum",
    "type:set",
    "type:json",
    "generated-column:virtual",
    "generated-column:stored",
    "index:unique",
    "index:composite",
    "index:prefix",
    "index-hint",
    "join:inner",
    "join:left",
    "join:right",
    "join:natural",
    "join:cross",
    "join:straight",
    "subquery",
    "exists",
    "in-list",
    "between",
    "like",
    "null",
    "order-by",
    "group-by",
    "having",
    "limit",
    "distinct",
];

/// The statement with every quoted literal's contents replaced by `x` (quotes kept), and
/// whether a literal held a non-ASCII character.
fn masked(sql: &str) -> (String, bool) {
    let mut out = String::with_capacity(sql.len());
    let mut non_ascii = false;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars();
    while let Some(c) = chars.next() {
        match quote {
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
            Some(q) => {
                if c == '\\' {
                    chars.next();
                    out.push('x');
                } else if c == q {
                    quote = None;
                    out.push(c);
                } else {
                    non_ascii |= !c.is_ascii();
                    out.push('x');
                }
            }
        }
    }
    (out, non_ascii)
}

fn any(s: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| s.contains(n))
}

/// A column type in a CREATE / ALTER TABLE: ` NAME` followed by `(`, a space, `,` or `)`.
fn has_type(s: &str, name: &str) -> bool {
    s.match_indices(name).any(|(i, _)| {
        let before = s[..i].chars().next_back();
        let after = s[i + name.len()..].chars().next();
        before == Some(' ') && matches!(after, Some('(' | ' ' | ',' | ')') | None)
    })
}

/// Whether a query reads a view: the schema model names views `V`N (` V3 AS R1`).
fn reads_view(s: &str) -> bool {
    s.match_indices(" V").any(|(i, _)| {
        let rest = &s[i + 2..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with(" AS ")
    })
}

/// The constructs `sql` uses, each once, in [`CONSTRUCTS`] order.
pub fn constructs(sql: &str) -> Vec<&'static str> {
    let (m, non_ascii) = masked(sql);
    let s = m.to_ascii_uppercase();
    let t = s.trim_start();
    let ddl = t.starts_with("CREATE TABLE") || t.starts_with("ALTER TABLE");
    let mut out = Vec::new();
    let mut add = |name: &'static str, yes: bool| {
        if yes {
            out.push(name);
        }
    };
    add(
        "select",
        t.starts_with("SELECT") || t.starts_with("WITH") || t.starts_with("("),
    );
    add(
        "insert",
        t.starts_with("INSERT") || t.starts_with("REPLACE"),
    );
    add("update", t.starts_with("UPDATE"));
    add("delete", t.starts_with("DELETE"));
    add("create-table", t.starts_with("CREATE TABLE"));
    add(
        "create-index",
        t.starts_with("CREATE INDEX") || t.starts_with("CREATE UNIQUE INDEX"),
    );
    add(
        "transaction",
        matches!(t.trim_end(), "BEGIN" | "COMMIT" | "ROLLBACK")
            || t.starts_with("START TRANSACTION"),
    );
    add(
        "derived-table",
        any(&s, &["FROM (SELECT", "JOIN (SELECT", "FROM ((SELECT"]),
    );
    add(
        "cte",
        t.starts_with("WITH ") || s.contains(" WITH RECURSIVE "),
    );
    add("view", s.contains(" VIEW ") || reads_view(&s));
    add("union", s.contains(" UNION "));
    add("intersect", s.contains(" INTERSECT "));
    add("except", s.contains(" EXCEPT "));
    add("window-function", s.contains(" OVER ("));
    add("cast", s.contains("CAST("));
    add("convert", s.contains("CONVERT("));
    add(
        "arithmetic",
        any(&s, &[" + ", " - ", " * ", " / ", " DIV ", " MOD ", " % "]),
    );
    add(
        "bitwise",
        any(&s, &[" & ", " | ", " ^ ", "~", " << ", " >> "]),
    );
    add(
        "string-function",
        any(
            &s,
            &[
                "CONCAT(",
                "SUBSTRING(",
                "SUBSTR(",
                "LENGTH(",
                "CHAR_LENGTH(",
                "UPPER(",
                "LOWER(",
                "TRIM(",
                "REPLACE(",
                "LEFT(",
                "RIGHT(",
                "LPAD(",
                "RPAD(",
                "REVERSE(",
                "INSTR(",
                "LOCATE(",
                "ASCII(",
                "HEX(",
                "REPEAT(",
            ],
        ),
    );
    add(
        "date-function",
        any(
            &s,
            &[
                "DATE_ADD(",
                "DATE_SUB(",
                "DATEDIFF(",
                "YEAR(",
                "MONTH(",
                "DAYOFMONTH(",
                "DAYOFWEEK(",
                "LAST_DAY(",
                "DATE_FORMAT(",
                "TIMESTAMPDIFF(",
                "ADDDATE(",
                "EXTRACT(",
                "TO_DAYS(",
            ],
        ),
    );
    add(
        "aggregate",
        any(
            &s,
            &["COUNT(", "SUM(", "MIN(", "MAX(", "AVG(", "GROUP_CONCAT("],
        ),
    );
    add("case", s.contains("CASE "));
    // The schema's own text columns carry COLLATE utf8mb4_bin: an explicit collation
    // anywhere else is what `collate` counts.
    let collations = s.matches(" COLLATE ").count();
    let column_bin = if ddl {
        s.matches("COLLATE UTF8MB4_BIN").count()
    } else {
        0
    };
    add("collate", collations > column_bin);
    for (name, c) in [
        ("collation:utf8mb4_bin", "COLLATE UTF8MB4_BIN"),
        ("collation:utf8mb4_general_ci", "COLLATE UTF8MB4_GENERAL_CI"),
        ("collation:utf8mb4_unicode_ci", "COLLATE UTF8MB4_UNICODE_CI"),
        (
            "collation:utf8mb4_unicode_520_ci",
            "COLLATE UTF8MB4_UNICODE_520_CI",
        ),
        ("collation:utf8mb4_german2_ci", "COLLATE UTF8MB4_GERMAN2_CI"),
    ] {
        add(name, s.contains(c));
    }
    add("non-ascii-data", non_ascii);
    for (name, ty) in [
        ("type:tinyint", "TINYINT"),
        ("type:smallint", "SMALLINT"),
        ("type:mediumint", "MEDIUMINT"),
        ("type:int", "INT"),
        ("type:bigint", "BIGINT"),
        ("type:unsigned", "UNSIGNED"),
        ("type:float", "FLOAT"),
        ("type:double", "DOUBLE"),
        ("type:decimal", "DECIMAL"),
        ("type:char", "CHAR"),
        ("type:varchar", "VARCHAR"),
        ("type:text", "TEXT"),
        ("type:blob", "BLOB"),
        ("type:date", "DATE"),
        ("type:datetime", "DATETIME"),
        ("type:timestamp", "TIMESTAMP"),
        ("type:time", "TIME"),
        ("type:year", "YEAR"),
        ("type:enum", "ENUM"),
        ("type:set", "SET"),
        ("type:json", "JSON"),
    ] {
        add(name, ddl && has_type(&s, ty));
    }
    let generated = s.contains(" AS (") && ddl;
    add(
        "generated-column:virtual",
        generated && s.contains(" VIRTUAL"),
    );
    add(
        "generated-column:stored",
        generated && s.contains(" STORED"),
    );
    add("index:unique", s.contains("UNIQUE"));
    // An index's column list: `KEY name (a, b)` / `INDEX name ON t (a, b)`.
    let index_cols: Vec<&str> = s
        .match_indices(" KEY ")
        .chain(s.match_indices("INDEX "))
        .filter(|_| ddl || t.starts_with("CREATE"))
        .filter_map(|(i, _)| {
            let rest = &s[i..];
            let open = rest.find('(')?;
            let close = rest[open..].find(')')? + open;
            // `(c0(4))` closes at the prefix length: take up to the matching paren.
            let inner = &rest[open + 1..];
            let mut depth = 1;
            let end = inner.char_indices().find_map(|(k, ch)| {
                match ch {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(k)
            });
            Some(&inner[..end.unwrap_or(close - open - 1)])
        })
        .collect();
    add(
        "index:composite",
        index_cols.iter().any(|c| c.contains(',')),
    );
    add("index:prefix", index_cols.iter().any(|c| c.contains('(')));
    add(
        "index-hint",
        any(
            &s,
            &[
                "FORCE INDEX",
                "IGNORE INDEX",
                "USE INDEX",
                "FORCE KEY",
                "IGNORE KEY",
            ],
        ),
    );
    let plain_join = s.match_indices(" JOIN ").any(|(i, _)| {
        let before = &s[..i];
        !["LEFT", "RIGHT", "CROSS", "OUTER"]
            .iter()
            .any(|k| before.ends_with(k))
            && !before.ends_with("NATURAL")
    });
    add("join:inner", plain_join || s.contains(" INNER JOIN "));
    add(
        "join:left",
        s.contains(" LEFT JOIN ") || s.contains(" LEFT OUTER JOIN "),
    );
    add(
        "join:right",
        s.contains(" RIGHT JOIN ") || s.contains(" RIGHT OUTER JOIN "),
    );
    add("join:natural", s.contains(" NATURAL "));
    add("join:cross", s.contains(" CROSS JOIN "));
    add("join:straight", s.contains("STRAIGHT_JOIN"));
    let derived = s.matches("FROM (SELECT").count() + s.matches("JOIN (SELECT").count();
    add("subquery", s.matches("(SELECT").count() > derived);
    add("exists", s.contains("EXISTS"));
    add("in-list", s.contains(" IN (") && !s.contains(" IN (SELECT"));
    add("between", s.contains(" BETWEEN "));
    add("like", s.contains(" LIKE "));
    add("null", s.contains("NULL"));
    add("order-by", s.contains(" ORDER BY "));
    add("group-by", s.contains(" GROUP BY "));
    add("having", s.contains(" HAVING "));
    add("limit", s.contains(" LIMIT "));
    add("distinct", s.contains("DISTINCT"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructs_are_found_in_syntax_and_never_in_data() {
        let c = constructs(
            "SELECT DISTINCT CAST(r0.c1 AS CHAR) FROM t0 AS r0 LEFT JOIN (SELECT c0 FROM t1) AS d ON r0.c0 = d.c0 WHERE r0.c2 COLLATE utf8mb4_german2_ci LIKE 'UNION ALL ü' ORDER BY 1",
        );
        for want in [
            "select",
            "derived-table",
            "cast",
            "collate",
            "collation:utf8mb4_german2_ci",
            "non-ascii-data",
            "join:left",
            "like",
            "order-by",
            "distinct",
        ] {
            assert!(c.contains(&want), "{want} missing from {c:?}");
        }
        for not in ["union", "subquery", "join:inner", "window-function"] {
            assert!(!c.contains(&not), "{not} in {c:?}");
        }
    }

    #[test]
    fn a_view_counts_where_it_is_created_or_read() {
        assert!(constructs("CREATE VIEW v0 AS SELECT r0.c0 AS a0 FROM t0 AS r0").contains(&"view"));
        assert!(constructs("SELECT r1.a0 FROM t0 AS r0 JOIN v12 AS r1 ON TRUE").contains(&"view"));
        assert!(
            !constructs("SELECT r0.c0 FROM t0 AS r0 WHERE r0.c1 = 'v1 AS x'").contains(&"view")
        );
    }

    #[test]
    fn table_shapes_and_types_are_read_from_ddl() {
        let c = constructs(
            "CREATE TABLE t3 (c0 INT UNSIGNED, c1 VARCHAR(16) COLLATE utf8mb4_bin, c2 ENUM('a','b'), c3 JSON, c4 INT AS (c0 + 1) VIRTUAL, KEY i0 (c1(4), c0), UNIQUE KEY i1 (c0))",
        );
        for want in [
            "create-table",
            "type:int",
            "type:unsigned",
            "type:varchar",
            "type:enum",
            "type:json",
            "generated-column:virtual",
            "index:unique",
            "index:composite",
            "index:prefix",
            "collation:utf8mb4_bin",
            "arithmetic",
        ] {
            assert!(c.contains(&want), "{want} missing from {c:?}");
        }
        // The schema's own binary collation on a column is not an explicit COLLATE.
        for not in [
            "collate",
            "type:bigint",
            "type:char",
            "type:set",
            "generated-column:stored",
        ] {
            assert!(!c.contains(&not), "{not} in {c:?}");
        }
        let i = constructs("CREATE INDEX i2 ON t0 (c1)");
        assert!(
            i.contains(&"create-index") && !i.contains(&"index:composite"),
            "{i:?}"
        );
    }

    #[test]
    fn every_construct_found_is_in_the_list() {
        for sql in [
            "WITH x AS (SELECT 1) SELECT * FROM x UNION SELECT 2",
            "SELECT ROW_NUMBER() OVER (ORDER BY c0) FROM t0 NATURAL JOIN t1 CROSS JOIN t2",
            "UPDATE t0 SET c0 = c0 | 3 WHERE c1 IN (1, 2) AND c2 BETWEEN 1 AND 4",
        ] {
            for c in constructs(sql) {
                assert!(CONSTRUCTS.contains(&c), "{c}");
            }
        }
    }
}
