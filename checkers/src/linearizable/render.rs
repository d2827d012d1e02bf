//! A counterexample drawn as a self-contained HTML fragment with an inline SVG time line.
//!
//! One row per process; each op is a bar from its call to its return (positions in the
//! history, ranked so the picture stays compact); an op that never returned runs to the
//! right edge with a dashed end. Linearized prefix ops are blue and numbered in
//! linearization order, ops that cannot follow are red, dead ends orange. Every bar has a
//! tooltip with the full description. No scripts, no external styles; the size is bounded
//! because a [`Counterexample`] holds at most 50 ops.

use super::counterexample::{truncate, Counterexample, OpRole};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const ROW_H: f64 = 30.0;
const BAR_H: f64 = 20.0;
const LABEL_W: f64 = 90.0;
const TOP: f64 = 24.0;

/// Renders `cx` as an HTML fragment (a `<div>` with a caption and an inline `<svg>`).
pub fn render_counterexample_html(cx: &Counterexample) -> String {
    // Process rows, numeric ids in numeric order.
    let mut rows: BTreeMap<(u8, u64, &str), usize> = BTreeMap::new();
    for o in &cx.ops {
        let k = match o.process.parse::<u64>() {
            Ok(n) => (0, n, &*o.process),
            Err(_) => (1, 0, &*o.process),
        };
        rows.insert(k, 0);
    }
    for (i, v) in rows.values_mut().enumerate() {
        *v = i;
    }
    let row_of = |p: &str| {
        rows.iter()
            .find(|((_, _, name), _)| *name == p)
            .map_or(0, |(_, &r)| r)
    };
    // Rank the finite event positions for the x axis.
    let mut points: Vec<u64> = cx
        .ops
        .iter()
        .flat_map(|o| std::iter::once(o.call).chain(o.ret))
        .collect();
    points.sort_unstable();
    points.dedup();
    let step = (1100.0 / (points.len().max(1) as f64)).clamp(14.0, 60.0);
    let x_of = |p: u64| LABEL_W + 10.0 + step * points.binary_search(&p).unwrap_or(0) as f64;
    let right = LABEL_W + 10.0 + step * points.len() as f64 + 40.0;
    let width = right + 10.0;
    let height = TOP + ROW_H * rows.len() as f64 + 10.0;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="monospace" font-size="10">"#
    );
    let _ = write!(
        svg,
        r##"<text x="4" y="14" fill="#555">process</text><text x="{:.0}" y="14" fill="#555">history order →</text>"##,
        LABEL_W + 10.0
    );
    for ((_, _, name), &r) in &rows {
        let y = TOP + ROW_H * r as f64;
        let _ = write!(
            svg,
            r##"<line x1="0" y1="{y:.0}" x2="{right:.0}" y2="{y:.0}" stroke="#eee"/><text x="4" y="{:.0}">{}</text>"##,
            y + ROW_H / 2.0 + 3.0,
            esc(&truncate(name, 12))
        );
    }
    for o in &cx.ops {
        let y = TOP + ROW_H * row_of(&o.process) as f64 + (ROW_H - BAR_H) / 2.0;
        let x0 = x_of(o.call);
        let x1 = o.ret.map_or(right, |r| x_of(r).max(x0 + 6.0));
        let (fill, stroke) = match o.role {
            OpRole::Linearized => ("#c6dbef", "#3182bd"),
            OpRole::CannotFollow => ("#fcbba1", "#cb181d"),
            OpRole::DeadEnd => ("#fdd0a2", "#e6550d"),
        };
        let dash = if o.ret.is_none() {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let order = o.order.map(|n| format!("#{n} ")).unwrap_or_default();
        let role = match o.role {
            OpRole::Linearized => "linearized",
            OpRole::CannotFollow => "cannot follow the prefix",
            OpRole::DeadEnd => "allowed next, but leads to a dead end",
        };
        let ret = o
            .ret
            .map_or("never returned".to_string(), |r| format!("returned at {r}"));
        let tip = format!(
            "{order}op {} (process {}): {} — {role}; called at {}, {ret}",
            o.index, o.process, o.description, o.call
        );
        let label = format!("{order}{}", o.description);
        let chars = (((x1 - x0) - 6.0) / 6.0).max(0.0) as usize;
        let _ = write!(
            svg,
            r#"<g><title>{}</title><rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{BAR_H}" rx="3" fill="{fill}" stroke="{stroke}"{dash}/>"#,
            esc(&tip),
            x1 - x0
        );
        if chars >= 2 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                x0 + 3.0,
                y + BAR_H / 2.0 + 3.5,
                esc(&truncate(&label, chars))
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");

    let mut html = String::new();
    let _ = write!(
        html,
        r#"<div class="faultline-linearizable-counterexample" style="font-family:sans-serif;font-size:13px">"#
    );
    let key = if cx.key.is_empty() {
        String::new()
    } else {
        format!(" — key {}", esc(&cx.key))
    };
    let _ = write!(
        html,
        "<p><strong>Not linearizable ({}){key}</strong>: {}</p>",
        esc(&cx.model.to_string()),
        esc(&cx.explanation)
    );
    let mut notes = Vec::new();
    if cx.prefix_omitted > 0 {
        notes.push(format!(
            "the first {} linearized ops are not drawn",
            cx.prefix_omitted
        ));
    }
    if cx.candidates_omitted > 0 {
        notes.push(format!(
            "{} more candidate ops are not drawn",
            cx.candidates_omitted
        ));
    }
    let _ = write!(
        html,
        r##"<p style="color:#555">Blue: the longest linearizable prefix, numbered in linearization order (state after it: {}). Red: ops that cannot follow it. Orange: ops allowed next that lead only to dead ends. Dashed: never returned.{}</p>"##,
        esc(&truncate(&cx.state_after_prefix, 80)),
        if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", esc(&notes.join("; ")))
        }
    );
    let _ = write!(html, r#"<div style="overflow-x:auto">{svg}</div></div>"#);
    html
}

/// Renders the counterexample inside a linearizable checker's `CheckResult::details`, if any.
pub fn render_details_html(details: &Value) -> Option<String> {
    let cx = details.get("counterexample")?;
    let cx: Counterexample = serde_json::from_value(cx.clone()).ok()?;
    Some(render_counterexample_html(&cx))
}
