//! Helpers for the ports of Elle's test suite: Elle's tiny op language written out as
//! Jepsen EDN (so every port also goes through the EDN importer, keyword keys and all),
//! and comparisons in Elle's vocabulary.
#![allow(dead_code)]

use faultline_checkers::elle::import::jepsen_edn;
use faultline_checkers::elle::{Analysis, ElleChecker, Options, Txns, Workload};
use faultline_core::Validity;

/// Elle's list-append op language: `ax1` appends 1 to `:x`, `ry12` reads `:y = [1 2]`, `rx`
/// reads `:x` with no value (nil). Keys are single letters, values single digits.
pub fn la(s: &str) -> String {
    mops(s, 'a', "append", true)
}

/// Elle's rw-register op language: `wx1` writes 1 to `:x`, `ry1` reads 1, `rx_` reads nil.
pub fn rw(s: &str) -> String {
    mops(s, 'w', "w", false)
}

fn mops(s: &str, write: char, wname: &str, lists: bool) -> String {
    let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
    for c in s.chars() {
        match c {
            c if c == write => out.push((wname.into(), String::new(), vec![])),
            'r' => out.push(("r".into(), String::new(), vec![])),
            'x' | 'y' | 'z' | 't' | 'u' if out.last().is_some_and(|m| m.1.is_empty()) => {
                out.last_mut().unwrap().1 = format!(":{c}");
            }
            '_' => out.last_mut().unwrap().2.push("nil".into()),
            d => out.last_mut().unwrap().2.push(d.to_string()),
        }
    }
    let parts: Vec<String> = out
        .into_iter()
        .map(|(f, k, vs)| {
            let v = if f == "r" && lists {
                if vs.is_empty() {
                    "nil".to_string()
                } else {
                    format!("[{}]", vs.join(" "))
                }
            } else if vs.is_empty() {
                "nil".to_string()
            } else {
                vs.join("")
            };
            format!("[:{f} {k} {v}]")
        })
        .collect();
    format!("[{}]", parts.join(" "))
}

/// The invocation's view of a transaction: reads unknown.
pub fn unread(value: &str) -> String {
    // `[:r :x [1 2]]` -> `[:r :x nil]`; values never contain brackets otherwise.
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("[:r ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 4..];
        let key_end = tail.find(' ').unwrap();
        out.push_str(&format!("[:r {} nil]", &tail[..key_end]));
        let after = &tail[key_end + 1..];
        let skip = if after.starts_with('[') {
            after.find(']').unwrap() + 2
        } else {
            after.find(']').unwrap() + 1
        };
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

/// One op line.
pub fn op(process: Option<u64>, kind: &str, value: &str) -> String {
    match process {
        Some(p) => format!("{{:type :{kind}, :f :txn, :process {p}, :value {value}}}\n"),
        None => format!("{{:type :{kind}, :f :txn, :value {value}}}\n"),
    }
}

/// Elle's `pair`: an invocation (reads unknown) and its completion.
pub fn pair(process: u64, kind: &str, value: &str) -> String {
    op(Some(process), "invoke", &unread(value)) + &op(Some(process), kind, value)
}

pub fn check(workload: Workload, model: &str, edn: &str) -> Analysis {
    check_with(workload, model, edn, Options::default())
}

pub fn check_with(workload: Workload, model: &str, edn: &str, options: Options) -> Analysis {
    let h = jepsen_edn(edn, workload).unwrap_or_else(|e| panic!("{e}\n{edn}"));
    ElleChecker::new(workload, model)
        .unwrap()
        .with_options(options)
        .analyze(&Txns::from_history(&h))
}

/// Our class name in Elle's vocabulary: every cycle we find is over items, so our
/// G-single and G-nonadjacent are Elle's G-single-item and G-nonadjacent-item.
pub fn elle_name(ours: &str) -> String {
    for base in ["G-single", "G-nonadjacent"] {
        if let Some(rest) = ours.strip_prefix(base) {
            return format!("{base}-item{rest}");
        }
    }
    ours.to_string()
}

/// Elle's `:anomaly-types` of a result: the prohibited classes found plus the ones that
/// make a verdict unknown.
pub fn elle_types(a: &Analysis) -> Vec<String> {
    let mut t: Vec<String> = a
        .anomaly_types
        .iter()
        .filter(|t| {
            a.forbidden.contains(t)
                || matches!(
                    t.as_str(),
                    "empty-transaction-graph" | "cycle-search-timeout"
                )
        })
        .map(|t| elle_name(t))
        .collect();
    t.sort();
    t
}

/// Asserts Elle's verdict, `:anomaly-types` and `:not` for one case.
#[track_caller]
pub fn assert_elle(a: &Analysis, valid: Validity, types: &[&str], not: &[&str]) {
    let mut want: Vec<String> = types.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(elle_types(a), want, "anomaly types; {:#?}", a.anomalies);
    assert_eq!(a.valid, valid, "verdict; {:?}", a.anomaly_types);
    let mut not_want: Vec<String> = not.iter().map(|s| s.to_string()).collect();
    not_want.sort();
    assert_eq!(a.not, not_want, "not; found {:?}", a.anomaly_types);
}

/// The classes found within one of Elle's anomaly families (its `:anomalies [:G1]` option
/// asks for a family rather than a model).
pub fn found_in(a: &Analysis, family: &str) -> Vec<String> {
    let members: &[&str] = match family {
        "G0" => &["G0"],
        "G1" => &["G0", "G1a", "G1b", "G1c"],
        "G2" => &["G-single", "G-nonadjacent", "G2-item"],
        "G-single" => &["G-single"],
        other => panic!("unknown family {other}"),
    };
    a.anomaly_types
        .iter()
        .filter(|t| members.contains(&t.as_str()))
        .map(|t| elle_name(t))
        .collect()
}

#[test]
fn the_op_language_reads_as_elle_writes_it() {
    assert_eq!(la("ax1ay1"), "[[:append :x 1] [:append :y 1]]");
    assert_eq!(la("rx12ry"), "[[:r :x [1 2]] [:r :y nil]]");
    assert_eq!(rw("wx1ry_"), "[[:w :x 1] [:r :y nil]]");
    assert_eq!(unread(&la("rx12ax3")), "[[:r :x nil] [:append :x 3]]");
}
