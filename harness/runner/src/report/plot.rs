//! The time plots, drawn with plotters' SVG backend: latency (a point per op, log scale)
//! and throughput (completions per second) per op type and outcome, with every fault window
//! shaded and labelled with its fault and nodes. All of them, the node lanes and the
//! node-log marks share one time axis ([`WIDTH`], [`LEFT`], [`RIGHT`]), so they line up.
//!
//! Text is drawn by the browser: plotters' SVG backend writes `<text>` elements, and its
//! built-in size estimate (no font feature) is enough to lay the axes out.

use super::series::{OpSeries, Outcome, Series, GRID};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width of every time plot, the room for the y labels on its left and the margin right.
pub const WIDTH: u32 = GRID.0 as u32 + LEFT + RIGHT;
pub const LEFT: u32 = 90;
pub const RIGHT: u32 = 20;
/// Font for every label.
pub const FONT: &str = "sans-serif";

/// A fault window as drawn: where it is, what it says, its colour.
#[derive(Clone, Debug)]
pub struct Band {
    pub start_s: f64,
    pub end_s: f64,
    pub label: String,
    pub kind: FaultKind,
}

/// What a fault does to a node, for its colour and the lanes' words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    Killed,
    Paused,
    CutOff,
    Skewed,
    Disk,
    Other,
}

impl FaultKind {
    pub fn of(fault: &str) -> FaultKind {
        let f = fault.to_ascii_lowercase();
        if f.contains("kill") || f.contains("crash") {
            FaultKind::Killed
        } else if f.contains("pause") || f.contains("stop") {
            FaultKind::Paused
        } else if f.contains("partition") || f.contains("link") || f.contains("net") {
            FaultKind::CutOff
        } else if f.contains("skew") || f.contains("clock") || f.contains("strobe") {
            FaultKind::Skewed
        } else if f.contains("disk") || f.contains("io_") {
            FaultKind::Disk
        } else {
            FaultKind::Other
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            FaultKind::Killed => "killed",
            FaultKind::Paused => "paused",
            FaultKind::CutOff => "cut off",
            FaultKind::Skewed => "clock skewed",
            FaultKind::Disk => "disk fault",
            FaultKind::Other => "fault",
        }
    }

    pub fn color(self) -> RGBColor {
        match self {
            FaultKind::Killed => RGBColor(214, 39, 40),
            FaultKind::Paused => RGBColor(148, 103, 189),
            FaultKind::CutOff => RGBColor(31, 119, 180),
            FaultKind::Skewed => RGBColor(23, 190, 207),
            FaultKind::Disk => RGBColor(140, 86, 75),
            FaultKind::Other => RGBColor(127, 127, 127),
        }
    }
}

pub fn outcome_color(o: Outcome) -> RGBColor {
    match o {
        Outcome::Ok => RGBColor(44, 160, 44),
        Outcome::Fail => RGBColor(214, 39, 40),
        Outcome::Info => RGBColor(255, 127, 14),
    }
}

pub type Error = String;

fn err<E: std::fmt::Display>(e: E) -> Error {
    e.to_string()
}

/// Draws into a fresh SVG string of `WIDTH` x `height`.
pub fn svg(
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), Error>,
) -> Result<String, Error> {
    svg_sized((WIDTH, height), draw)
}

/// Draws into a fresh SVG string of `size` pixels.
pub fn svg_sized(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<(), Error>,
) -> Result<String, Error> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// Shades and labels the fault windows on a chart whose y runs over `y` (labels in up to
/// three staggered rows at the top so neighbours do not overlap).
pub fn draw_bands<'a, 'b: 'a, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>,
    bands: &[Band],
    y: (f64, f64),
    labels: bool,
) -> Result<(), Error>
where
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(bands.iter().map(|b| {
            Rectangle::new(
                [(b.start_s, y.0), (b.end_s.max(b.start_s), y.1)],
                b.kind.color().mix(0.13).filled(),
            )
        }))
        .map_err(err)?;
    if labels {
        chart
            .draw_series(bands.iter().enumerate().map(|(i, b)| {
                EmptyElement::at((b.start_s, y.1))
                    + Text::new(
                        b.label.clone(),
                        (2, 2 + 11 * (i % 3) as i32),
                        (FONT, 10).into_font().color(&b.kind.color()),
                    )
            }))
            .map_err(err)?;
    }
    Ok(())
}

/// One op type's latency panel: a point per op at its invoke time, log scale.
pub fn latency_panel(f: &str, s: &OpSeries, all: &Series, bands: &[Band]) -> Result<String, Error> {
    let (lo, hi) = all.latency_range_ms;
    let (lo, hi) = (lo * 0.8, hi * 1.25);
    svg(GRID.1 as u32 + 50, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin_top(8)
            .margin_right(RIGHT)
            .x_label_area_size(26)
            .y_label_area_size(LEFT)
            .build_cartesian_2d(0f64..all.duration_s, (lo..hi).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(format!("{f} latency (ms)"))
            .x_desc("time (s)")
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 11))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        draw_bands(&mut chart, bands, (lo, hi), true)?;
        for o in Outcome::ALL {
            let c = outcome_color(o);
            let n = s.points.iter().filter(|p| p.outcome == o).count();
            chart
                .draw_series(
                    s.points
                        .iter()
                        .filter(|p| p.outcome == o)
                        .map(|p| Circle::new((p.t, p.latency_ms), 1, c.mix(0.7).filled())),
                )
                .map_err(err)?
                .label(format!("{} ({n})", o.name()))
                .legend(move |(x, y)| Circle::new((x, y), 3, c.filled()));
        }
        legend(&mut chart)
    })
}

fn legend<'a, 'b: 'a, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>,
) -> Result<(), Error>
where
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font((FONT, 10))
        .draw()
        .map_err(err)
}

/// One op type's throughput panel: completions per second, a line per outcome.
pub fn rate_panel(f: &str, s: &OpSeries, all: &Series, bands: &[Band]) -> Result<String, Error> {
    let per_s = |c: u32| c as f64 / all.bucket_s;
    let top = s
        .per_bucket
        .iter()
        .flatten()
        .map(|&c| per_s(c))
        .fold(1.0f64, f64::max)
        * 1.15;
    svg(150, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin_top(8)
            .margin_right(RIGHT)
            .x_label_area_size(26)
            .y_label_area_size(LEFT)
            .build_cartesian_2d(0f64..all.duration_s, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc(format!("{f} ops/s"))
            .x_desc("time (s)")
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 11))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        draw_bands(&mut chart, bands, (0.0, top), true)?;
        for o in Outcome::ALL {
            let c = outcome_color(o);
            let counts = &s.per_bucket[o as usize];
            if counts.iter().all(|&n| n == 0) {
                continue;
            }
            let total: u32 = counts.iter().sum();
            chart
                .draw_series(LineSeries::new(
                    counts
                        .iter()
                        .enumerate()
                        .map(|(i, &n)| ((i as f64 + 0.5) * all.bucket_s, per_s(n))),
                    c.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("{} ({total})", o.name()))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x - 6, y), (x + 6, y)], c.stroke_width(2))
                });
        }
        legend(&mut chart)
    })
}
