//! The page frame and the pieces every page uses: [`Links`] (server routes
//! or relative files of a static export), [`Page`] and [`layout`].
//!
//! Every value spliced into markup goes through maud, which escapes it;
//! the only unescaped markup is built here and in `highlight`/`svg` from
//! escaped parts. Pages load one stylesheet and one script, both embedded
//! in the binary (no CDN, no network).

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

/// The stylesheet, embedded.
pub(crate) const STYLE_CSS: &str = include_str!("../assets/style.css");
/// The script (filtering, the answer box, live refresh), embedded.
pub(crate) const APP_JS: &str = include_str!("../assets/app.js");

/// Where links point: the server's routes, or the relative file names of
/// a static export (pages at most one directory deep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Links {
    /// Prefix to the site root: `/` on the server, `` or `../` in files.
    root: &'static str,
    static_site: bool,
}

impl Links {
    /// Links between server routes.
    pub(crate) fn server() -> Self {
        Self {
            root: "/",
            static_site: false,
        }
    }

    /// Links between the files of a static export, from a page `depth`
    /// directories below the export root (0 or 1).
    pub(crate) fn static_at(depth: usize) -> Self {
        Self {
            root: if depth == 0 { "" } else { "../" },
            static_site: true,
        }
    }

    /// Whether pages are static files (no server behind them).
    pub(crate) fn is_static(&self) -> bool {
        self.static_site
    }

    pub(crate) fn home(&self) -> String {
        if self.static_site {
            format!("{}index.html", self.root)
        } else {
            "/".into()
        }
    }

    pub(crate) fn env(&self, id: &str) -> String {
        if self.static_site {
            format!("{}envs/{}.html", self.root, file_stem(id))
        } else {
            format!("/envs/{}", encode_segment(id))
        }
    }

    /// The answer box's endpoint (server only).
    pub(crate) fn env_try(&self, id: &str) -> String {
        format!("/envs/{}/try", encode_segment(id))
    }

    pub(crate) fn runs(&self) -> String {
        if self.static_site {
            format!("{}runs/index.html", self.root)
        } else {
            "/runs".into()
        }
    }

    pub(crate) fn run(&self, id: i64) -> String {
        if self.static_site {
            format!("{}runs/{id}.html", self.root)
        } else {
            format!("/runs/{id}")
        }
    }

    pub(crate) fn candidate(&self, id: i64) -> String {
        if self.static_site {
            format!("{}candidates/{id}.html", self.root)
        } else {
            format!("/candidates/{id}")
        }
    }

    /// An LLM call's page; static exports leave request bodies out.
    pub(crate) fn call(&self, id: i64) -> Option<String> {
        (!self.static_site).then(|| format!("/calls/{id}"))
    }

    pub(crate) fn asset(&self, name: &str) -> String {
        format!("{}assets/{name}", self.root)
    }
}

/// A path segment with everything but unreserved characters
/// percent-encoded.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A file name for an environment id in a static export: ASCII letters,
/// digits and `_` stay, any other byte becomes `-XX` (hex). Injective, and
/// never a path separator or a hidden file.
pub(crate) fn file_stem(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("-{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("-empty");
    }
    out
}

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Envs,
    Runs,
    None,
}

/// A rendered page before the frame is put around it.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) title: String,
    pub(crate) nav: Nav,
    pub(crate) body: Markup,
    /// HTTP status (error pages).
    pub(crate) status: StatusCode,
    /// Refresh without JavaScript (a running run); the script refreshes
    /// the `#live` region instead.
    pub(crate) refresh_secs: Option<u32>,
}

impl Page {
    pub(crate) fn new(title: impl Into<String>, nav: Nav, body: Markup) -> Self {
        Self {
            title: title.into(),
            nav,
            body,
            status: StatusCode::OK,
            refresh_secs: None,
        }
    }
}

/// The whole document: head, skip link, navigation, the page, footer.
pub(crate) fn layout(page: &Page, links: &Links, footer: &str) -> Markup {
    let nav_item = |href: String, label: &str, here: bool| {
        html! {
            li { a href=(href) aria-current=[here.then_some("page")] { (label) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) " · resyn gallery" }
                // No favicon request (it would be a 404 in the console).
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(links.asset("style.css"));
                @if let Some(s) = page.refresh_secs {
                    noscript { meta http-equiv="refresh" content=(s); }
                }
                script src=(links.asset("app.js")) defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    a.brand href=(links.home()) { "resyn gallery" }
                    nav aria-label="Main" {
                        ul {
                            (nav_item(links.home(), "Environments", page.nav == Nav::Envs))
                            (nav_item(links.runs(), "Runs", page.nav == Nav::Runs))
                        }
                    }
                }
                main #main tabindex="-1" {
                    (page.body)
                }
                footer.site { (footer) }
            }
        }
    }
}

/// A notice box: `kind` is `info`, `warn` or `error`.
pub(crate) fn notice(kind: &str, title: &str, body: Markup) -> Markup {
    let role = if kind == "error" { "alert" } else { "status" };
    html! {
        div class={ "notice " (kind) } role=(role) {
            strong { (title) }
            " " (body)
        }
    }
}

/// Text in a `<pre>` (prompts, references, details, tracebacks).
pub(crate) fn pre(text: &str) -> Markup {
    html! { pre.text { (text) } }
}

/// Text that may wrap after each `_` (long snake_case names in narrow
/// columns); escaped like any other text.
pub(crate) fn breakable(text: &str) -> Markup {
    html! {
        @for (k, part) in text.split('_').enumerate() {
            @if k > 0 { "_" wbr; }
            (part)
        }
    }
}

/// A short status label.
pub(crate) fn badge(text: &str, kind: &str) -> Markup {
    html! { span class={ "badge " (kind) } { (text) } }
}

/// Key/value pairs as a definition list; `None` values are left out.
pub(crate) fn facts(items: &[(&str, Option<Markup>)]) -> Markup {
    html! {
        dl.facts {
            @for (k, v) in items {
                @if let Some(v) = v {
                    div { dt { (k) } dd { (v) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakable_text_stays_escaped() {
        assert_eq!(
            breakable("a_<b>_c").into_string(),
            "a_<wbr>&lt;b&gt;_<wbr>c"
        );
        assert_eq!(breakable("plain").into_string(), "plain");
    }

    #[test]
    fn links_for_server_and_files() {
        let s = Links::server();
        assert_eq!(s.env("a b/c"), "/envs/a%20b%2Fc");
        assert_eq!(s.run(3), "/runs/3");
        assert_eq!(s.call(4).as_deref(), Some("/calls/4"));
        let f = Links::static_at(1);
        assert_eq!(f.env("sudoku"), "../envs/sudoku.html");
        assert_eq!(f.env("../x"), "../envs/-2E-2E-2Fx.html");
        assert_eq!(f.home(), "../index.html");
        assert_eq!(Links::static_at(0).runs(), "runs/index.html");
        assert_eq!(f.call(4), None);
        assert_eq!(file_stem("a-b"), "a-2Db");
        assert_ne!(file_stem("a-2Db"), file_stem("a-b"));
    }
}
