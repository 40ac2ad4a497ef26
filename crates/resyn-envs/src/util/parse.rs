//! Lenient-but-exact answer parsing.
//!
//! Leniency is limited to what prompts allow: surrounding whitespace, blank
//! lines, ASCII case, and the separators a prompt names. Anything else is a
//! parse error. Parsers return `Err(String)` with a short human reason that
//! becomes the verdict detail.

/// Collapse runs of whitespace to one space and trim.
pub fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lowercased, whitespace-collapsed form for case-insensitive comparison.
pub fn canonical(s: &str) -> String {
    normalize_ws(s).to_ascii_lowercase()
}

/// Whether `canonical(s)` equals `target` ignoring ASCII case, without
/// building the canonical string: the words of `s` joined by single spaces,
/// compared byte by byte.
pub fn canonical_eq_ignore_case(s: &str, target: &str) -> bool {
    let mut rest = target.as_bytes();
    for (k, word) in s.split_whitespace().enumerate() {
        if k > 0 {
            match rest.split_first() {
                Some((b' ', tail)) => rest = tail,
                _ => return false,
            }
        }
        match rest.split_at_checked(word.len()) {
            Some((head, tail)) if head.eq_ignore_ascii_case(word.as_bytes()) => rest = tail,
            _ => return false,
        }
    }
    rest.is_empty()
}

/// Non-empty, trimmed lines.
pub fn lines(s: &str) -> Vec<&str> {
    lines_iter(s).collect()
}

/// [`lines`] without collecting.
pub fn lines_iter(s: &str) -> impl Iterator<Item = &str> {
    // Trimming drops the '\r' of CRLF endings as `str::lines` does.
    split_byte(s, b'\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

/// Parse exactly `n` non-empty lines of `s` (see [`lines_iter`]), line `i`
/// (0-based) by `each`. A wrong line count, reported as
/// `expected {n} {noun}, got {k}`, takes precedence over an error inside a
/// line: when a line fails, the remaining lines are counted first.
pub fn exact_lines(
    s: &str,
    n: usize,
    noun: &str,
    mut each: impl FnMut(usize, &str) -> Result<(), String>,
) -> Result<(), String> {
    let count_error = |k: usize| format!("expected {n} {noun}, got {k}");
    let mut lines = lines_iter(s);
    for i in 0..n {
        let Some(line) = lines.next() else {
            return Err(count_error(i));
        };
        if let Err(e) = each(i, line) {
            let k = i + 1 + lines.count();
            return Err(if k == n { e } else { count_error(k) });
        }
    }
    match lines.count() {
        0 => Ok(()),
        extra => Err(count_error(n + extra)),
    }
}

/// `s.split(sep)` for an ASCII separator, without the generic `char`
/// searcher (a hot spot of answer checks on short strings). Splitting at an
/// ASCII byte always leaves valid `&str` pieces.
pub fn split_byte(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(sep.is_ascii());
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Tokens separated by whitespace and/or commas (empty tokens dropped).
/// One optional pair of surrounding brackets (`[...]` or `(...)`) is removed.
pub fn tokens(s: &str) -> Vec<&str> {
    tokens_iter(s).collect()
}

/// [`tokens`] without collecting.
pub fn tokens_iter(s: &str) -> impl Iterator<Item = &str> {
    split_tokens(strip_brackets(s.trim()))
}

/// [`tokens_iter`] of a text whose brackets are already stripped.
pub fn split_tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
}

/// Remove one pair of matching outer brackets, if present.
pub fn strip_brackets(s: &str) -> &str {
    let s = s.trim();
    for (open, close) in [('[', ']'), ('(', ')'), ('{', '}')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return inner.trim();
        }
    }
    s
}

/// Parse a signed integer, allowing a leading `+` and no other decoration.
pub fn int(s: &str) -> Result<i64, String> {
    let t = s.trim();
    // One optional sign, then digits only: `+-5`, `--5` and `5.0` are not integers.
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty() || body.len() > 19 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{}` is not an integer", clip(t)));
    }
    t.parse::<i64>()
        .map_err(|_| format!("`{}` is not an integer", clip(t)))
}

/// Parse a whitespace/comma separated list of integers.
pub fn int_list(s: &str) -> Result<Vec<i64>, String> {
    tokens(s).into_iter().map(int).collect()
}

/// Parse a non-negative index list; every value must be `< bound`.
pub fn index_list(s: &str, bound: usize) -> Result<Vec<usize>, String> {
    tokens(s)
        .into_iter()
        .map(|t| {
            let v = int(t)?;
            usize::try_from(v)
                .ok()
                .filter(|&u| u < bound)
                .ok_or_else(|| format!("{v} is out of range 0..{bound}"))
        })
        .collect()
}

/// Exactly `n` items or an error naming what was expected.
pub fn expect_len<T>(items: Vec<T>, n: usize, what: &str) -> Result<Vec<T>, String> {
    if items.len() == n {
        Ok(items)
    } else {
        Err(format!("expected {n} {what}, got {}", items.len()))
    }
}

/// `s` shortened for error messages (never splits a character).
pub fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ints() {
        assert_eq!(int(" +7 "), Ok(7));
        assert_eq!(int("-3"), Ok(-3));
        assert!(int("7.0").is_err());
        assert!(int("+-5").is_err());
        assert!(int("--5").is_err());
        assert!(int("-").is_err());
        assert!(int("").is_err());
        assert!(int("99999999999999999999999").is_err());
        assert_eq!(int_list("[1, 2,3  4]"), Ok(vec![1, 2, 3, 4]));
        assert_eq!(index_list("0 2", 3), Ok(vec![0, 2]));
        assert!(index_list("3", 3).is_err());
        assert!(index_list("-1", 3).is_err());
    }

    #[test]
    fn text() {
        assert_eq!(normalize_ws("  a \n b\t"), "a b");
        assert_eq!(canonical(" Yes "), "yes");
        assert_eq!(lines("\n a \n\n b\n"), vec!["a", "b"]);
        assert_eq!(clip(&"é".repeat(50)).chars().count(), 41);
    }

    proptest! {
        #[test]
        fn canonical_eq_matches_canonical(s in "[aAbB é\t\n]{0,12}", t in "[aAbB é]{0,8}") {
            prop_assert_eq!(
                canonical_eq_ignore_case(&s, &t),
                canonical(&s).eq_ignore_ascii_case(&t)
            );
            let c = canonical(&s);
            prop_assert!(canonical_eq_ignore_case(&s, &c.to_ascii_uppercase()));
        }

        #[test]
        fn split_byte_matches_str_split(s in "[a,:é ]{0,20}|.{0,40}") {
            for sep in [b',', b':'] {
                let want: Vec<&str> = s.split(char::from(sep)).collect();
                prop_assert_eq!(split_byte(&s, sep).collect::<Vec<_>>(), want);
            }
        }

        #[test]
        fn lines_iter_matches_str_lines(s in "(?s)[a \t\r\n\u{85}\u{2028}é]{0,40}|.{0,80}") {
            let want: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            prop_assert_eq!(lines_iter(&s).collect::<Vec<_>>(), want);
        }

        #[test]
        fn parsers_never_panic(s in ".{0,200}") {
            let _ = int_list(&s);
            let _ = index_list(&s, 5);
            let _ = clip(&s);
        }
    }
}
