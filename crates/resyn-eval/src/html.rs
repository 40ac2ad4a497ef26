//! A self-contained HTML report: one file, inline CSS and SVG, no scripts,
//! no external resources, so it opens anywhere and can be archived.
//!
//! Sections: the runs compared; benchmark bars (mean@k per suite, one bar
//! per run, 95 % Wilson whiskers) and per-subtask bars; solve rate vs
//! difficulty per environment (one line per run, with whiskers); summary
//! tables; and, for exactly two runs, the significance table of
//! [`crate::compare`].
//!
//! Plot elements carry classes and `data-*` attributes (`rect.bar`
//! `data-run`/`data-suite`/`data-group`/`data-value`, `circle.pt`
//! `data-run`/`data-env`/`data-difficulty`/`data-value`) so tests can check
//! what is drawn.

use std::fmt::Write;

use crate::compare::compare;
use crate::report::{Report, Stats};

const COLORS: [&str; 6] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1",
];

/// Escape text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
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

fn color(i: usize) -> &'static str {
    COLORS[i % COLORS.len()]
}

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

fn legend(out: &mut String, runs: &[(String, &Report)]) {
    out.push_str("<div class=\"legend\">");
    for (i, (label, _)) in runs.iter().enumerate() {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            color(i),
            escape(label)
        );
    }
    out.push_str("</div>\n");
}

/// Vertical grouped bars: one cluster per category, one bar per run.
fn bar_chart(
    out: &mut String,
    title: &str,
    categories: &[(String, String)],
    runs: &[(String, &Report)],
    value: impl Fn(&Report, &str, &str) -> Option<Stats>,
) {
    let rotate = categories.len() > 3;
    // Rotated labels reach left of their cluster: leave room for the first.
    let (h, top, left) = (260.0, 24.0, if rotate { 110.0 } else { 44.0 });
    let bottom = if rotate { 96.0 } else { 40.0 };
    let h = h + bottom - 40.0;
    let bar_w = 26.0;
    let gap = 18.0;
    let cluster = bar_w * runs.len() as f64;
    let w = left + categories.len() as f64 * (cluster + gap) + gap;
    let plot_h = h - top - bottom;
    let y = |v: f64| top + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let _ = write!(
        out,
        "<figure><figcaption>{}</figcaption><svg class=\"chart\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" aria-label=\"{}\">",
        escape(title),
        escape(title)
    );
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{w:.0}\" y1=\"{0:.1}\" y2=\"{0:.1}\"/><text class=\"tick\" x=\"{1}\" y=\"{2:.1}\" text-anchor=\"end\">{3:.0}%</text>",
            y(t),
            left - 6.0,
            y(t) + 4.0,
            t * 100.0
        );
    }
    for (ci, (suite, group)) in categories.iter().enumerate() {
        let x0 = left + gap + ci as f64 * (cluster + gap);
        for (ri, (label, report)) in runs.iter().enumerate() {
            let Some(st) = value(report, suite, group) else {
                continue;
            };
            let x = x0 + ri as f64 * bar_w;
            let (yt, yb) = (y(st.mean), y(0.0));
            let _ = write!(
                out,
                "<rect class=\"bar\" data-run=\"{}\" data-suite=\"{}\" data-group=\"{}\" data-value=\"{:.6}\" x=\"{x:.1}\" y=\"{yt:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {} {}%</title></rect>",
                escape(label),
                escape(suite),
                escape(group),
                st.mean,
                bar_w - 3.0,
                (yb - yt).max(0.0),
                color(ri),
                escape(label),
                escape(group),
                pct(st.mean)
            );
            let cx = x + (bar_w - 3.0) / 2.0;
            let _ = write!(
                out,
                "<line class=\"whisker\" x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text class=\"val\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                y(st.ci.0),
                y(st.ci.1),
                y(st.ci.1) - 4.0,
                pct(st.mean)
            );
        }
        let label = if group == suite {
            suite.to_uppercase()
        } else {
            group.clone()
        };
        let short: String = label.chars().take(24).collect();
        let (cx, cy) = (x0 + cluster / 2.0, h - bottom + 14.0);
        if rotate {
            let _ = write!(
                out,
                "<text class=\"cat\" x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"end\" transform=\"rotate(-35 {cx:.1} {cy:.1})\">{}</text>",
                escape(&short)
            );
        } else {
            let _ = write!(
                out,
                "<text class=\"cat\" x=\"{cx:.1}\" y=\"{cy:.1}\" text-anchor=\"middle\">{}</text>",
                escape(&short)
            );
        }
    }
    out.push_str("</svg></figure>\n");
}

/// Solve rate vs difficulty for one environment, one line per run.
fn curve_chart(out: &mut String, env: &str, runs: &[(String, &Report)]) {
    let (w, h, top, bottom, left, right) = (300.0, 200.0, 14.0, 34.0, 40.0, 12.0);
    let levels: Vec<u8> = {
        let mut v: Vec<u8> = runs
            .iter()
            .filter_map(|(_, r)| group(r, crate::item::ENVS_SUITE, env))
            .flat_map(|g| g.by_difficulty.iter().map(|l| l.difficulty))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (lo, hi) = (
        f64::from(*levels.first().unwrap_or(&1)),
        f64::from(*levels.last().unwrap_or(&1)),
    );
    let span = (hi - lo).max(1.0);
    let x = |d: f64| left + (w - left - right) * (d - lo) / span;
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v.clamp(0.0, 1.0));
    let _ = write!(
        out,
        "<figure class=\"env\"><figcaption>{}</figcaption><svg class=\"chart curve\" data-env=\"{}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"solve rate vs difficulty for {}\">",
        escape(env),
        escape(env),
        escape(env)
    );
    for t in [0.0, 0.5, 1.0] {
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{0:.0}\" y1=\"{1:.1}\" y2=\"{1:.1}\"/><text class=\"tick\" x=\"{2:.0}\" y=\"{3:.1}\" text-anchor=\"end\">{4:.0}%</text>",
            w - right,
            y(t),
            left - 5.0,
            y(t) + 4.0,
            t * 100.0
        );
    }
    for d in &levels {
        let _ = write!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{d}</text>",
            x(f64::from(*d)),
            h - bottom + 15.0
        );
    }
    let _ = write!(
        out,
        "<text class=\"axis\" x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">difficulty</text>",
        (left + w - right) / 2.0,
        h - 4.0
    );
    for (ri, (label, report)) in runs.iter().enumerate() {
        let Some(g) = group(report, crate::item::ENVS_SUITE, env) else {
            continue;
        };
        // Runs are nudged apart so equal values stay visible.
        let dx = (ri as f64 - (runs.len() as f64 - 1.0) / 2.0) * 4.0;
        let x = |d: f64| x(d) + dx;
        let pts: Vec<(f64, f64)> = g
            .by_difficulty
            .iter()
            .filter(|l| l.stats.items > 0)
            .map(|l| (x(f64::from(l.difficulty)), y(l.stats.mean)))
            .collect();
        let path: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = write!(
            out,
            "<polyline class=\"line\" data-run=\"{}\" points=\"{}\" stroke=\"{}\"/>",
            escape(label),
            path.join(" "),
            color(ri)
        );
        for l in g.by_difficulty.iter().filter(|l| l.stats.items > 0) {
            let cx = x(f64::from(l.difficulty));
            let _ = write!(
                out,
                "<line class=\"ci\" x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\"/><circle class=\"pt\" data-run=\"{}\" data-env=\"{}\" data-difficulty=\"{}\" data-value=\"{:.6}\" cx=\"{cx:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"><title>{} d{}: {}% of {}</title></circle>",
                y(l.stats.ci.0),
                y(l.stats.ci.1),
                color(ri),
                escape(label),
                escape(env),
                l.difficulty,
                l.stats.mean,
                y(l.stats.mean),
                color(ri),
                escape(label),
                l.difficulty,
                pct(l.stats.mean),
                l.stats.samples
            );
        }
    }
    out.push_str("</svg></figure>\n");
}

fn group<'a>(r: &'a Report, suite: &str, name: &str) -> Option<&'a crate::report::GroupSummary> {
    r.suites
        .iter()
        .find(|s| s.suite == suite)?
        .groups
        .iter()
        .find(|g| g.name == name)
}

fn suite_stats(r: &Report, suite: &str, grp: &str) -> Option<Stats> {
    let s = r.suites.iter().find(|s| s.suite == suite)?;
    if grp == suite {
        Some(s.stats.clone())
    } else {
        s.groups
            .iter()
            .find(|g| g.name == grp)
            .map(|g| g.stats.clone())
    }
}

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}\
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}\
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}\
td:first-child,th:first-child{text-align:left}th{background:#f6f6f6}\
figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}figcaption{font-weight:600;margin-bottom:4px}\
.grid{stroke:#e4e4e4}.tick,.axis,.cat{font-size:11px;fill:#555}.val{font-size:10px;fill:#333}\
.whisker{stroke:#333;stroke-width:1}.ci{stroke-width:1.5;opacity:.55}.line{fill:none;stroke-width:2}\
.legend span{margin-right:16px}.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px}\
.sig{font-weight:700}.note{color:#666;font-size:12px}";

/// Render the report for `runs` (label, report); the first is the baseline.
pub fn render(runs: &[(String, &Report)]) -> String {
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>resyn evaluation</title>");
    let _ = write!(
        o,
        "<style>{STYLE}</style></head><body>\n<h1>resyn evaluation</h1>\n"
    );
    // Runs.
    o.push_str("<h2>Runs</h2><table><tr><th>run</th><th>model</th><th>endpoint</th><th>samples</th><th>temperature</th><th>items</th><th>complete</th><th>started</th></tr>");
    for (i, (label, r)) in runs.iter().enumerate() {
        let _ = write!(
            o,
            "<tr><td><span style=\"color:{}\">&#9632;</span> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            color(i),
            escape(label),
            escape(&r.config.run.model),
            escape(&r.config.base_url),
            r.config.run.samples,
            r.config
                .run
                .sampling
                .temperature
                .map_or("default".into(), |t| t.to_string()),
            r.items.len(),
            if r.complete { "yes" } else { "NO" },
            resyn_core::utc_minute(i64::try_from(r.config.started_at_unix).unwrap_or(i64::MAX))
        );
    }
    o.push_str("</table>\n");
    // Benchmarks.
    let mut bench_suites: Vec<String> = runs
        .iter()
        .flat_map(|(_, r)| r.suites.iter().map(|s| s.suite.clone()))
        .filter(|s| s != crate::item::ENVS_SUITE)
        .collect();
    bench_suites.sort();
    bench_suites.dedup();
    if !bench_suites.is_empty() {
        o.push_str("<h2>Benchmarks</h2>\n");
        legend(&mut o, runs);
        let cats: Vec<(String, String)> = bench_suites
            .iter()
            .map(|s| (s.clone(), s.clone()))
            .collect();
        bar_chart(&mut o, "mean@k by benchmark", &cats, runs, suite_stats);
        for suite in &bench_suites {
            let mut groups: Vec<String> = runs
                .iter()
                .filter_map(|(_, r)| r.suites.iter().find(|s| &s.suite == suite))
                .flat_map(|s| s.groups.iter().map(|g| g.name.clone()))
                .collect();
            groups.sort();
            groups.dedup();
            if groups.len() > 1 {
                let cats: Vec<(String, String)> =
                    groups.into_iter().map(|g| (suite.clone(), g)).collect();
                bar_chart(
                    &mut o,
                    &format!("{} subtasks", suite.to_uppercase()),
                    &cats,
                    runs,
                    suite_stats,
                );
            }
        }
        o.push_str("<p class=\"note\">Bars: mean@k (mean over items of the fraction of correct samples). Whiskers: 95% Wilson interval over samples.</p>\n");
    }
    // Environments.
    let mut envs: Vec<String> = runs
        .iter()
        .filter_map(|(_, r)| r.suites.iter().find(|s| s.suite == crate::item::ENVS_SUITE))
        .flat_map(|s| s.groups.iter().map(|g| g.name.clone()))
        .collect();
    envs.sort();
    envs.dedup();
    if !envs.is_empty() {
        o.push_str("<h2>Solve rate vs difficulty</h2>\n");
        legend(&mut o, runs);
        for env in &envs {
            curve_chart(&mut o, env, runs);
        }
        o.push_str("<p class=\"note\">Points: fraction of samples solved at each difficulty level. Whiskers: 95% Wilson interval.</p>\n");
    }
    // Tables.
    o.push_str("<h2>Summary</h2><table><tr><th>suite / group</th>");
    for (label, _) in runs {
        let _ = write!(o, "<th>{} mean@k %</th><th>items</th>", escape(label));
    }
    o.push_str("</tr>");
    let mut rows: Vec<(String, String)> = Vec::new();
    for (_, r) in runs {
        for s in &r.suites {
            rows.push((s.suite.clone(), s.suite.clone()));
            for g in &s.groups {
                if g.name != s.suite {
                    rows.push((s.suite.clone(), g.name.clone()));
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| seen.insert(r.clone()));
    for (suite, grp) in &rows {
        let name = if suite == grp {
            format!("<b>{}</b>", escape(suite))
        } else {
            format!("&nbsp;&nbsp;{}", escape(grp))
        };
        let _ = write!(o, "<tr><td>{name}</td>");
        for (_, r) in runs {
            match suite_stats(r, suite, grp) {
                Some(st) => {
                    let _ = write!(o, "<td>{}</td><td>{}</td>", pct(st.mean), st.items);
                }
                None => o.push_str("<td>-</td><td>-</td>"),
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</table>\n");
    if let [(la, a), (lb, b)] = runs {
        let cmp = compare(a, b);
        let _ = write!(
            o,
            "<h2>{} vs {}</h2><table><tr><th>suite / group</th><th>items</th><th>{} %</th><th>{} %</th><th>difference (pts)</th><th>95% CI</th><th>p</th><th>test</th></tr>",
            escape(lb),
            escape(la),
            escape(la),
            escape(lb)
        );
        for r in &cmp.rows {
            let d = &r.difference;
            let name = r
                .group
                .as_ref()
                .map_or(format!("<b>{}</b>", escape(&r.suite)), |g| {
                    format!("&nbsp;&nbsp;{}", escape(g))
                });
            let _ = write!(
                o,
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{:+.1}</td><td>[{:+.1}, {:+.1}]</td><td>{:.4}</td><td>{}</td></tr>",
                r.paired_items.max(r.items_a.min(r.items_b)),
                pct(r.mean_a),
                pct(r.mean_b),
                if d.p < 0.05 { "sig" } else { "" },
                d.diff * 100.0,
                d.ci.0 * 100.0,
                d.ci.1 * 100.0,
                d.p,
                escape(&d.test)
            );
        }
        o.push_str("</table><p class=\"note\">Bold differences: p &lt; 0.05. Paired bootstrap over shared items (10,000 resamples); two-proportion z-test when no items are shared.</p>\n");
    }
    o.push_str("</body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
