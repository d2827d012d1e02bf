//! A lane per node on the run's time axis: when it was killed, paused, cut off or skewed
//! (the fault windows that name it), when it served again after each fault (the recovery
//! checker's first ok op per node), when it answered ok ops at all (a thin strip), and its
//! node-log hits (`L<n>` marks, numbered as in the node-log section).

use super::plot::{svg, Error, FaultKind, FONT, LEFT, RIGHT};
use super::series::GRID;
use crate::summary::FaultWindow;
use faultline_core::History;
use plotters::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A node-log hit as marked on a lane.
#[derive(Clone, Debug)]
pub struct LogMark {
    pub n: usize,
    pub node: String,
    pub t_s: f64,
    pub severity: String,
}

/// The nodes a fault's `nodes` value names, among `known` (every node when it names none:
/// a fault of the whole cluster).
pub fn fault_nodes(nodes: &Value, known: &BTreeSet<String>) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut named = Vec::new();
    walk(nodes, &mut named);
    let mut hit: Vec<String> = named.into_iter().filter(|n| known.contains(n)).collect();
    hit.sort();
    hit.dedup();
    if hit.is_empty() {
        known.iter().cloned().collect()
    } else {
        hit
    }
}

/// Node names in natural order (n2 before n10).
pub fn node_order(a: &str, b: &str) -> std::cmp::Ordering {
    let key = |s: &str| {
        let digits: String = s.chars().rev().take_while(char::is_ascii_digit).collect();
        let n: u64 = digits
            .chars()
            .rev()
            .collect::<String>()
            .parse()
            .unwrap_or(0);
        (s[..s.len() - digits.len()].to_string(), n)
    };
    key(a).cmp(&key(b))
}

/// Every node the history, the faults and the logs name.
pub fn nodes_of(history: &History, faults: &[FaultWindow], logs: &[LogMark]) -> Vec<String> {
    let mut set: BTreeSet<String> = history.ops.iter().filter_map(|o| o.node.clone()).collect();
    set.extend(logs.iter().map(|m| m.node.clone()));
    for f in faults {
        if let Some(a) = f.nodes.as_array() {
            set.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
        }
    }
    let mut v: Vec<String> = set.into_iter().collect();
    v.sort_by(|a, b| node_order(a, b));
    v
}

/// One healed fault as the recovery checker saw it.
struct Recovery {
    /// When the fault ended, seconds into the run.
    end_s: f64,
    /// Per node, the seconds from that end to its first ok op (none: it never served).
    firsts: Vec<(String, Option<f64>)>,
}

/// The recoveries of the recovery checker's details.
fn recoveries(recovery: Option<&Value>) -> Vec<Recovery> {
    let list = recovery
        .and_then(|d| d["recoveries"].as_array())
        .cloned()
        .unwrap_or_default();
    list.iter()
        .map(|r| {
            let firsts = r["first_ok_s"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_f64())))
                .collect();
            Recovery {
                end_s: r["end_s"].as_f64().unwrap_or(0.0),
                firsts,
            }
        })
        .collect()
}

const ROW: u32 = 34;

pub fn lanes(
    history: &History,
    nodes: &[String],
    faults: &[FaultWindow],
    recovery: Option<&Value>,
    logs: &[LogMark],
    duration_s: f64,
    bucket_s: f64,
) -> Result<String, Error> {
    let known: BTreeSet<String> = nodes.iter().cloned().collect();
    let row: BTreeMap<&str, u32> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let n = nodes.len().max(1) as u32;
    // When each node answered ok ops: buckets merged into runs.
    let mut served: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for op in history.ops.iter().filter(|o| o.is_client() && o.is_ok()) {
        if let Some(node) = op.node.as_deref().and_then(|n| row.get_key_value(n)) {
            let b = (op.time as f64 / 1e9 / bucket_s) as usize;
            served.entry(node.0).or_default().insert(b);
        }
    }
    let recs = recoveries(recovery);
    let px_per_s = GRID.0 / duration_s.max(1e-9);
    svg(ROW * n + 40, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin_top(6)
            .margin_right(RIGHT)
            .x_label_area_size(26)
            .y_label_area_size(LEFT)
            .build_cartesian_2d(0f64..duration_s, (0u32..n).into_segmented())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_labels(n as usize)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => nodes.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc("time (s)")
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 11))
            .draw()
            .map_err(|e| e.to_string())?;
        // Served strips, along the bottom of each lane.
        for (node, buckets) in &served {
            let r = row[node];
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for &b in buckets {
                match runs.last_mut() {
                    Some(last) if last.1 + 1 == b => last.1 = b,
                    _ => runs.push((b, b)),
                }
            }
            chart
                .draw_series(runs.into_iter().map(|(a, b)| {
                    let px = ((b + 1 - a) as f64 * bucket_s * px_per_s).ceil() as i32;
                    EmptyElement::at((a as f64 * bucket_s, SegmentValue::Exact(r)))
                        + Rectangle::new(
                            [(0, -5), (px.max(1), -1)],
                            RGBColor(44, 160, 44).mix(0.6).filled(),
                        )
                }))
                .map_err(|e| e.to_string())?;
        }
        // Faults on each node they name.
        for f in faults {
            let kind = FaultKind::of(&f.fault);
            let end = f.stop_s.unwrap_or(duration_s).max(f.start_s);
            for node in fault_nodes(&f.nodes, &known) {
                let r = row[node.as_str()];
                let c = kind.color();
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (f.start_s, SegmentValue::Exact(r)),
                            (end, SegmentValue::Exact(r + 1)),
                        ],
                        c.mix(0.35).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
                let label = if f.error.is_some() {
                    format!("{} ({}, failed)", kind.word(), f.fault)
                } else {
                    format!("{} ({})", kind.word(), f.fault)
                };
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((f.start_s, SegmentValue::Exact(r + 1)))
                            + Text::new(label, (3, 3), (FONT, 10).into_font().color(&c)),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        // Served again: from the fault's end to the node's first ok op.
        for Recovery { end_s, firsts } in &recs {
            for (node, t) in firsts {
                let Some(&r) = row.get(node.as_str()) else {
                    continue;
                };
                let mid = SegmentValue::CenterOf(r);
                let (label, x) = match t {
                    Some(t) => (format!("served +{t:.1}s"), end_s + t),
                    None => ("no ok op before the next fault".to_string(), *end_s),
                };
                let c = RGBColor(0, 100, 0);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(*end_s, mid.clone()), (x, mid.clone())],
                        c.stroke_width(1),
                    )))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x, mid))
                            + TriangleMarker::new((0, 0), 4, c.filled())
                            + Text::new(label, (5, -2), (FONT, 10).into_font().color(&c)),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        // Node-log hits.
        for m in logs {
            let Some(&r) = row.get(m.node.as_str()) else {
                continue;
            };
            let c = match m.severity.as_str() {
                "crash" => RGBColor(180, 0, 0),
                "error" => RGBColor(230, 120, 0),
                _ => RGBColor(110, 110, 110),
            };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((m.t_s.clamp(0.0, duration_s), SegmentValue::Exact(r + 1)))
                        + Cross::new((0, 14), 4, c.stroke_width(2))
                        + Text::new(
                            format!("L{}", m.n),
                            (-6, 19),
                            (FONT, 9).into_font().color(&c),
                        ),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}
