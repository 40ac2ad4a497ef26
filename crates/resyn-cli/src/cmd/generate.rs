//! `resyn generate`: instances as JSON Lines.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use crate::output::Output;
use crate::registry::EnvSources;

/// Arguments of `resyn generate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Environment ids (see `resyn envs`).
    #[arg(required = true)]
    envs: Vec<String>,
    /// Instances per environment and difficulty level.
    #[arg(long, short = 'n', default_value_t = 1)]
    count: u64,
    /// First seed; instance k uses seed + k.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Difficulty level `D` or range `A-B` (inclusive).
    #[arg(long, short = 'd', default_value = "1", value_parser = parse_difficulty)]
    difficulty: (u8, u8),
    /// Output file (written atomically); stdout when absent.
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
}

/// Parse `D` or `A-B`.
pub(crate) fn parse_difficulty(s: &str) -> Result<(u8, u8), String> {
    let num = |t: &str| {
        t.trim()
            .parse::<u8>()
            .map_err(|_| format!("`{t}` is not a difficulty (an integer 1-10)"))
    };
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(s)?, num(s)?),
    };
    if a > b {
        return Err(format!("difficulty range `{s}` is empty"));
    }
    Ok((a, b))
}

/// Run the command.
pub(crate) fn run(args: &Args, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let registry = sources.registry()?;
    let (lo, hi) = args.difficulty;
    let mut out = Output::open(args.out.as_deref())?;
    let mut total = 0u64;
    for id in &args.envs {
        let env = registry
            .get(id)
            .map_err(|e| anyhow::anyhow!("{e} (run `resyn envs` to list environments)"))?;
        let m = env.meta();
        if lo < m.min_difficulty || hi > m.max_difficulty {
            bail!(
                "difficulty {lo}-{hi} is outside {}..={} for environment `{id}`",
                m.min_difficulty,
                m.max_difficulty
            );
        }
        let requests: Vec<(u64, u8)> = (lo..=hi)
            .flat_map(|d| (0..args.count).map(move |k| (args.seed.wrapping_add(k), d)))
            .collect();
        // Chunks keep memory bounded for large counts while staying parallel.
        for chunk in requests.chunks(4096) {
            let parts = resyn_core::parallel::map(
                &chunk.chunks(64).collect::<Vec<_>>(),
                resyn_core::parallel::threads(),
                |c| env.generate_batch(c),
            );
            for inst in parts.into_iter().flatten() {
                let inst = inst?;
                serde_json::to_writer(&mut out, &inst)?;
                out.write_all(b"\n")?;
                total += 1;
            }
        }
    }
    out.finish()?;
    eprintln!("generated {total} instances");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_forms() {
        assert_eq!(parse_difficulty("3"), Ok((3, 3)));
        assert_eq!(parse_difficulty("2-5"), Ok((2, 5)));
        assert!(parse_difficulty("5-2").is_err());
        assert!(parse_difficulty("x").is_err());
        assert!(parse_difficulty("300").is_err());
    }
}
