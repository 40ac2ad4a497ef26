//! Compare curricula on the simulated learning policy of
//! `resyn_curriculum::sim` and write the results for `docs/curriculum.md`.
//!
//! ```sh
//! cargo run -p resyn-curriculum --example simulate --features plot -- --out docs
//! ```
//!
//! Prints two Markdown tables to stdout: the three strategies (mean over
//! seeds, with the range), and the controller's sensitivity to each
//! parameter varied alone. With `--out DIR`: replaces the tables between
//! the `sim-table` and `sim-sweep` markers of `DIR/curriculum.md` and,
//! with the `plot` feature, draws
//! `DIR/curriculum.png` (learning-signal fraction and mean skill per step,
//! averaged over seeds). `--seeds N` (default 5) sets how many scenario
//! seeds (0..N) are averaged.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use resyn_curriculum::CurriculumConfig;
use resyn_curriculum::sim::{RlveParams, Scenario, SimResult, Strategy, simulate};

fn main() -> anyhow::Result<()> {
    let mut out: Option<PathBuf> = None;
    let mut seeds = 5u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = Some(args.next().context("--out needs a directory")?.into()),
            "--seeds" => {
                seeds = args
                    .next()
                    .context("--seeds needs a number")?
                    .parse()
                    .context("--seeds needs a number")?;
            }
            other => bail!("unknown argument `{other}` (use --out DIR, --seeds N)"),
        }
    }
    if seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let strategies = [
        Strategy::Uniform,
        Strategy::Rlve(RlveParams::default()),
        Strategy::Resyn(CurriculumConfig::default()),
    ];
    // runs[strategy][seed]
    let mut runs: Vec<Vec<SimResult>> = vec![Vec::new(); strategies.len()];
    for seed in 0..seeds {
        let scenario = Scenario {
            seed,
            ..Scenario::default()
        };
        for (i, s) in strategies.iter().enumerate() {
            runs[i].push(simulate(&scenario, s)?);
        }
    }
    let table = table(&runs, seeds);
    let sweep = sweep(seeds)?;
    print!("{table}\n{sweep}");
    if let Some(dir) = out {
        let doc = dir.join("curriculum.md");
        let text =
            std::fs::read_to_string(&doc).with_context(|| format!("reading {}", doc.display()))?;
        let text = replace_between(&text, "sim-table", &table)
            .with_context(|| format!("{}", doc.display()))?;
        let updated = replace_between(&text, "sim-sweep", &sweep)
            .with_context(|| format!("{}", doc.display()))?;
        resyn_core::write_atomic(&doc, updated.as_bytes())
            .with_context(|| format!("writing {}", doc.display()))?;
        eprintln!("updated {}", doc.display());
        #[cfg(feature = "plot")]
        {
            let png = dir.join("curriculum.png");
            plot::draw(&png, &runs)?;
            eprintln!("wrote {}", png.display());
        }
        #[cfg(not(feature = "plot"))]
        eprintln!("no plot drawn: build with --features plot");
    }
    Ok(())
}

/// `text` with the lines between `<!-- NAME:begin -->` and
/// `<!-- NAME:end -->` replaced by `body`.
fn replace_between(text: &str, name: &str, body: &str) -> anyhow::Result<String> {
    let (begin, end) = (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    );
    let (Some(a), Some(b)) = (text.find(&begin), text.find(&end)) else {
        bail!("no {begin} ... {end} markers");
    };
    Ok(format!("{}{begin}\n{body}{}", &text[..a], &text[b..]))
}

/// The controller with one parameter changed at a time, against the
/// defaults: mean learning-signal fraction, final skill and waste.
fn sweep(seeds: u64) -> anyhow::Result<String> {
    let base = CurriculumConfig::default();
    let mut variants: Vec<(String, CurriculumConfig)> = vec![("defaults".into(), base.clone())];
    for (lo, hi) in [(0.2, 0.8), (0.4, 0.6)] {
        variants.push((
            format!("target_low/high = {lo}/{hi}"),
            CurriculumConfig {
                target_low: lo,
                target_high: hi,
                ..base.clone()
            },
        ));
    }
    for v in [16, 256] {
        variants.push((
            format!("min_samples = {v}"),
            CurriculumConfig {
                min_samples: v,
                ..base.clone()
            },
        ));
    }
    for v in [1.0, 16.0] {
        variants.push((
            format!("gain = {v}"),
            CurriculumConfig {
                gain: v,
                ..base.clone()
            },
        ));
    }
    for v in [1.0, 3.0] {
        variants.push((
            format!("spread = {v}"),
            CurriculumConfig {
                spread: v,
                ..base.clone()
            },
        ));
    }
    for v in [0.01, 1.0] {
        variants.push((
            format!(
                "weight_floor = {v}{}",
                if v == 1.0 { " (no weighting)" } else { "" }
            ),
            CurriculumConfig {
                weight_floor: v,
                ..base.clone()
            },
        ));
    }
    for v in [0, 1] {
        variants.push((
            format!(
                "retire_after = {v}{}",
                if v == 0 { " (never retire)" } else { "" }
            ),
            CurriculumConfig {
                retire_after: v,
                ..base.clone()
            },
        ));
    }
    let mut t = String::from(
        "| controller | learning-signal fraction | final mean skill | prompts on saturated environments |\n\
         |---|---|---|---|\n",
    );
    for (name, config) in variants {
        let strategy = Strategy::Resyn(config);
        let runs = (0..seeds)
            .map(|seed| {
                let scenario = Scenario {
                    seed,
                    ..Scenario::default()
                };
                simulate(&scenario, &strategy)
            })
            .collect::<Result<Vec<_>, _>>()?;
        writeln!(
            t,
            "| {name} | {:.3} | {:.2} | {:.3} |",
            stat(&runs, |x| x.signal_fraction).0,
            stat(&runs, |x| x.final_skill).0,
            stat(&runs, |x| x.wasted_fraction).0
        )
        .unwrap();
    }
    Ok(t)
}

/// Mean and range over seeds.
fn stat(runs: &[SimResult], f: impl Fn(&SimResult) -> f64) -> (f64, f64, f64) {
    let v: Vec<f64> = runs.iter().map(f).collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, lo, hi)
}

fn table(runs: &[Vec<SimResult>], seeds: u64) -> String {
    let s = Scenario::default();
    let mut t = String::new();
    writeln!(
        t,
        "{} environments, {} steps x {} prompts x G = {} ({} responses per run); \
         mean over scenario seeds 0-{} (range in brackets); initial mean skill {:.2}.\n",
        s.envs,
        s.steps,
        s.prompts_per_step,
        s.group_size,
        s.steps * s.prompts_per_step * s.group_size as usize,
        seeds - 1,
        stat(&runs[0], |r| r.initial_skill).0,
    )
    .unwrap();
    t.push_str(
        "| strategy | learning-signal fraction (0 < k < G) | final mean skill | \
         prompts on saturated environments |\n|---|---|---|---|\n",
    );
    for r in runs {
        let sig = stat(r, |x| x.signal_fraction);
        let skill = stat(r, |x| x.final_skill);
        let waste = stat(r, |x| x.wasted_fraction);
        writeln!(
            t,
            "| {} | {:.3} [{:.3}-{:.3}] | {:.2} [{:.2}-{:.2}] | {:.3} [{:.3}-{:.3}] |",
            r[0].strategy,
            sig.0,
            sig.1,
            sig.2,
            skill.0,
            skill.1,
            skill.2,
            waste.0,
            waste.1,
            waste.2
        )
        .unwrap();
    }
    t
}

#[cfg(feature = "plot")]
mod plot {
    use std::path::Path;

    use plotters::prelude::*;
    use plotters::style::FontStyle;
    use resyn_curriculum::sim::SimResult;

    /// Steps averaged per point of the learning-signal curve.
    const SMOOTH: usize = 10;

    pub fn draw(path: &Path, runs: &[Vec<SimResult>]) -> anyhow::Result<()> {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| anyhow::anyhow!("the embedded font does not load"))?;
        let root = BitMapBackend::new(path, (1400, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, 2));
        let colors = [
            RGBColor(120, 120, 120),
            RGBColor(214, 96, 39),
            RGBColor(31, 119, 180),
        ];
        let steps = runs[0][0].steps.len();
        // Per strategy: the per-step mean over seeds.
        let mean = |r: &[SimResult], f: &dyn Fn(usize, &SimResult) -> f64| -> Vec<f64> {
            (0..steps)
                .map(|i| r.iter().map(|x| f(i, x)).sum::<f64>() / r.len() as f64)
                .collect()
        };
        let signal: Vec<Vec<f64>> = runs
            .iter()
            .map(|r| {
                let raw = mean(r, &|i, x| x.steps[i].signal_fraction);
                (0..steps)
                    .map(|i| {
                        let lo = i.saturating_sub(SMOOTH - 1);
                        raw[lo..=i].iter().sum::<f64>() / (i - lo + 1) as f64
                    })
                    .collect()
            })
            .collect();
        let skill: Vec<Vec<f64>> = runs
            .iter()
            .map(|r| mean(r, &|i, x| x.steps[i].mean_skill))
            .collect();
        let (lo, hi) = skill
            .iter()
            .flatten()
            .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let series = [
            (
                &panels[0],
                "Learning-signal fraction (0 < k < G), 10-step mean",
                &signal,
                (0.0, 1.0),
            ),
            (
                &panels[1],
                "Mean skill over environments",
                &skill,
                (lo.floor(), hi.ceil()),
            ),
        ];
        for (area, title, data, (y0, y1)) in series {
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 22))
                .margin(14)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d(0..steps, y0..y1)?;
            chart
                .configure_mesh()
                .x_desc("training step")
                .label_style(("sans-serif", 15))
                .draw()?;
            for ((run, values), color) in runs.iter().zip(data.iter()).zip(colors) {
                chart
                    .draw_series(LineSeries::new(
                        values.iter().enumerate().map(|(i, &v)| (i, v)),
                        color.stroke_width(2),
                    ))?
                    .label(run[0].strategy)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 16))
                .position(SeriesLabelPosition::LowerRight)
                .draw()?;
        }
        root.present()?;
        Ok(())
    }
}
