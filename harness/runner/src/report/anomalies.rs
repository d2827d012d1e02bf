//! Each anomaly the checkers explain, for the report: a title, its sentences, a timeline
//! of its ops and those around them ([`super::timeline`]) and, for an Elle cycle, the cycle
//! drawn ([`super::cycle`]). Read from the checkers' result details:
//! - bank: the lost-update pairs of its diagnosis (`diagnosis.lost_update_pairs`, history
//!   indexes of two transfers' completions) and the first violation (last good read, first
//!   bad read, the transfers between);
//! - linearizable: the counterexample's ops (`counterexample.ops`, with their role);
//! - Elle: the explained anomalies (`anomalies.<class>[]`: txns by completion index,
//!   sentences, dot).
//!
//! At most [`MAX_TIMELINES`] timelines are drawn in one report.

use super::timeline::{self, Bar, Focus};
use faultline_core::{CheckResult, History};
use plotters::style::RGBColor;
use serde::Serialize;
use serde_json::Value;

pub const MAX_TIMELINES: usize = 8;
/// Anomalies drawn per checker (and per Elle class).
const PER_CHECKER: usize = 3;

#[derive(Clone, Debug, Serialize)]
pub struct AnomalyView {
    pub checker: String,
    pub title: String,
    pub sentences: Vec<String>,
    pub timeline: Option<String>,
    /// The ops involved, listed under the picture.
    pub involved: Vec<Bar>,
    /// Every op drawn.
    pub drawn: usize,
    pub cycle: Option<String>,
}

fn indexes(v: &Value) -> Vec<u64> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

struct Found {
    title: String,
    sentences: Vec<String>,
    focus: Vec<Focus>,
    cycle: Option<Value>,
}

fn bank(d: &Value) -> Vec<Found> {
    let mut out = Vec::new();
    let cause: Vec<String> = ["cause", "hint"]
        .iter()
        .filter_map(|k| d[*k].as_str().map(str::to_string))
        .collect();
    let red = RGBColor(180, 0, 0);
    for (n, pair) in d["diagnosis"]["lost_update_pairs"]
        .as_array()
        .into_iter()
        .flatten()
        .take(PER_CHECKER)
        .enumerate()
    {
        let account = pair["account"].to_string().trim_matches('"').to_string();
        let balance = &pair["balance"];
        let t = indexes(&pair["transfers"]);
        out.push(Found {
            title: format!("lost update: two transfers read account {account} = {balance}"),
            sentences: if n == 0 { cause.clone() } else { Vec::new() },
            focus: t
                .iter()
                .map(|&i| Focus {
                    index: i,
                    label: format!("read {account}={balance}"),
                    stroke: red,
                })
                .collect(),
            cycle: None,
        });
    }
    let v = &d["first_violation"];
    if let Some(bad) = v["first_bad_read"]["index"].as_u64() {
        let mut focus = vec![Focus {
            index: bad,
            label: "first bad read".into(),
            stroke: red,
        }];
        if let Some(good) = v["last_good_read"]["index"].as_u64() {
            focus.push(Focus::new(good, "last good read"));
        }
        for t in v["transfers_between"]
            .as_array()
            .into_iter()
            .flatten()
            .take(20)
        {
            if let Some(i) = t["index"].as_u64() {
                focus.push(Focus::new(i, "between"));
            }
        }
        out.push(Found {
            title: "the first bad read, the last good read before it and the transfers between"
                .into(),
            sentences: if out.is_empty() { cause } else { Vec::new() },
            focus,
            cycle: None,
        });
    }
    out
}

fn linearizable(d: &Value) -> Vec<Found> {
    let cx = &d["counterexample"];
    let Some(ops) = cx["ops"].as_array() else {
        return Vec::new();
    };
    let focus = ops
        .iter()
        .filter_map(|o| {
            let (label, stroke) = match o["role"].as_str().unwrap_or("") {
                "linearized" => (
                    format!("#{}", o["order"].as_u64().unwrap_or(0)),
                    RGBColor(49, 130, 189),
                ),
                "cannot-follow" => ("cannot follow".to_string(), RGBColor(203, 24, 29)),
                _ => ("dead end".to_string(), RGBColor(230, 85, 13)),
            };
            Some(Focus {
                index: o["index"].as_u64()?,
                label,
                stroke,
            })
        })
        .collect();
    let key = cx["key"].as_str().filter(|k| !k.is_empty());
    vec![Found {
        title: match key {
            Some(k) => format!("not linearizable: key {k}"),
            None => "not linearizable".into(),
        },
        sentences: cx["explanation"]
            .as_str()
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
        focus,
        cycle: None,
    }]
}

fn elle(d: &Value) -> Vec<Found> {
    let mut out = Vec::new();
    for (class, list) in d["anomalies"].as_object().into_iter().flatten() {
        for a in list.as_array().into_iter().flatten().take(PER_CHECKER) {
            let focus = a["txns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| {
                    Some(Focus {
                        index: t["index"].as_u64()?,
                        label: t["name"].as_str().unwrap_or("").to_string(),
                        stroke: RGBColor(180, 0, 0),
                    })
                })
                .collect();
            out.push(Found {
                title: class.clone(),
                sentences: strings(&a["explanation"]),
                focus,
                cycle: a.get("dot").is_some().then(|| a.clone()),
            });
        }
    }
    out
}

/// The anomalies a checker's details explain, by the shape of the details.
fn found(d: &Value) -> Vec<Found> {
    if d.get("counterexample").is_some_and(|v| !v.is_null()) {
        linearizable(d)
    } else if d.get("anomalies").is_some_and(Value::is_object) {
        elle(d)
    } else if d.get("first_violation").is_some() {
        bank(d)
    } else {
        Vec::new()
    }
}

/// The first anomaly a checker's details explain: its title, its sentences and the history
/// indexes of the ops involved.
/// An Elle result's first anomaly of a class its model forbids comes first; of a
/// counterexample, the ops that cannot follow.
pub fn first(details: &Value) -> Option<(String, Vec<String>, Vec<u64>)> {
    let all = found(details);
    let forbidden = strings(&details["forbidden"]);
    let pick = all
        .iter()
        .position(|f| forbidden.contains(&f.title))
        .unwrap_or(0);
    let f = all.into_iter().nth(pick)?;
    let stuck: Vec<u64> = f
        .focus
        .iter()
        .filter(|x| x.label == "cannot follow")
        .map(|x| x.index)
        .collect();
    let ops = if stuck.is_empty() {
        f.focus.iter().map(|x| x.index).collect()
    } else {
        stuck
    };
    Some((f.title, f.sentences, ops))
}

/// The anomalies of every non-valid result, drawn.
pub fn anomalies(history: &History, checks: &[CheckResult]) -> Vec<AnomalyView> {
    let pairs = history.pairs();
    let mut out = Vec::new();
    for c in checks
        .iter()
        .filter(|c| c.valid != faultline_core::Validity::Valid)
    {
        for f in found(&c.details) {
            let drawn_already = out
                .iter()
                .filter(|a: &&AnomalyView| a.timeline.is_some())
                .count();
            let bars = if drawn_already < MAX_TIMELINES {
                timeline::bars(history, &pairs, &f.focus)
            } else {
                None
            };
            let (timeline, involved, drawn) = match bars {
                Some(b) => {
                    let svg = timeline::draw(&b).map_err(|e| tracing::warn!("timeline: {e}"));
                    let involved = b.iter().filter(|x| x.label.is_some()).cloned().collect();
                    (svg.ok(), involved, b.len())
                }
                None => (None, Vec::new(), 0),
            };
            let cycle = f
                .cycle
                .as_ref()
                .and_then(super::cycle::draw)
                .and_then(|r| r.map_err(|e| tracing::warn!("cycle: {e}")).ok());
            out.push(AnomalyView {
                checker: c.checker.clone(),
                title: f.title,
                sentences: f.sentences,
                timeline,
                involved,
                drawn,
                cycle,
            });
        }
    }
    out
}
