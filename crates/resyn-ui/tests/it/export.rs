//! `resyn_ui::export`: the pages as files with relative links that all
//! resolve, hostile text escaped, a GALLERY.md, and identical bytes on a
//! second export.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use resyn_registry::StoreSource;
use resyn_ui::{Error, export};

use crate::fixture::{ENV, Fixture, HOSTILE, assert_inert, state};

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Every `href="..."`/`src="..."` of a page that is a relative file link.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            if !target.starts_with('#') && !target.starts_with("data:") {
                out.push(target.to_string());
            }
        }
    }
    out
}

#[test]
fn export_writes_linked_static_pages_and_a_gallery_md() {
    let f = Fixture::new();
    let st = state(StoreSource::Path(f.store.clone()));
    let out = f.path("gallery");
    let summary = export(&st, &out).unwrap();
    let native = resyn_envs::registry().len();
    assert_eq!(summary.environments, native + 2);
    assert_eq!((summary.runs, summary.candidates), (2, 5));
    let written = files(&out);
    assert_eq!(written.len(), summary.files);
    for want in [
        "index.html".to_string(),
        format!("envs/{ENV}.html"),
        "envs/sudoku.html".into(),
        "runs/index.html".into(),
        format!("runs/{}.html", f.run),
        format!("candidates/{}.html", f.cands[2]),
        "assets/style.css".into(),
        "assets/app.js".into(),
        "GALLERY.md".into(),
    ] {
        assert!(
            written.contains_key(Path::new(&want)),
            "{want} was not written"
        );
    }
    // Every link of every page resolves to a written file; nothing points
    // at the server or the network.
    for (path, bytes) in &written {
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let html = String::from_utf8(bytes.clone()).unwrap();
        assert_inert(&html);
        assert!(
            !html.contains("<form class=\"try\""),
            "{}: no answer box offline",
            path.display()
        );
        for l in links(&html) {
            assert!(
                !l.starts_with('/') && !l.contains("://"),
                "{}: absolute link {l}",
                path.display()
            );
            let target = path
                .parent()
                .unwrap()
                .join(l.split(['?', '#']).next().unwrap());
            let norm: PathBuf = target.components().fold(PathBuf::new(), |mut acc, c| {
                match c {
                    std::path::Component::ParentDir => {
                        acc.pop();
                    }
                    c => acc.push(c),
                }
                acc
            });
            assert!(
                written.contains_key(&norm),
                "{}: broken link {l}",
                path.display()
            );
        }
    }
    let env_page =
        String::from_utf8(written[Path::new(&format!("envs/{ENV}.html"))].clone()).unwrap();
    assert!(env_page.contains("Why it was kept") && env_page.contains("<circle class=\"pt\""));
    assert!(
        env_page.contains("store: resyn.db"),
        "only the store's file name"
    );
    assert!(
        !env_page.contains(&f.dir.path().display().to_string()),
        "no local paths"
    );
    // GALLERY.md: every environment with one sample; hostile text inert.
    let md = String::from_utf8(written[Path::new("GALLERY.md")].clone()).unwrap();
    assert!(md.contains("## add\\_fixture") && md.contains("## sudoku"));
    assert_eq!(md.matches("**Prompt**").count(), native + 2);
    assert!(md.contains(&format!("](envs/{HOSTILE}.html)")));
    // Outside code fences (where Markdown shows text as is), no raw HTML.
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        match &fence {
            Some(f) if line == f => fence = None,
            None if ticks.len() >= 3 => fence = Some(ticks),
            Some(_) => {}
            None => assert!(
                line.match_indices('<')
                    .all(|(i, _)| i > 0 && line.as_bytes()[i - 1] == b'\\'),
                "raw HTML: {line}"
            ),
        }
    }
    assert!(fence.is_none(), "unclosed fence");
    assert!(
        md.contains("\\<script\\>alert\\(\\'pwned\\'\\)")
            || md.contains("\\<script\\>alert\\('pwned'\\)"),
        "{md}"
    );
    // Deterministic: a second export writes the same bytes.
    export(&st, &out).unwrap();
    assert!(files(&out) == written, "a second export differs");
}

#[test]
fn export_refuses_a_named_store_that_is_missing() {
    let f = Fixture::new();
    let st = state(StoreSource::Path(f.path("missing.db")));
    let e = export(&st, &f.path("out")).unwrap_err();
    assert!(matches!(e, Error::Store(_)), "{e}");
    assert!(e.to_string().contains("missing.db"), "{e}");
    assert!(!f.path("out").exists(), "nothing written");
}
