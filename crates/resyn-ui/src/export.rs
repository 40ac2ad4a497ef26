//! `resyn gallery --out DIR`: the server's pages as static files, plus
//! `GALLERY.md` (one sample per environment) for a repository or a dataset
//! card.
//!
//! Layout of DIR: `index.html` (environments), `envs/NAME.html`,
//! `runs/index.html`, `runs/N.html`, `candidates/N.html`, `assets/` and
//! `GALLERY.md`. Links are relative, so the directory can be moved or
//! served from anywhere; LLM call bodies are left out. Every page is
//! rendered before anything is written, and each file is written
//! atomically: a failure leaves no half-written file. The same store and
//! environments give byte-identical files (samples are seeded, nothing
//! depends on the clock).

use std::path::{Path, PathBuf};

use crate::html::{APP_JS, Links, STYLE_CSS, file_stem, layout};
use crate::pages::env::SampleQuery;
use crate::pages::envs::{Filter, rows};
use crate::pages::{self, footer};
use crate::state::{Ctx, StoreView};
use crate::{Error, UiError, UiState, markdown};

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Environment pages.
    pub environments: usize,
    /// Run pages.
    pub runs: usize,
    /// Candidate pages.
    pub candidates: usize,
    /// Files written, assets and `GALLERY.md` included.
    pub files: usize,
}

/// Write the gallery of `state` into `out` (created if needed; files of an
/// earlier export are replaced).
///
/// # Errors
/// [`Error::Store`] when the store is named but missing or unreadable;
/// [`Error::Page`] when a page cannot be rendered; [`Error::Write`].
pub fn export(state: &UiState, out: &Path) -> Result<ExportSummary, Error> {
    let mut ctx = state.ctx(Links::static_at(0));
    match &ctx.store {
        StoreView::Missing(p) => {
            return Err(Error::Store(format!(
                "store {} does not exist",
                p.display()
            )));
        }
        StoreView::Failed { path, message, .. } => {
            return Err(Error::Store(format!("store {}: {message}", path.display())));
        }
        StoreView::None | StoreView::Open { .. } => {}
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut page = |ctx: &Ctx, path: PathBuf, p: Result<crate::html::Page, UiError>| {
        let p = p.map_err(|e| Error::Page {
            page: path.display().to_string(),
            message: e.message,
        })?;
        files.push((
            path,
            layout(&p, &ctx.links, &footer(ctx))
                .into_string()
                .into_bytes(),
        ));
        Ok::<_, Error>(())
    };
    page(
        &ctx,
        "index.html".into(),
        Ok(pages::envs::page(&ctx, &Filter::default())),
    )?;
    ctx.links = Links::static_at(1);
    let (envs, _) = rows(&ctx);
    for r in &envs {
        let path = PathBuf::from("envs").join(format!("{}.html", file_stem(&r.id)));
        page(
            &ctx,
            path,
            pages::env::page(&ctx, &r.id, SampleQuery::default()),
        )?;
    }
    let (mut n_runs, mut n_cands) = (0, 0);
    if let StoreView::Open { store, .. } = &ctx.store {
        let store_err = |e: resyn_store::Error| Error::Store(resyn_core::error_chain(&e));
        page(&ctx, "runs/index.html".into(), pages::runs::list(&ctx))?;
        for run in store.runs().map_err(store_err)? {
            page(
                &ctx,
                format!("runs/{}.html", run.id).into(),
                pages::runs::detail(&ctx, run.id),
            )?;
            n_runs += 1;
            for c in store.candidate_outcomes(run.id).map_err(store_err)? {
                let path = format!("candidates/{}.html", c.id).into();
                page(&ctx, path, pages::candidates::page(&ctx, c.id))?;
                n_cands += 1;
            }
        }
    } else {
        page(&ctx, "runs/index.html".into(), Ok(no_runs()))?;
    }
    files.push(("assets/style.css".into(), STYLE_CSS.as_bytes().to_vec()));
    files.push(("assets/app.js".into(), APP_JS.as_bytes().to_vec()));
    files.push((
        "GALLERY.md".into(),
        markdown::gallery(&ctx, &envs).into_bytes(),
    ));
    for (rel, bytes) in &files {
        write(&out.join(rel), bytes)?;
    }
    Ok(ExportSummary {
        environments: envs.len(),
        runs: n_runs,
        candidates: n_cands,
        files: files.len(),
    })
}

fn no_runs() -> crate::html::Page {
    crate::html::Page::new(
        "Runs",
        crate::html::Nav::Runs,
        maud::html! {
            h1 { "Runs" }
            p { "This gallery was exported without a synthesis store, so it has no runs." }
        },
    )
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    resyn_core::write_atomic(path, bytes).map_err(err)
}
