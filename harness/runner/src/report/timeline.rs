//! An anomaly's timeline, as Jepsen's timeline.html draws one: a row per process, each op a
//! bar from its invoke to its completion, coloured by outcome (ok green, fail red, info
//! orange, never completed grey). The ops involved are outlined and labelled with their
//! role (`T12`, `#3`, `lost update`); the ops around them fill the picture up to
//! [`MAX_OPS`], nearest in time first.

use super::plot::{svg, Error, FONT, LEFT, RIGHT};
use super::series::GRID;
use faultline_core::{History, Op, OpType};
use plotters::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// At most this many ops in one timeline.
pub const MAX_OPS: usize = 60;

/// An op of the anomaly: its history index (the invoke's or the completion's), its label,
/// and the colour of its outline.
#[derive(Clone, Debug)]
pub struct Focus {
    pub index: u64,
    pub label: String,
    pub stroke: RGBColor,
}

impl Focus {
    pub fn new(index: u64, label: impl Into<String>) -> Focus {
        Focus {
            index,
            label: label.into(),
            stroke: BLACK,
        }
    }
}

/// One op as drawn (and listed under the picture).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Bar {
    pub index: u64,
    pub process: String,
    pub node: Option<String>,
    pub f: String,
    pub value: String,
    pub outcome: &'static str,
    pub invoked_s: f64,
    pub completed_s: Option<f64>,
    pub label: Option<String>,
    #[serde(skip)]
    stroke: Option<RGBColor>,
}

/// The position of the op with history index `index` (positions and indexes agree in the
/// histories faultline writes; others are searched).
/// When the op at position `p` (either end) ran: its invocation to its completion, or to
/// the end of the history when it never completed.
pub fn op_span(history: &History, pairs: &[Option<usize>], p: usize) -> (u64, u64) {
    let end = history.ops.last().map_or(0, |o| o.time);
    let here = history.ops[p].time;
    let there = pairs[p].map_or(end, |q| history.ops[q].time);
    (here.min(there), here.max(there))
}

pub fn position(history: &History, index: u64) -> Option<usize> {
    let i = index as usize;
    if history.ops.get(i).is_some_and(|o| o.index == index) {
        return Some(i);
    }
    history
        .ops
        .binary_search_by_key(&index, |o| o.index)
        .ok()
        .or_else(|| history.ops.iter().position(|o| o.index == index))
}

fn short(v: &Value, max: usize) -> String {
    let s = match v {
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if s.chars().count() > max {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    } else {
        s
    }
}

fn bar(invoke: &Op, done: Option<&Op>) -> Bar {
    let outcome = match done.map(|d| d.kind) {
        Some(OpType::Ok) => "ok",
        Some(OpType::Fail) => "fail",
        Some(_) => "info",
        None => "open",
    };
    // The completion's value says more (reads), the invoke's says what was asked.
    let value = done
        .map(|d| &d.value)
        .filter(|v| !v.is_null())
        .unwrap_or(&invoke.value);
    Bar {
        index: done.map_or(invoke.index, |d| d.index),
        process: invoke.process.to_string(),
        node: done.and_then(|d| d.node.clone()).or(invoke.node.clone()),
        f: invoke.f.clone(),
        value: short(value, 120),
        outcome,
        invoked_s: invoke.time as f64 / 1e9,
        completed_s: done.map(|d| d.time as f64 / 1e9),
        label: None,
        stroke: None,
    }
}

/// The bars of a timeline for `focus` (None when no focus op is in the history).
pub fn bars(history: &History, pairs: &[Option<usize>], focus: &[Focus]) -> Option<Vec<Bar>> {
    // Each focus op as its invoke position.
    let mut wanted: HashMap<usize, &Focus> = HashMap::new();
    for f in focus {
        let Some(p) = position(history, f.index) else {
            continue;
        };
        let inv = if history.ops[p].is_invoke() {
            p
        } else {
            pairs[p].unwrap_or(p)
        };
        wanted.entry(inv).or_insert(f);
    }
    if wanted.is_empty() {
        return None;
    }
    let span = |inv: usize| op_span(history, pairs, inv);
    let (mut t0, mut t1) = (u64::MAX, 0);
    for &inv in wanted.keys() {
        let (a, b) = span(inv);
        t0 = t0.min(a);
        t1 = t1.max(b);
    }
    let pad = ((t1 - t0) / 5).max(20_000_000);
    let (w0, w1) = (t0.saturating_sub(pad), t1 + pad);
    let centre = (t0 / 2 + t1 / 2) as i128;
    // Neighbours overlapping the window, nearest to the focus's centre first.
    let mut around: Vec<(i128, usize)> = history
        .ops
        .iter()
        .enumerate()
        .filter(|(i, o)| o.is_client() && o.is_invoke() && !wanted.contains_key(i))
        .filter_map(|(i, _)| {
            let (a, b) = span(i);
            (a <= w1 && b >= w0).then(|| {
                (
                    (a as i128 - centre).abs().min((b as i128 - centre).abs()),
                    i,
                )
            })
        })
        .collect();
    around.sort_unstable();
    let room = MAX_OPS.saturating_sub(wanted.len());
    let mut chosen: Vec<usize> = wanted.keys().copied().collect();
    chosen.extend(around.into_iter().take(room).map(|(_, i)| i));
    chosen.sort_unstable();
    Some(
        chosen
            .into_iter()
            .map(|inv| {
                let mut b = bar(&history.ops[inv], pairs[inv].map(|j| &history.ops[j]));
                if let Some(f) = wanted.get(&inv) {
                    b.label = Some(f.label.clone());
                    b.stroke = Some(f.stroke);
                }
                b
            })
            .collect(),
    )
}

fn fill(outcome: &str) -> RGBColor {
    match outcome {
        "ok" => RGBColor(199, 233, 192),
        "fail" => RGBColor(252, 187, 161),
        "info" => RGBColor(253, 208, 162),
        _ => RGBColor(220, 220, 220),
    }
}

fn process_key(p: &str) -> (u8, u64, String) {
    match p.parse::<u64>() {
        Ok(n) => (0, n, String::new()),
        Err(_) => (1, 0, p.to_string()),
    }
}

const ROW: u32 = 26;

/// Draws `bars`: one row per process, time across.
pub fn draw(bars: &[Bar]) -> Result<String, Error> {
    let mut rows: BTreeMap<(u8, u64, String), u32> = BTreeMap::new();
    for b in bars {
        rows.insert(process_key(&b.process), 0);
    }
    let names: Vec<String> = rows
        .keys()
        .map(|(_, n, s)| {
            if s.is_empty() {
                n.to_string()
            } else {
                s.clone()
            }
        })
        .collect();
    for (i, v) in rows.values_mut().enumerate() {
        *v = i as u32;
    }
    let n = rows.len().max(1) as u32;
    let t0 = bars.iter().map(|b| b.invoked_s).fold(f64::MAX, f64::min);
    let open_end = bars
        .iter()
        .map(|b| b.completed_s.unwrap_or(b.invoked_s))
        .fold(t0, f64::max);
    let t1 = open_end + (open_end - t0).max(0.01) * 0.05;
    let px_per_s = GRID.0 / (t1 - t0).max(1e-9);
    svg(ROW * n + 40, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin_top(6)
            .margin_right(RIGHT)
            .x_label_area_size(26)
            .y_label_area_size(LEFT)
            .build_cartesian_2d(t0..t1, (0u32..n).into_segmented())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_labels(n as usize)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => {
                    format!(
                        "process {}",
                        names.get(*i as usize).cloned().unwrap_or_default()
                    )
                }
                _ => String::new(),
            })
            .x_desc("time (s)")
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 11))
            .draw()
            .map_err(|e| e.to_string())?;
        for b in bars {
            let r = rows[&process_key(&b.process)];
            let end = b.completed_s.unwrap_or(t1);
            let px = ((end - b.invoked_s) * px_per_s).max(3.0) as i32;
            let top = SegmentValue::Exact(r + 1);
            let stroke = b.stroke.map(|c| c.stroke_width(2));
            let fill = fill(b.outcome);
            let text = match &b.label {
                Some(l) => format!("{l}: {} {}", b.f, b.value),
                None => format!("{} {}", b.f, b.value),
            };
            let chars = ((px - 6) / 6).max(0) as usize;
            let shown = if text.chars().count() > chars {
                text.chars()
                    .take(chars.saturating_sub(1))
                    .collect::<String>()
                    + "…"
            } else {
                text
            };
            let at = (b.invoked_s, top);
            let rect = [(0, 4), (px, ROW as i32 - 4)];
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at(at.clone()) + Rectangle::new(rect, fill.filled()),
                ))
                .map_err(|e| e.to_string())?;
            if let Some(s) = stroke {
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at(at.clone()) + Rectangle::new(rect, s),
                    ))
                    .map_err(|e| e.to_string())?;
            }
            if chars >= 2 {
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at(at) + Text::new(shown, (3, 8), (FONT, 10).into_font()),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
}
