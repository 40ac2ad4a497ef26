//! Python syntax highlighting with a small tokenizer: comments, strings
//! (prefixes, triple quotes, escapes), numbers, keywords, builtins,
//! decorators and the names after `def`/`class`. Anything else is plain
//! text, so unusual or broken code still renders (just less coloured).
//!
//! Invariant: the text content of the output is exactly the input (every
//! character is escaped; only the wrapping `<span>`s are markup). Each
//! source line is one `<span class="line">` so CSS can number lines
//! without the numbers being copied.

use std::fmt::Write;

use maud::{Escaper, Markup, PreEscaped};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Comment,
    Str,
    Num,
    Keyword,
    Builtin,
    Decorator,
    Definition,
}

impl Kind {
    fn class(self) -> Option<&'static str> {
        match self {
            Kind::Plain => None,
            Kind::Comment => Some("tok-com"),
            Kind::Str => Some("tok-str"),
            Kind::Num => Some("tok-num"),
            Kind::Keyword => Some("tok-kw"),
            Kind::Builtin => Some("tok-bi"),
            Kind::Decorator => Some("tok-dec"),
            Kind::Definition => Some("tok-def"),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case",
];

const BUILTINS: &[&str] = &[
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "getattr",
    "hasattr",
    "int",
    "isinstance",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "min",
    "next",
    "ord",
    "chr",
    "pow",
    "print",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "zip",
    "self",
    "ValueError",
    "TypeError",
    "KeyError",
    "IndexError",
    "Exception",
];

/// Highlighted HTML for Python source.
pub(crate) fn python(src: &str) -> Markup {
    let mut out = Lines::default();
    for (kind, text) in tokens(src) {
        out.push(kind, text);
    }
    PreEscaped(out.finish())
}

/// Output split into line spans.
#[derive(Default)]
struct Lines {
    html: String,
    open: bool,
}

impl Lines {
    fn push(&mut self, kind: Kind, text: &str) {
        for (k, piece) in text.split('\n').enumerate() {
            if k > 0 {
                self.end_line();
            }
            if piece.is_empty() {
                continue;
            }
            if !self.open {
                self.html.push_str("<span class=\"line\">");
                self.open = true;
            }
            match kind.class() {
                Some(c) => {
                    let _ = write!(self.html, "<span class=\"{c}\">");
                    escape_into(&mut self.html, piece);
                    self.html.push_str("</span>");
                }
                None => escape_into(&mut self.html, piece),
            }
        }
    }

    fn end_line(&mut self) {
        if !self.open {
            self.html.push_str("<span class=\"line\">");
        }
        self.html.push_str("</span>\n");
        self.open = false;
    }

    fn finish(mut self) -> String {
        if self.open {
            self.html.push_str("</span>");
        }
        self.html
    }
}

fn escape_into(out: &mut String, text: &str) {
    // Writing to a String cannot fail.
    let _ = Escaper::new(out).write_str(text);
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// The source as `(kind, text)` tokens whose texts concatenate to `src`.
fn tokens(src: &str) -> Vec<(Kind, &str)> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut after_def = false;
    let mut line_start = true;
    while i < src.len() {
        let rest = &src[i..];
        let Some(c) = rest.chars().next() else { break };
        let (kind, len) = if c == '#' {
            (Kind::Comment, rest.find('\n').unwrap_or(rest.len()))
        } else if c == '"' || c == '\'' {
            (Kind::Str, string_len(rest, 0))
        } else if c.is_ascii_digit()
            || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            (Kind::Num, number_len(rest))
        } else if c == '@' && line_start && rest[1..].starts_with(is_ident_start) {
            let len = 1 + rest[1..]
                .find(|ch: char| !(is_ident(ch) || ch == '.'))
                .unwrap_or(rest.len() - 1);
            (Kind::Decorator, len)
        } else if is_ident_start(c) {
            let len = rest.find(|ch: char| !is_ident(ch)).unwrap_or(rest.len());
            let word = &rest[..len];
            let quote = rest[len..].starts_with(['"', '\'']);
            if quote
                && word.len() <= 2
                && word
                    .chars()
                    .all(|p| matches!(p.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'))
            {
                (Kind::Str, string_len(rest, len))
            } else if after_def {
                (Kind::Definition, len)
            } else if KEYWORDS.contains(&word) {
                (Kind::Keyword, len)
            } else if BUILTINS.contains(&word) {
                (Kind::Builtin, len)
            } else {
                (Kind::Plain, len)
            }
        } else {
            (Kind::Plain, c.len_utf8())
        };
        let text = &rest[..len.max(c.len_utf8())];
        if !c.is_whitespace() {
            after_def = kind == Kind::Keyword && (text == "def" || text == "class");
        }
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
        out.push((kind, text));
        i += text.len();
    }
    out
}

/// Length of the string literal at the start of `s` whose quote is at
/// byte `q` (after any prefix). Unterminated single-quoted strings end at
/// the line end, triple-quoted ones at the end of the source.
fn string_len(s: &str, q: usize) -> usize {
    let quote = s[q..].chars().next().unwrap_or('"');
    let triple: String = std::iter::repeat_n(quote, 3).collect();
    let (body, close) = if s[q..].starts_with(&triple) {
        (q + 3, triple.as_str())
    } else {
        (q + 1, &triple[..1])
    };
    let mut chars = s[body..].char_indices();
    while let Some((k, ch)) = chars.next() {
        let at = body + k;
        if ch == '\\' {
            chars.next();
        } else if s[at..].starts_with(close) {
            return at + close.len();
        } else if ch == '\n' && close.len() == 1 {
            return at;
        }
    }
    s.len()
}

/// Length of the number at the start of `s` (`12`, `0x1F`, `1_000`,
/// `3.5e-2`, `2j`).
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut k = 0;
    while k < b.len() {
        let c = b[k];
        let exponent_sign = (c == b'+' || c == b'-') && k > 0 && matches!(b[k - 1], b'e' | b'E');
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || exponent_sign {
            k += 1;
        } else {
            break;
        }
    }
    k.max(1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The text a browser shows for our markup.
    fn text_of(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    fn kinds(src: &str) -> Vec<(Kind, &str)> {
        tokens(src)
            .into_iter()
            .filter(|(k, t)| *k != Kind::Plain || !t.trim().is_empty())
            .collect()
    }

    #[test]
    fn tokens_of_a_module() {
        let src = "@cache\ndef solve(x):  # note\n    return rb'a\\'b' + 0x1F + 3.5e-2 + len(\"\"\"q\n\"\"\")\nclass Foo: pass\n";
        let k = kinds(src);
        assert_eq!(k[0], (Kind::Decorator, "@cache"));
        assert_eq!(k[1], (Kind::Keyword, "def"));
        assert_eq!(k[2], (Kind::Definition, "solve"));
        assert!(k.contains(&(Kind::Comment, "# note")));
        assert!(k.contains(&(Kind::Str, "rb'a\\'b'")));
        assert!(k.contains(&(Kind::Num, "0x1F")));
        assert!(k.contains(&(Kind::Num, "3.5e-2")));
        assert!(k.contains(&(Kind::Builtin, "len")));
        assert!(k.contains(&(Kind::Str, "\"\"\"q\n\"\"\"")));
        assert!(k.contains(&(Kind::Definition, "Foo")));
    }

    #[test]
    fn unterminated_strings_stop_at_the_line_or_the_end() {
        let k = kinds("x = 'abc\ny = 1\n");
        assert!(k.contains(&(Kind::Str, "'abc")));
        assert!(k.contains(&(Kind::Num, "1")));
        let k = kinds("s = \"\"\"never closed\nstill string");
        assert!(k.contains(&(Kind::Str, "\"\"\"never closed\nstill string")));
    }

    #[test]
    fn hostile_code_is_text() {
        let src = "# </pre><script>alert(1)</script>\nx = \"<img src=x onerror=alert(1)>\" & 1\n";
        let html = python(src).into_string();
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert_eq!(text_of(&html), src);
        assert_eq!(html.matches("<span class=\"line\">").count(), 2);
    }

    proptest! {
        #[test]
        fn output_text_is_the_input(src in "[ -~\\n\\té<>&\"']{0,200}") {
            let html = python(&src).into_string();
            prop_assert_eq!(text_of(&html), src);
        }
    }
}
