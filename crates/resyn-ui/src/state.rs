//! [`UiState`]: the sources the UI shows, the registry assembled from them,
//! and the store, opened read-only for each request.
//!
//! The store is opened anew per request ([`StoreView`]): a store created,
//! replaced or unlocked while the UI runs is seen at once, and a missing or
//! locked store is a state to show, never a failure to start. The registry
//! (native environments, directory modules, the store's environments) is
//! a [`Snapshot`], reassembled when the store's environments change (a
//! running `resyn synth` accepted one), so samples of a new environment can
//! be generated without restarting.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use resyn_core::Registry;
use resyn_registry::{DEFAULT_STORE, Sources, StoreSource};
use resyn_store::{EnvMarker, Store};

use crate::html::Links;
use crate::{Error, UiError};

/// The environments assembled at one point in time.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) registry: Registry,
    /// Module file of each directory environment.
    pub(crate) files: BTreeMap<String, PathBuf>,
    /// Directory modules that failed to load (each names its file).
    pub(crate) skipped: Vec<String>,
    /// Why the store's environments are missing from `registry`, if they are.
    pub(crate) load_error: Option<String>,
    /// The store's environments this snapshot was assembled from.
    marker: Option<EnvMarker>,
}

/// The store as one request sees it.
#[derive(Debug)]
pub(crate) enum StoreView {
    /// No store named, and no `resyn.db` in the working directory.
    None,
    /// The named store does not exist (yet).
    Missing(PathBuf),
    /// Opened read-only.
    Open {
        path: PathBuf,
        store: Store,
        marker: EnvMarker,
    },
    /// It exists but cannot be read now.
    Failed {
        path: PathBuf,
        busy: bool,
        message: String,
    },
}

impl StoreView {
    fn open(source: &StoreSource) -> Self {
        let path = match source {
            StoreSource::None => return Self::None,
            StoreSource::Default => {
                let p = PathBuf::from(DEFAULT_STORE);
                if !p.is_file() {
                    return Self::None;
                }
                p
            }
            StoreSource::Path(p) if !p.exists() => return Self::Missing(p.clone()),
            StoreSource::Path(p) => p.clone(),
        };
        match Store::open_read_only(&path).and_then(|s| s.env_marker().map(|m| (s, m))) {
            Ok((store, marker)) => Self::Open {
                path,
                store,
                marker,
            },
            Err(e) => Self::Failed {
                path,
                busy: e.is_busy(),
                message: resyn_core::error_chain(&e),
            },
        }
    }

    /// The open store, or the error page saying why there is none.
    pub(crate) fn require(&self) -> Result<&Store, UiError> {
        match self {
            Self::Open { store, .. } => Ok(store),
            Self::None => Err(UiError::not_found(
                "No store",
                format!(
                    "Runs and candidates live in the synthesis store, and none was given: \
                     start `resyn ui --store FILE`, set RESYN_STORE, or run `resyn synth` \
                     (it writes {DEFAULT_STORE} in the working directory)."
                ),
            )),
            Self::Missing(p) => Err(UiError::unavailable(
                "Store not found",
                format!(
                    "The store {} does not exist (yet). `resyn synth --store {}` creates it; \
                     this page works as soon as it does.",
                    p.display(),
                    p.display()
                ),
            )),
            Self::Failed {
                path,
                busy: true,
                message,
            } => Err(UiError::unavailable(
                "Store locked",
                format!(
                    "The store {} is locked by another process and could not be read \
                     ({message}). Reload in a moment.",
                    path.display()
                ),
            )),
            Self::Failed { path, message, .. } => Err(UiError::unavailable(
                "Store unreadable",
                format!("The store {} cannot be read: {message}", path.display()),
            )),
        }
    }

    /// The store's path, when one is in use.
    pub(crate) fn path(&self) -> Option<&PathBuf> {
        match self {
            Self::None => None,
            Self::Missing(p) | Self::Open { path: p, .. } | Self::Failed { path: p, .. } => Some(p),
        }
    }
}

/// What every request handler shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UiState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sources: Sources,
    snapshot: Mutex<Arc<Snapshot>>,
}

/// Everything one page is rendered from.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) snap: Arc<Snapshot>,
    pub(crate) store: StoreView,
    pub(crate) links: Links,
}

impl UiState {
    /// Assemble the environments of `sources`. A store that is missing or
    /// unreadable is not an error here (pages say what is wrong with it).
    ///
    /// # Errors
    /// [`Error::Sources`] when the native and directory environments cannot
    /// be assembled (a missing directory, a sandbox that cannot start).
    pub fn new(sources: Sources) -> Result<Self, Error> {
        let marker = match StoreView::open(&sources.store) {
            StoreView::Open { marker, .. } => Some(marker),
            _ => None,
        };
        let snap = assemble(&sources, marker)?;
        Ok(Self {
            inner: Arc::new(Inner {
                sources,
                snapshot: Mutex::new(Arc::new(snap)),
            }),
        })
    }

    /// The sources shown.
    pub fn sources(&self) -> &Sources {
        &self.inner.sources
    }

    /// Number of environments assembled so far.
    pub fn environments(&self) -> usize {
        self.current().registry.len()
    }

    /// What went wrong while assembling (modules that failed to load, store
    /// environments that could not join), for the log.
    pub fn warnings(&self) -> Vec<String> {
        let snap = self.current();
        snap.skipped
            .iter()
            .cloned()
            .chain(snap.load_error.clone())
            .collect()
    }

    fn current(&self) -> Arc<Snapshot> {
        self.inner
            .snapshot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Open the store and bring the snapshot up to date with it (blocking:
    /// call from a blocking thread).
    pub(crate) fn ctx(&self, links: Links) -> Ctx {
        let store = StoreView::open(&self.inner.sources.store);
        let snap = self.snapshot_for(&store);
        Ctx { snap, store, links }
    }

    fn snapshot_for(&self, store: &StoreView) -> Arc<Snapshot> {
        // Held while reassembling, so concurrent requests wait for one
        // reload instead of each starting their own.
        let mut current = self
            .inner
            .snapshot
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let want = match store {
            StoreView::Open { marker, .. } => Some(*marker),
            StoreView::None | StoreView::Missing(_) => None,
            // Locked or unreadable for now: keep what was assembled.
            StoreView::Failed { .. } => return current.clone(),
        };
        if current.marker != want {
            match assemble(&self.inner.sources, want) {
                Ok(s) => *current = Arc::new(s),
                Err(e) => eprintln!(
                    "resyn ui: reassembling the environments: {}",
                    resyn_core::error_chain(&e)
                ),
            }
        }
        current.clone()
    }
}

/// Assemble the registry; when the store's environments cannot join (a
/// clash of ids, an unreadable store), assemble without them and say why.
fn assemble(sources: &Sources, marker: Option<EnvMarker>) -> Result<Snapshot, Error> {
    let (loaded, load_error) = match marker {
        Some(_) => match sources.load() {
            Ok(l) => (l, None),
            Err(e) => (without_store(sources)?, Some(resyn_core::error_chain(&e))),
        },
        None => (without_store(sources)?, None),
    };
    Ok(Snapshot {
        registry: loaded.registry,
        files: loaded.files,
        skipped: loaded
            .skipped
            .iter()
            .map(|e| resyn_core::error_chain(e))
            .collect(),
        load_error,
        marker,
    })
}

fn without_store(sources: &Sources) -> Result<resyn_registry::Loaded, Error> {
    Sources {
        store: StoreSource::None,
        ..sources.clone()
    }
    .load()
    .map_err(Error::Sources)
}
