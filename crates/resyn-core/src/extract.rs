//! Answer extraction shared by every environment.
//!
//! Rules, in order:
//! 1. A response longer than [`ExtractConfig::max_response_bytes`] is rejected
//!    ([`ExtractError::TooLong`]) before any scanning.
//! 2. The **last complete** `<answer>...</answer>` block wins (tags match ASCII
//!    case-insensitively). With several blocks only the last counts, so a
//!    response cannot list candidates in separate blocks and collect credit for
//!    any of them. With nested or stray tags the innermost pair ending at the
//!    last `</answer>` is used.
//! 3. Otherwise, as a documented fallback, the content of the last balanced
//!    `\boxed{...}`.
//! 4. Otherwise [`ExtractError::NoAnswer`]. An unclosed `<answer>` (a truncated
//!    response) is not an answer.
//!
//! An extracted answer longer than [`ExtractConfig::max_answer_bytes`] is
//! rejected too. Extraction never panics (property-tested on arbitrary input).

/// Limits for [`extract_answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractConfig {
    /// Responses longer than this (in bytes) get no reward.
    pub max_response_bytes: usize,
    /// Extracted answers longer than this (in bytes) get no reward.
    pub max_answer_bytes: usize,
    /// Whether `\boxed{...}` is accepted when no `<answer>` block exists.
    pub boxed_fallback: bool,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        Self {
            max_response_bytes: 1 << 20,
            max_answer_bytes: 64 << 10,
            boxed_fallback: true,
        }
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractedFrom {
    /// An `<answer>...</answer>` block.
    AnswerTag,
    /// A `\boxed{...}` fallback.
    Boxed,
}

/// An extracted answer (borrowed from the response, not trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extracted<'a> {
    /// The text inside the block.
    pub text: &'a str,
    /// Which rule found it.
    pub from: ExtractedFrom,
}

/// Why no answer could be extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The response exceeds the configured maximum.
    #[error("response is {len} bytes, over the {max}-byte limit")]
    TooLong {
        /// Response length in bytes.
        len: usize,
        /// Configured limit.
        max: usize,
    },
    /// The extracted answer exceeds the configured maximum.
    #[error("answer is {len} bytes, over the {max}-byte limit")]
    AnswerTooLong {
        /// Answer length in bytes.
        len: usize,
        /// Configured limit.
        max: usize,
    },
    /// No complete answer block (nor `\boxed{}`) was found.
    #[error("no <answer>...</answer> block found")]
    NoAnswer,
}

const OPEN: &[u8] = b"<answer>";
const CLOSE: &[u8] = b"</answer>";
const BOXED: &[u8] = b"\\boxed{";

/// Extract the model's final answer from a response (see the module docs).
pub fn extract_answer<'a>(
    response: &'a str,
    config: &ExtractConfig,
) -> Result<Extracted<'a>, ExtractError> {
    if response.len() > config.max_response_bytes {
        return Err(ExtractError::TooLong {
            len: response.len(),
            max: config.max_response_bytes,
        });
    }
    let found = answer_tag(response)
        .map(|text| Extracted {
            text,
            from: ExtractedFrom::AnswerTag,
        })
        .or_else(|| {
            config
                .boxed_fallback
                .then(|| boxed(response))
                .flatten()
                .map(|text| Extracted {
                    text,
                    from: ExtractedFrom::Boxed,
                })
        })
        .ok_or(ExtractError::NoAnswer)?;
    if found.text.len() > config.max_answer_bytes {
        return Err(ExtractError::AnswerTooLong {
            len: found.text.len(),
            max: config.max_answer_bytes,
        });
    }
    Ok(found)
}

fn answer_tag(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let close = rfind_ci(b, CLOSE, b.len())?;
    let open = rfind_ci(b, OPEN, close)?;
    // Tags are ASCII, so both offsets are char boundaries.
    s.get(open + OPEN.len()..close)
}

fn boxed(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut end = b.len();
    // Walk back through `\boxed{` occurrences until one is balanced.
    while let Some(start) = rfind_ci(b, BOXED, end) {
        let body = start + BOXED.len();
        let mut depth = 1usize;
        for (i, &c) in b[body..].iter().enumerate() {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return s.get(body..body + i);
                    }
                }
                _ => {}
            }
        }
        end = start;
    }
    None
}

/// Last ASCII-case-insensitive occurrence of `needle` that ends at or before `end`.
fn rfind_ci(hay: &[u8], needle: &[u8], end: usize) -> Option<usize> {
    let end = end.min(hay.len());
    let (&first, rest) = needle.split_first()?;
    if needle.len() > end {
        return None;
    }
    // Jump between candidates for the first byte with a (SIMD) reverse byte
    // search, then compare the rest.
    let (lo, hi) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut limit = end - needle.len() + 1;
    loop {
        let i = if lo == hi {
            memchr::memrchr(lo, &hay[..limit])?
        } else {
            memchr::memrchr2(lo, hi, &hay[..limit])?
        };
        if hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest) {
            return Some(i);
        }
        limit = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ex(s: &str) -> Result<Extracted<'_>, ExtractError> {
        extract_answer(s, &ExtractConfig::default())
    }

    #[test]
    fn last_complete_block_wins() {
        assert_eq!(
            ex("<answer>1</answer> then <answer>2</answer>")
                .unwrap()
                .text,
            "2"
        );
        assert_eq!(ex("<answer>1</answer> then <answer>2").unwrap().text, "1");
        assert_eq!(ex("<ANSWER> x </Answer>").unwrap().text, " x ");
        assert_eq!(ex("<answer><answer>in</answer>").unwrap().text, "in");
        assert_eq!(ex("</answer><answer>").unwrap_err(), ExtractError::NoAnswer);
        assert_eq!(ex("").unwrap_err(), ExtractError::NoAnswer);
        assert_eq!(ex("<answer>").unwrap_err(), ExtractError::NoAnswer);
    }

    #[test]
    fn boxed_fallback() {
        assert_eq!(ex(r"so \boxed{12}").unwrap().text, "12");
        assert_eq!(
            ex(r"\boxed{\frac{1}{2}} and \boxed{3").unwrap().text,
            r"\frac{1}{2}"
        );
        let got = ex(r"\boxed{9} <answer>7</answer>").unwrap();
        assert_eq!((got.text, got.from), ("7", ExtractedFrom::AnswerTag));
        let cfg = ExtractConfig {
            boxed_fallback: false,
            ..Default::default()
        };
        assert!(extract_answer(r"\boxed{1}", &cfg).is_err());
    }

    #[test]
    fn limits() {
        let cfg = ExtractConfig {
            max_response_bytes: 10,
            max_answer_bytes: 3,
            boxed_fallback: true,
        };
        assert!(matches!(
            extract_answer("<answer>1</answer>", &cfg),
            Err(ExtractError::TooLong { len: 18, max: 10 })
        ));
        let cfg = ExtractConfig {
            max_response_bytes: 100,
            ..cfg
        };
        assert!(matches!(
            extract_answer("<answer>1234</answer>", &cfg),
            Err(ExtractError::AnswerTooLong { .. })
        ));
    }

    #[test]
    fn huge_input_is_rejected_not_scanned() {
        let big = "<answer>".repeat(300_000);
        assert!(matches!(ex(&big), Err(ExtractError::TooLong { .. })));
    }

    /// The straightforward scan `rfind_ci` must agree with.
    fn rfind_ci_naive(hay: &[u8], needle: &[u8], end: usize) -> Option<usize> {
        let end = end.min(hay.len());
        if needle.is_empty() || needle.len() > end {
            return None;
        }
        (0..=end - needle.len())
            .rev()
            .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
    }

    proptest! {
        #[test]
        fn rfind_ci_matches_naive_scan(
            hay in "[<>/aAnNsSwWeErR{}x\\\\]{0,60}",
            end in 0usize..70,
        ) {
            for needle in [OPEN, CLOSE, BOXED, b"a".as_slice(), b"", b"nswer"] {
                prop_assert_eq!(
                    rfind_ci(hay.as_bytes(), needle, end),
                    rfind_ci_naive(hay.as_bytes(), needle, end)
                );
            }
        }

        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = ex(&s);
        }

        #[test]
        fn never_panics_on_tag_soup(parts in proptest::collection::vec(
            prop_oneof![
                Just("<answer>".to_string()), Just("</answer>".to_string()),
                Just("\\boxed{".to_string()), Just("{".to_string()), Just("}".to_string()),
                Just("é".to_string()), "[a-z0-9 ]{0,5}",
            ], 0..40)) {
            let s = parts.concat();
            if let Ok(e) = ex(&s) {
                // Whatever is extracted is a substring of the response.
                prop_assert!(s.contains(e.text));
            }
        }

        #[test]
        fn round_trips_any_inner_text(inner in "[^<]{0,200}") {
            let s = format!("preamble <answer>{inner}</answer> trailing");
            prop_assert_eq!(ex(&s).unwrap().text, inner.as_str());
        }
    }
}
