//! `GALLERY.md`: every environment with one sample (seed 0 at its middle
//! difficulty) and its reference answer, in GitHub-flavoured Markdown.
//!
//! Descriptions and prompts may be LLM-written: prose is backslash-escaped
//! (no Markdown or HTML of theirs is interpreted) and prompts sit in code
//! fences longer than any backtick run they contain.

use std::fmt::Write;

use crate::html::file_stem;
use crate::pages::envs::EnvRow;
use crate::samples::generate;
use crate::state::Ctx;

/// Escape Markdown prose: every ASCII punctuation character that Markdown
/// or HTML could interpret gets a backslash; newlines become spaces.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_ascii_punctuation()
                && !matches!(
                    c,
                    ',' | '.'
                        | ':'
                        | ';'
                        | '?'
                        | '\''
                        | '"'
                        | '/'
                        | '%'
                        | '='
                        | '@'
                        | '$'
                        | '^'
                        | '~'
                        | '-'
                ) =>
            {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // "1. x" at the start would become a numbered list.
    if let Some(dot) = out.find('.')
        && dot > 0
        && out[..dot].chars().all(|c| c.is_ascii_digit())
    {
        out.insert(dot, '\\');
    }
    if out.starts_with('-') {
        out.insert(0, '\\');
    }
    out
}

/// `text` in a fenced code block that no backtick run inside can close.
pub(crate) fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let f = "`".repeat((longest + 1).max(3));
    format!("{f}text\n{}\n{f}\n", text.trim_end_matches('\n'))
}

/// The whole document.
pub(crate) fn gallery(ctx: &Ctx, envs: &[EnvRow]) -> String {
    let count = |s: &str| envs.iter().filter(|r| r.source == s).count();
    let mut md = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        md,
        "# resyn environment gallery\n\n{} environments ({} native, {} Python, {} synthesized), \
         each with one sample: seed 0 at its middle difficulty. Written by `resyn gallery`; \
         `index.html` beside this file has every page (samples at three levels, validation \
         reports, calibration curves, synthesis runs).\n",
        envs.len(),
        count("native"),
        count("python"),
        count("synth"),
    );
    let _ = writeln!(
        md,
        "| Environment | Source | Category | Calibration |\n|---|---|---|---|"
    );
    for r in envs {
        let _ = writeln!(
            md,
            "| [{}](envs/{}.html) | {} | {} | {} |",
            escape(&r.id),
            file_stem(&r.id),
            r.source,
            escape(&r.category),
            escape(&r.status)
        );
    }
    for r in envs {
        let _ = writeln!(
            md,
            "\n## {}\n\n*{} · {} · version {} · difficulty {}–{}*\n\n{}\n",
            escape(&r.id),
            r.source,
            escape(&r.category),
            r.version,
            r.difficulty.0,
            r.difficulty.1,
            escape(&r.description)
        );
        let mid = r.difficulty.0 + (r.difficulty.1 - r.difficulty.0) / 2;
        let sample = ctx
            .snap
            .registry
            .get(&r.id)
            .ok()
            .map(|env| generate(env.as_ref(), &[(0, mid)]));
        match sample.as_ref().and_then(|s| s.first()).map(|s| &s.instance) {
            Some(Ok(inst)) => {
                let _ = writeln!(
                    md,
                    "**Prompt** (difficulty {mid}, seed 0)\n\n{}\n**Reference answer**\n\n{}",
                    fence(&inst.prompt),
                    fence(&inst.reference)
                );
            }
            Some(Err(e)) => {
                let _ = writeln!(md, "*No sample: {}*", escape(e));
            }
            None => {
                let _ = writeln!(md, "*No sample: the environment could not be loaded.*");
            }
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_and_fences_cannot_break_out() {
        assert_eq!(
            escape("<script>alert(1)</script> *bold* [x](y) | a_b"),
            "\\<script\\>alert\\(1\\)\\</script\\> \\*bold\\* \\[x\\]\\(y\\) \\| a\\_b"
        );
        assert_eq!(escape("1. first"), "1\\. first");
        assert_eq!(escape("- item\nnext"), "\\- item next");
        let f = fence("a ``` b\n````");
        assert!(f.starts_with("`````text\n"), "{f}");
        assert!(f.ends_with("\n`````\n"), "{f}");
        assert_eq!(fence("x"), "```text\nx\n```\n");
    }
}
