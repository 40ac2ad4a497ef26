//! Test support shared by resyn's tests: a dev-dependency of the crates
//! whose tests need it, never a dependency of shipped code.
//!
//! - [`TempDir`]: a named temporary directory (a [`tempfile::TempDir`], so
//!   it is unique per test and removed when dropped, even when tests of
//!   several checkouts run at once).
//! - [`fixture`]: the fixtures several crates' tests read (benchmark files
//!   in each format under `fixtures/eval`), kept here so no test reaches
//!   into another crate's directory; [`repo_path`]: files of the repository
//!   itself that tests check against (the bundled `envs/python` corpus,
//!   `configs/`, `docs/`), the one place that leaves a crate's directory,
//!   resolved at compile time so tests pass from any checkout location.
//! - [`add_module`], [`stored_env`], [`store_event`]: a small, correct
//!   Python environment and the store rows that accept it.
//! - [`audit`]: a store of environments whose two verifiers agree or
//!   disagree, for `resyn audit`.
//! - [`chromium`] finds a Chromium binary (`RESYN_CHROMIUM`, else
//!   `chromium`, `chromium-browser` or `google-chrome` on `PATH`); tests
//!   that need a real browser skip, saying so, when there is none
//!   (`apt-get install -y chromium`; `scripts/test.sh` installs it).
//! - [`chromium_cmd`] is a headless command line for one-shot uses
//!   (`--dump-dom`, `--screenshot`).
//! - [`Browser`] drives a headless Chromium over the DevTools protocol on a
//!   pipe: navigate, evaluate script, press keys, take full-page
//!   screenshots, and collect every console error, uncaught exception and
//!   failed load.
//!
//! ```
//! let dir = resyn_test::TempDir::new("example");
//! std::fs::write(dir.join("a.txt"), "1").unwrap();
//! assert_eq!(dir.names(), ["a.txt"]);
//! assert!(resyn_test::repo_path("envs/python").is_dir());
//! assert!(resyn_test::fixture("eval/gsm8k").is_dir());
//! ```
//!
//! ```no_run
//! let Some(bin) = resyn_test::chromium() else { return };
//! let profile = resyn_test::TempDir::new("profile");
//! let mut b = resyn_test::Browser::launch(&bin, profile.root()).unwrap();
//! b.navigate("file:///tmp/page.html").unwrap();
//! let title = b.eval("document.title").unwrap();
//! assert!(b.console_errors().is_empty());
//! # let _ = title;
//! ```
#![deny(missing_docs)]

pub use browser::{Browser, BrowserError, chromium, chromium_cmd};
pub use fixtures::{add_module, store_event, stored_env};
pub use paths::{fixture, repo_path};
pub use temp_dir::TempDir;

pub mod audit;
mod browser;
mod fixtures;
mod paths;
mod temp_dir;
