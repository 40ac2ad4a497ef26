//! Charts as inline SVG, drawn on the server: the calibration curve (solve
//! rate per difficulty level) and a run's stage funnel. Colours come from
//! the stylesheet (classes), sizes from a `viewBox` so charts scale with
//! the page. Each chart is an image with a title and a description for
//! screen readers; pages put the same numbers in a table beside it.

use maud::{Markup, html};

/// One point of a calibration curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Level {
    pub(crate) difficulty: u8,
    pub(crate) n: u64,
    pub(crate) solved: u64,
}

impl Level {
    pub(crate) fn rate(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            let r = self.solved as f64 / self.n as f64;
            r
        }
    }
}

const W: f64 = 560.0;
const H: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 44.0;

fn num(x: f64) -> String {
    format!("{x:.1}")
}

/// Solve rate against difficulty; `id` makes element ids unique on a page.
pub(crate) fn calibration(id: &str, levels: &[Level], min: u8, max: u8) -> Markup {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let span = f64::from(max.saturating_sub(min).max(1));
    let x = |d: u8| LEFT + f64::from(d.saturating_sub(min)) / span * pw;
    let y = |r: f64| TOP + (1.0 - r.clamp(0.0, 1.0)) * ph;
    let mut pts: Vec<Level> = levels.to_vec();
    pts.sort_by_key(|l| l.difficulty);
    let line: Vec<String> = pts
        .iter()
        .map(|l| format!("{},{}", num(x(l.difficulty)), num(y(l.rate()))))
        .collect();
    let desc = pts
        .iter()
        .map(|l| format!("level {}: {} of {}", l.difficulty, l.solved, l.n))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        svg.chart viewBox={ "0 0 " (W) " " (H) } role="img"
            aria-labelledby={ (id) "-t " (id) "-d" } {
            title id={ (id) "-t" } { "Solve rate by difficulty" }
            desc id={ (id) "-d" } { (desc) }
            @for k in 0..=4u8 {
                @let r = f64::from(k) / 4.0;
                line.grid x1=(num(LEFT)) x2=(num(W - RIGHT)) y1=(num(y(r))) y2=(num(y(r))) {}
                text.tick x=(num(LEFT - 6.0)) y=(num(y(r) + 4.0)) text-anchor="end" {
                    (k * 25) "%"
                }
            }
            @for d in min..=max {
                text.tick x=(num(x(d))) y=(num(TOP + ph + 16.0)) text-anchor="middle" { (d) }
            }
            text.axis x=(num(LEFT + pw / 2.0)) y=(num(H - 6.0)) text-anchor="middle" { "difficulty" }
            polyline.curve points=(line.join(" ")) {}
            @for l in &pts {
                circle.pt cx=(num(x(l.difficulty))) cy=(num(y(l.rate()))) r="5"
                    data-difficulty=(l.difficulty) data-value=(format!("{:.4}", l.rate())) {
                    title { "difficulty " (l.difficulty) ": " (l.solved) " of " (l.n) " solved" }
                }
            }
        }
    }
}

/// One row of a stage funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunnelRow {
    pub(crate) stage: String,
    /// Candidates that passed the stage.
    pub(crate) passed: u64,
    /// Candidates finally rejected at the stage.
    pub(crate) rejected: u64,
}

const ROW: f64 = 30.0;
const LABEL_W: f64 = 140.0;
const BAR_W: f64 = 330.0;

/// Horizontal bars: per stage, candidates that passed it and candidates
/// rejected there, scaled to `total` (the candidates proposed).
pub(crate) fn funnel(id: &str, total: u64, rows: &[FunnelRow]) -> Markup {
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let scale = |n: u64| n as f64 / total.max(1) as f64 * BAR_W;
    #[allow(clippy::cast_precision_loss)] // a handful of rows
    let height = TOP + 26.0 + ROW * rows.len() as f64 + 8.0;
    let width = LABEL_W + BAR_W + 150.0;
    let desc = rows
        .iter()
        .map(|r| format!("{}: {} passed, {} rejected", r.stage, r.passed, r.rejected))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        svg.chart.funnel viewBox={ "0 0 " (width) " " (num(height)) } role="img"
            aria-labelledby={ (id) "-t " (id) "-d" } {
            title id={ (id) "-t" } { "Stage funnel of " (total) " proposed candidates" }
            desc id={ (id) "-d" } { (desc) }
            rect.bar-pass x=(num(LABEL_W)) y=(num(TOP)) width="12" height="12" {}
            text.legend x=(num(LABEL_W + 18.0)) y=(num(TOP + 11.0)) { "passed" }
            rect.bar-reject x=(num(LABEL_W + 90.0)) y=(num(TOP)) width="12" height="12" {}
            text.legend x=(num(LABEL_W + 108.0)) y=(num(TOP + 11.0)) { "rejected here" }
            @for (k, r) in rows.iter().enumerate() {
                @let y0 = TOP + 26.0 + ROW * f64::from(u32::try_from(k).unwrap_or(u32::MAX));
                @let (wp, wr) = (scale(r.passed), scale(r.rejected));
                text.label x=(num(LABEL_W - 8.0)) y=(num(y0 + 17.0)) text-anchor="end" { (r.stage) }
                rect.bar.bar-pass x=(num(LABEL_W)) y=(num(y0 + 4.0)) width=(num(wp)) height="18"
                    data-stage=(r.stage) data-value=(r.passed) {}
                rect.bar.bar-reject x=(num(LABEL_W + wp)) y=(num(y0 + 4.0)) width=(num(wr)) height="18"
                    data-stage=(r.stage) data-value=(r.rejected) {}
                text.count x=(num(LABEL_W + wp + wr + 6.0)) y=(num(y0 + 17.0)) {
                    (r.passed)
                    @if r.rejected > 0 { " · " (r.rejected) " rejected" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_sit_where_their_rates_are() {
        let lv = |d, n, s| Level {
            difficulty: d,
            n,
            solved: s,
        };
        let svg = calibration("c", &[lv(3, 4, 0), lv(1, 4, 4), lv(2, 4, 2)], 1, 3).into_string();
        // Sorted by difficulty; 100% at the top (y = TOP), 0% at the bottom.
        assert!(
            svg.contains("points=\"52.0,14.0 298.0,115.0 544.0,216.0\""),
            "{svg}"
        );
        assert!(svg.contains("difficulty 2: 2 of 4 solved"));
        let f = funnel(
            "f",
            10,
            &[FunnelRow {
                stage: "validate".into(),
                passed: 5,
                rejected: 5,
            }],
        )
        .into_string();
        assert!(f.contains("width=\"165.0\""), "{f}");
        assert!(f.contains("5 · 5 rejected"));
    }
}
