//! `resyn ui`: the gallery, a read-only web UI over the environments and
//! the synthesis store; `resyn gallery`: the same pages as static files
//! (crate `resyn-ui`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use resyn_ui::UiState;

use crate::registry::EnvSources;

/// Arguments of `resyn ui`.
#[derive(Debug, clap::Args)]
pub(crate) struct UiArgs {
    /// Address to listen on (port 0 picks a free port; the URL is printed on
    /// stderr). Keep it on 127.0.0.1 unless the network may see the store.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
}

/// Arguments of `resyn gallery`.
#[derive(Debug, clap::Args)]
pub(crate) struct GalleryArgs {
    /// Directory to write (created if needed): index.html, envs/, runs/,
    /// candidates/, assets/ and GALLERY.md.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn state(sources: &EnvSources) -> anyhow::Result<UiState> {
    let state = UiState::new(sources.sources()?).context("starting the gallery")?;
    for w in state.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(state)
}

/// Run `resyn ui`: serve until Ctrl-C or SIGTERM.
pub(crate) fn run_ui(args: &UiArgs, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let state = state(sources)?;
    let n = state.environments();
    resyn_ui::run(args.addr, state, |addr| {
        eprintln!("resyn ui: http://{addr}/ ({n} environments, read-only); Ctrl-C to stop");
    })
    .with_context(|| format!("serving on {}", args.addr))?;
    eprintln!("resyn ui: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Run `resyn gallery`.
pub(crate) fn run_gallery(args: &GalleryArgs, sources: &EnvSources) -> anyhow::Result<ExitCode> {
    let state = state(sources)?;
    let s = resyn_ui::export(&state, &args.out)
        .with_context(|| format!("exporting the gallery to {}", args.out.display()))?;
    eprintln!(
        "resyn gallery: {} environments, {} runs, {} candidates: {} files in {} (open index.html; GALLERY.md for a README)",
        s.environments,
        s.runs,
        s.candidates,
        s.files,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
