//! The query-plan oracle: the same query with only its plan changed must return the same
//! multiset of rows. A plan is changed by index hints (`USE INDEX ()` for full scans,
//! `FORCE INDEX` / `IGNORE INDEX` for one index), by one optimizer_switch flag or one
//! optimizer variable for that statement alone (`SET STATEMENT ... FOR`, so the session is
//! left as it was), or by fixing the join order as written (`STRAIGHT_JOIN`). None of these
//! may change a result: they choose how rows are found, never which rows qualify.
//!
//! Only queries whose result is a function of the data are checked: the generator's plain
//! queries have no LIMIT and their subqueries are aggregates, IN or EXISTS (deterministic);
//! [`plan_case`] refuses a query with a LIMIT, where two plans may legally pick other rows.

use crate::ast::{IndexHint, Select};
use crate::compare::{compare_rows, Row};
use crate::schema::Schema;
use serde::{Deserialize, Serialize};

/// optimizer_switch flags of MariaDB 10.6-11.x with their default value; the oracle flips
/// one. `in_to_exists` and `materialization` are never both off (MariaDB refuses that).
pub const SWITCH_FLAGS: &[(&str, bool)] = &[
    ("index_merge", true),
    ("index_merge_union", true),
    ("index_merge_sort_union", true),
    ("index_merge_intersection", true),
    ("index_merge_sort_intersection", false),
    ("index_condition_pushdown", true),
    ("derived_merge", true),
    ("derived_with_keys", true),
    ("firstmatch", true),
    ("loosescan", true),
    ("materialization", true),
    ("in_to_exists", true),
    ("semijoin", true),
    ("partial_match_rowid_merge", true),
    ("partial_match_table_scan", true),
    ("subquery_cache", true),
    ("mrr", false),
    ("outer_join_with_cache", true),
    ("semijoin_with_cache", true),
    ("join_cache_incremental", true),
    ("join_cache_hashed", true),
    ("join_cache_bka", true),
    ("table_elimination", true),
    ("extended_keys", true),
    ("exists_to_in", true),
    ("condition_pushdown_for_derived", true),
    ("split_materialized", true),
    ("condition_pushdown_for_subquery", true),
    ("rowid_filter", true),
    ("condition_pushdown_from_having", true),
];

/// Session variables that steer the optimizer, and values other than their defaults.
pub const PLAN_VARIABLES: &[(&str, &[u32])] = &[
    ("join_cache_level", &[0, 1, 4, 8]),
    ("optimizer_use_condition_selectivity", &[1, 2, 5]),
    ("optimizer_search_depth", &[0, 1]),
    ("optimizer_prune_level", &[0]),
];

/// One change of plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanChange {
    /// Every table of the FROM clause read without indexes.
    NoIndexes,
    /// Table reference `table` (by position in the FROM clause) given this hint.
    Hint { table: usize, hint: IndexHint },
    /// One optimizer_switch flag set, for this statement only.
    Switch { flag: String, on: bool },
    /// One optimizer variable set, for this statement only.
    Variable { name: String, value: u32 },
    /// The tables joined in the order they are written.
    StraightJoin,
}

impl PlanChange {
    /// Short name for coverage counts: `no-indexes`, `force-index`, `switch:mrr=on`, ...
    pub fn kind(&self) -> String {
        match self {
            PlanChange::NoIndexes => "no-indexes".into(),
            PlanChange::Hint {
                hint: IndexHint::Force(_),
                ..
            } => "force-index".into(),
            PlanChange::Hint {
                hint: IndexHint::Ignore(_),
                ..
            } => "ignore-index".into(),
            PlanChange::Hint { .. } => "use-no-index".into(),
            PlanChange::Switch { flag, on } => {
                format!("switch:{flag}={}", if *on { "on" } else { "off" })
            }
            PlanChange::Variable { name, value } => format!("{name}={value}"),
            PlanChange::StraightJoin => "straight-join".into(),
        }
    }
}

/// A query and one change of its plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanCase {
    pub query: Select,
    pub change: PlanChange,
}

impl PlanCase {
    /// The query with its plan changed, as SQL.
    pub fn altered_sql(&self) -> String {
        match &self.change {
            PlanChange::NoIndexes => {
                let mut q = self.query.clone();
                no_indexes(&mut q);
                q.to_string()
            }
            PlanChange::Hint { table, hint } => {
                let mut q = self.query.clone();
                if let Some(t) = q.from.as_mut().and_then(|f| f.table_mut(*table)) {
                    t.hint = Some(Box::new(hint.clone()));
                }
                q.to_string()
            }
            PlanChange::Switch { flag, on } => format!(
                "SET STATEMENT optimizer_switch='{flag}={}' FOR {}",
                if *on { "on" } else { "off" },
                self.query
            ),
            PlanChange::Variable { name, value } => {
                format!("SET STATEMENT {name}={value} FOR {}", self.query)
            }
            PlanChange::StraightJoin => {
                let sql = self.query.to_string();
                let head = if self.query.distinct {
                    "SELECT DISTINCT "
                } else {
                    "SELECT "
                };
                match sql.strip_prefix(head) {
                    Some(rest) => format!("{head}STRAIGHT_JOIN {rest}"),
                    None => sql,
                }
            }
        }
    }

    /// The case in words, for findings: the query and the change.
    pub fn describe(&self) -> String {
        format!("{} -- plan changed by {}", self.query, self.change.kind())
    }
}

/// `USE INDEX ()` on every base table of the FROM clause (subqueries, views and derived
/// tables keep their plans).
fn no_indexes(q: &mut Select) {
    for t in q.from.iter_mut().flat_map(|f| f.tables_mut()) {
        if t.is_base_table() {
            t.hint = Some(Box::new(IndexHint::NoIndex));
        }
    }
}

/// The plan changes that apply to `query` over `schema` (index hints only on tables that
/// have an index, STRAIGHT_JOIN only with a join); None for a query the oracle must not
/// check (a LIMIT, or no FROM).
pub fn plan_changes(query: &Select, schema: &Schema) -> Option<Vec<PlanChange>> {
    let from = query.from.as_ref()?;
    if query.limit.is_some() {
        return None;
    }
    let mut out = vec![PlanChange::NoIndexes];
    for (i, t) in from.tables().enumerate() {
        let Some(table) = schema.table(&t.table).filter(|_| t.is_base_table()) else {
            continue;
        };
        if !table.primary_key.is_empty() {
            out.push(PlanChange::Hint {
                table: i,
                hint: IndexHint::Ignore("PRIMARY".into()),
            });
        }
        for idx in &table.indexes {
            out.push(PlanChange::Hint {
                table: i,
                hint: IndexHint::Force(idx.name.clone()),
            });
            out.push(PlanChange::Hint {
                table: i,
                hint: IndexHint::Ignore(idx.name.clone()),
            });
        }
    }
    for (flag, default) in SWITCH_FLAGS {
        out.push(PlanChange::Switch {
            flag: flag.to_string(),
            on: !default,
        });
    }
    for (name, values) in PLAN_VARIABLES {
        for v in *values {
            out.push(PlanChange::Variable {
                name: name.to_string(),
                value: *v,
            });
        }
    }
    if !from.joins.is_empty() {
        out.push(PlanChange::StraightJoin);
    }
    Some(out)
}

/// The check: both plans give the same multiset of rows (the float rule applies).
pub fn plan_check(original: &[Row], altered: &[Row]) -> Result<(), String> {
    match compare_rows(original, altered, false) {
        None => Ok(()),
        Some(d) => Err(format!("another plan changed the result: {}", d.what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{BinOp, ColumnDef, CreateTable, Expr, From, IndexDef, Join, JoinKind};
    use crate::ast::{Literal, Stmt, TableRef};
    use crate::schema::ColType;

    fn tref(t: &str, a: &str) -> TableRef {
        TableRef {
            table: t.into(),
            alias: a.into(),
            hint: None,
            derived: None,
        }
    }

    fn query(join: bool, limit: Option<u64>) -> Select {
        Select {
            distinct: true,
            items: vec![Expr::Lit(Literal::Int(1))],
            from: Some(From {
                first: tref("t0", "r0"),
                joins: if join {
                    vec![Join {
                        kind: JoinKind::Left,
                        table: tref("t1", "r1"),
                        on: Some(Expr::Binary {
                            op: BinOp::Eq,
                            l: Box::new(Expr::Lit(Literal::Int(1))),
                            r: Box::new(Expr::Lit(Literal::Int(1))),
                        }),
                    }]
                } else {
                    vec![]
                },
            }),
            filter: None,
            group_by: vec![],
            having: None,
            order_by: vec![],
            limit,
            aliases: vec![],
            for_update: false,
        }
    }

    fn schema() -> Schema {
        let mut s = Schema::default();
        for (name, indexed) in [("t0", true), ("t1", false)] {
            s.apply(&Stmt::CreateTable(CreateTable {
                name: name.into(),
                columns: vec![ColumnDef {
                    name: "c0".into(),
                    ty: ColType::Int,
                    nullable: true,
                    default: None,
                    generated: None,
                }],
                primary_key: vec![],
                indexes: if indexed {
                    vec![IndexDef {
                        name: "i0".into(),
                        unique: false,
                        columns: vec![("c0".into(), None)],
                    }]
                } else {
                    vec![]
                },
            }));
        }
        s
    }

    #[test]
    fn each_change_prints_as_mariadb_spells_it() {
        let q = query(true, None);
        let sql = |change| {
            PlanCase {
                query: q.clone(),
                change,
            }
            .altered_sql()
        };
        assert_eq!(
            sql(PlanChange::NoIndexes),
            "SELECT DISTINCT 1 FROM t0 AS r0 USE INDEX () LEFT JOIN t1 AS r1 USE INDEX () ON (1 = 1)"
        );
        assert!(sql(PlanChange::Hint {
            table: 1,
            hint: IndexHint::Force("i3".into())
        })
        .contains("LEFT JOIN t1 AS r1 FORCE INDEX (i3) ON"));
        assert_eq!(
            sql(PlanChange::Switch {
                flag: "mrr".into(),
                on: true
            }),
            format!("SET STATEMENT optimizer_switch='mrr=on' FOR {q}")
        );
        assert_eq!(
            sql(PlanChange::Variable {
                name: "join_cache_level".into(),
                value: 0
            }),
            format!("SET STATEMENT join_cache_level=0 FOR {q}")
        );
        assert!(sql(PlanChange::StraightJoin).starts_with("SELECT DISTINCT STRAIGHT_JOIN 1 FROM"));
    }

    #[test]
    fn hints_only_name_indexes_that_exist_and_limits_are_refused() {
        let changes = plan_changes(&query(true, None), &schema()).unwrap();
        let hints: Vec<_> = changes
            .iter()
            .filter_map(|c| match c {
                PlanChange::Hint { table, hint } => Some((*table, hint.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            hints,
            vec![
                (0, IndexHint::Force("i0".into())),
                (0, IndexHint::Ignore("i0".into()))
            ]
        );
        assert!(changes.contains(&PlanChange::StraightJoin));
        let single = plan_changes(&query(false, None), &schema()).unwrap();
        assert!(!single.contains(&PlanChange::StraightJoin));
        assert!(plan_changes(&query(false, Some(3)), &schema()).is_none());
    }

    #[test]
    fn the_check_compares_multisets() {
        let r = |v: &[&str]| -> Vec<Row> { v.iter().map(|x| vec![Some(x.to_string())]).collect() };
        assert!(plan_check(&r(&["1", "2"]), &r(&["2", "1"])).is_ok());
        let e = plan_check(&r(&["1", "2"]), &r(&["1"])).unwrap_err();
        assert!(e.contains("2 row(s) vs 1 row(s)"), "{e}");
        assert!(plan_check(&r(&["1", "1"]), &r(&["1", "2"])).is_err());
    }
}
