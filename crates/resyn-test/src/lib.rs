//! Test support shared by resyn's integration tests (a dev-dependency
//! only).
//!
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
//! ```no_run
//! let Some(bin) = resyn_test::chromium() else { return };
//! let profile = std::env::temp_dir().join("profile");
//! let mut b = resyn_test::Browser::launch(&bin, &profile).unwrap();
//! b.navigate("file:///tmp/page.html").unwrap();
//! let title = b.eval("document.title").unwrap();
//! assert!(b.console_errors().is_empty());
//! # let _ = title;
//! ```
#![deny(missing_docs)]

pub use browser::{Browser, chromium, chromium_cmd};
pub use fixtures::{add_module, store_event, stored_env};

pub mod audit;
mod browser;
mod fixtures;
