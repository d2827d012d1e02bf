//! An Elle cycle drawn as SVG: its transactions in a ring (in cycle order), each a box with
//! its name, process and operations, and its dependency edges as arrows coloured by kind
//! (ww black, wr blue, rw red, process green, realtime orange), labelled with the kind.
//! The edges come from the cycle's Graphviz text (the checker's `dot`), the boxes from its
//! `txns`.

use super::plot::{svg_sized, Error, FONT};
use plotters::prelude::*;
use serde_json::Value;

/// `(from, to, kind)` for every edge line of a dot text: `"T1" -> "T2" [label="ww", ...]`.
pub fn dot_edges(dot: &str) -> Vec<(String, String, String)> {
    let quoted = |s: &str| -> Option<String> {
        let s = s.trim();
        Some(s.strip_prefix('"')?.split('"').next()?.to_string())
    };
    dot.lines()
        .filter_map(|line| {
            let (a, rest) = line.split_once("->")?;
            let b = quoted(rest)?;
            let kind = rest
                .split_once("label=\"")
                .and_then(|(_, l)| l.split('"').next())
                .unwrap_or("")
                .to_string();
            Some((quoted(a)?, b, kind))
        })
        .collect()
}

fn kind_color(kind: &str) -> RGBColor {
    match kind {
        "ww" => RGBColor(0, 0, 0),
        "wr" => RGBColor(31, 119, 180),
        "rw" => RGBColor(214, 39, 40),
        "process" => RGBColor(0, 120, 0),
        _ => RGBColor(230, 120, 0),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    s.chars().take(max - 1).collect::<String>() + "…"
}

const W: u32 = 760;
const BOX: (i32, i32) = (230, 44);

/// Draws the cycle of `anomaly` (None when it has no edges to draw).
pub fn draw(anomaly: &Value) -> Option<Result<String, Error>> {
    let edges = dot_edges(anomaly["dot"].as_str()?);
    if edges.is_empty() {
        return None;
    }
    // Nodes in cycle order: the txns list, then any name only the edges use.
    let mut names: Vec<String> = anomaly["txns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    for (a, b, _) in &edges {
        for n in [a, b] {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let names: Vec<String> = names.into_iter().take(12).collect();
    let txn = |name: &str| {
        anomaly["txns"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"].as_str() == Some(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let k = names.len();
    let radius = if k <= 2 {
        210.0
    } else {
        120.0 + 18.0 * k as f64
    };
    let height = (2.0 * radius * if k <= 2 { 0.0 } else { 1.0 }) as u32 + 2 * BOX.1 as u32 + 60;
    let (cx, cy) = (W as f64 / 2.0, height as f64 / 2.0);
    let centre = |i: usize| -> (f64, f64) {
        let a = std::f64::consts::PI * (1.0 + 2.0 * i as f64 / k as f64);
        if k <= 2 {
            (cx + radius * a.cos(), cy)
        } else {
            (cx + radius * a.cos(), cy + radius * a.sin() * 0.8)
        }
    };
    Some(svg_sized((W, height), |root| {
        let e = |e: plotters::drawing::DrawingAreaErrorKind<std::io::Error>| e.to_string();
        for (a, b, kind) in &edges {
            let (Some(i), Some(j)) = (
                names.iter().position(|n| n == a),
                names.iter().position(|n| n == b),
            ) else {
                continue;
            };
            let (p, q) = (centre(i), centre(j));
            let (dx, dy) = (q.0 - p.0, q.1 - p.1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            // Two edges between the same pair run side by side.
            let (ox, oy) = (-uy * 9.0, ux * 9.0);
            // Leave the boxes: shorten to where the line meets a box's border.
            let cut = ((BOX.0 as f64 / 2.0) / ux.abs().max(1e-9))
                .min((BOX.1 as f64 / 2.0) / uy.abs().max(1e-9))
                + 4.0;
            let from = (p.0 + ux * cut + ox, p.1 + uy * cut + oy);
            let to = (q.0 - ux * cut + ox, q.1 - uy * cut + oy);
            let c = kind_color(kind);
            let px = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
            root.draw(&PathElement::new(vec![px(from), px(to)], c.stroke_width(2)))
                .map_err(e)?;
            let head = vec![
                px(to),
                px((to.0 - ux * 11.0 - uy * 5.0, to.1 - uy * 11.0 + ux * 5.0)),
                px((to.0 - ux * 11.0 + uy * 5.0, to.1 - uy * 11.0 - ux * 5.0)),
            ];
            root.draw(&Polygon::new(head, c.filled())).map_err(e)?;
            let mid = (
                (from.0 + to.0) / 2.0 + ox * 1.3,
                (from.1 + to.1) / 2.0 + oy * 1.3,
            );
            root.draw(&Text::new(
                kind.clone(),
                px(mid),
                (FONT, 12).into_font().color(&c),
            ))
            .map_err(e)?;
        }
        for (i, name) in names.iter().enumerate() {
            let (x, y) = centre(i);
            let (x0, y0) = (x as i32 - BOX.0 / 2, y as i32 - BOX.1 / 2);
            let t = txn(name);
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + BOX.0, y0 + BOX.1)],
                RGBColor(245, 245, 255).filled(),
            ))
            .map_err(e)?;
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + BOX.0, y0 + BOX.1)],
                RGBColor(90, 90, 140).stroke_width(1),
            ))
            .map_err(e)?;
            let head = match t["process"].as_str() {
                Some(p) => format!("{name} · process {p}"),
                None => name.clone(),
            };
            root.draw(&Text::new(head, (x0 + 5, y0 + 5), (FONT, 12).into_font()))
                .map_err(e)?;
            let ops = if t["value"].is_null() {
                String::new()
            } else {
                t["value"].to_string()
            };
            root.draw(&Text::new(
                truncate(&ops, 36),
                (x0 + 5, y0 + 24),
                ("monospace", 11).into_font(),
            ))
            .map_err(e)?;
        }
        Ok(())
    }))
}
