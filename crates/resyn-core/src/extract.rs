//! Answer extraction shared by every environment.
//!
//! Rules, in order:
//! 1. A response longer than [`ExtractConfig::max_response_bytes`] is rejected
//!    ([`ExtractError::TooLong`]) before any scanning.
//! 2. Reasoning is never an answer. Only the text after the last `</think>`
//!    can hold one (the whole response when it has no `</think>`; a chat
//!    template that opens `<think>` in the prompt leaves only the closing tag
//!    in the response). A `<think>` that is never closed means the response
//!    ended inside its reasoning: no answer ([`ExtractError::UnclosedThink`]).
//! 3. In that text, when it holds any `<answer>` or `</answer>` tag (ASCII
//!    case-insensitive), the answer is the **last** `<answer>...</answer>`
//!    block. With several blocks only the last counts, so a response cannot
//!    list candidates in separate blocks and collect credit for any of them.
//!    If the last `<answer>` is never closed (a truncated response) there is
//!    no answer ([`ExtractError::UnclosedAnswer`]), whatever came before it.
//!    With nested or stray tags, the block runs from the last `<answer>` to
//!    the last `</answer>`.
//! 4. Only when that text has no answer tag at all: the content of the last
//!    balanced `\boxed{...}` (a documented fallback, [`ExtractConfig::boxed_fallback`]).
//! 5. Otherwise [`ExtractError::NoAnswer`].
//!
//! An extracted answer longer than [`ExtractConfig::max_answer_bytes`] is
//! rejected too. Extraction never panics, and rules 2-4 are property-tested
//! on arbitrary input.

/// Limits for [`extract_answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractConfig {
    /// Responses longer than this (in bytes) get no reward.
    pub max_response_bytes: usize,
    /// Extracted answers longer than this (in bytes) get no reward.
    pub max_answer_bytes: usize,
    /// Whether `\boxed{...}` is accepted when the text after the reasoning
    /// holds no answer tag (rule 4).
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
    /// The last `<answer>` is never closed (the response was cut off).
    #[error("the last <answer> block is never closed (truncated response?)")]
    UnclosedAnswer,
    /// A `<think>` is never closed: the response ended inside its reasoning.
    #[error("the <think> block is never closed: no answer follows the reasoning")]
    UnclosedThink,
}

const OPEN: &[u8] = b"<answer>";
const CLOSE: &[u8] = b"</answer>";
const BOXED: &[u8] = b"\\boxed{";
const THINK_OPEN: &[u8] = b"<think>";
const THINK_CLOSE: &[u8] = b"</think>";

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
    let region = answer_region(response)?;
    let found = match answer_tag(region)? {
        Some(text) => Extracted {
            text,
            from: ExtractedFrom::AnswerTag,
        },
        None => config
            .boxed_fallback
            .then(|| boxed(region))
            .flatten()
            .map(|text| Extracted {
                text,
                from: ExtractedFrom::Boxed,
            })
            .ok_or(ExtractError::NoAnswer)?,
    };
    if found.text.len() > config.max_answer_bytes {
        return Err(ExtractError::AnswerTooLong {
            len: found.text.len(),
            max: config.max_answer_bytes,
        });
    }
    Ok(found)
}

/// The text that may hold the answer: after the last `</think>`.
fn answer_region(s: &str) -> Result<&str, ExtractError> {
    let b = s.as_bytes();
    let start = rfind_ci(b, THINK_CLOSE, b.len()).map_or(0, |i| i + THINK_CLOSE.len());
    if rfind_ci(b, THINK_OPEN, b.len()).is_some_and(|i| i >= start) {
        return Err(ExtractError::UnclosedThink);
    }
    // Tags are ASCII, so `start` is a char boundary.
    s.get(start..).ok_or(ExtractError::NoAnswer)
}

/// The last `<answer>` block; `Ok(None)` only when `s` holds no answer tag
/// at all (a stray `</answer>` also rules out the `\boxed{}` fallback).
fn answer_tag(s: &str) -> Result<Option<&str>, ExtractError> {
    let b = s.as_bytes();
    let close = rfind_ci(b, CLOSE, b.len());
    let Some(open) = rfind_ci(b, OPEN, b.len()) else {
        return match close {
            Some(_) => Err(ExtractError::NoAnswer),
            None => Ok(None),
        };
    };
    match close {
        // Tags are ASCII, so both offsets are char boundaries.
        Some(close) if close > open => Ok(s.get(open + OPEN.len()..close)),
        _ => Err(ExtractError::UnclosedAnswer),
    }
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
    fn the_last_block_wins() {
        assert_eq!(
            ex("<answer>1</answer> then <answer>2</answer>")
                .unwrap()
                .text,
            "2"
        );
        // A final block cut off: the earlier, abandoned answer does not count.
        assert_eq!(
            ex("<answer>1</answer> then <answer>2").unwrap_err(),
            ExtractError::UnclosedAnswer
        );
        assert_eq!(ex("<ANSWER> x </Answer>").unwrap().text, " x ");
        assert_eq!(ex("<answer><answer>in</answer>").unwrap().text, "in");
        assert_eq!(
            ex("</answer><answer>").unwrap_err(),
            ExtractError::UnclosedAnswer
        );
        assert_eq!(ex("").unwrap_err(), ExtractError::NoAnswer);
        assert_eq!(ex("<answer>").unwrap_err(), ExtractError::UnclosedAnswer);
        assert_eq!(ex("x </answer>").unwrap_err(), ExtractError::NoAnswer);
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
    fn reasoning_is_never_an_answer() {
        // The cases of issue 12: an unclosed final block with a \boxed{}
        // in the reasoning, and a \boxed{} only in the reasoning.
        assert_eq!(
            ex("<think>\\boxed{18}</think>\n<answer>\n18").unwrap_err(),
            ExtractError::UnclosedAnswer
        );
        assert_eq!(
            ex("<think>so \\boxed{18}</think> done").unwrap_err(),
            ExtractError::NoAnswer
        );
        assert_eq!(
            ex("<think>it is <answer>18</answer></think> done").unwrap_err(),
            ExtractError::NoAnswer
        );
        assert_eq!(
            ex("<think>18 <answer>18</answer>").unwrap_err(),
            ExtractError::UnclosedThink
        );
        // After the reasoning, both rules apply as usual.
        let got = ex("<THINK>\\boxed{1}</Think> so \\boxed{18}").unwrap();
        assert_eq!((got.text, got.from), ("18", ExtractedFrom::Boxed));
        assert_eq!(ex("<think>a</think><answer>7</answer>").unwrap().text, "7");
        // A template that opens <think> in the prompt: only `</think>` is here.
        assert_eq!(
            ex("hmm <answer>1</answer> \\boxed{1}</think><answer>2</answer>")
                .unwrap()
                .text,
            "2"
        );
        // An answer tag rules out the fallback, even unclosed.
        assert_eq!(
            ex("\\boxed{18} <answer>").unwrap_err(),
            ExtractError::UnclosedAnswer
        );
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

    /// Fragments of responses: text, braces, `\\boxed{`, answer tags in
    /// several cases and, with `think`, `<think>` tags (never `</think>`).
    fn soup(think: bool) -> impl Strategy<Value = Vec<String>> {
        let frag = prop_oneof![
            answer_tag_variant(),
            Just("\\boxed{".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just("é".to_string()),
            "[a-z0-9 \n]{0,6}",
        ];
        let frag = if think {
            prop_oneof![4 => frag, 1 => think_open_variant()].boxed()
        } else {
            frag.boxed()
        };
        proptest::collection::vec(frag, 0..30)
    }

    fn answer_tag_variant() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("<answer>"),
            Just("</answer>"),
            Just("<ANSWER>"),
            Just("</Answer>")
        ]
        .prop_map(str::to_string)
    }

    fn think_open_variant() -> impl Strategy<Value = String> {
        prop_oneof![Just("<think>"), Just("<THINK>"), Just("<Think>")].prop_map(str::to_string)
    }

    fn think_close_variant() -> impl Strategy<Value = String> {
        prop_oneof![Just("</think>"), Just("</THINK>"), Just("</Think>")].prop_map(str::to_string)
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
        fn the_fallback_never_applies_beside_an_answer_tag(
            parts in soup(false),
            tag in answer_tag_variant(),
            at in 0usize..40,
        ) {
            let mut parts = parts;
            parts.insert(at.min(parts.len()), tag);
            let s = parts.concat();
            if let Ok(e) = ex(&s) {
                prop_assert_eq!(e.from, ExtractedFrom::AnswerTag, "{:?}", s);
            }
        }

        #[test]
        fn nothing_inside_reasoning_is_an_answer(
            reasoning in soup(false),
            open in think_open_variant(),
            close in think_close_variant(),
            tail in "[a-z0-9 .,]{0,40}",
            template_opened in any::<bool>(),
        ) {
            // `<think>` may be in the prompt (template) or in the response.
            let open = if template_opened { String::new() } else { open };
            let s = format!("{open}{}{close}{tail}", reasoning.concat());
            prop_assert!(ex(&s).is_err(), "{:?} gave {:?}", s, ex(&s));
        }

        #[test]
        fn an_unclosed_think_is_no_answer(
            before in soup(false),
            open in think_open_variant(),
            after in soup(false),
        ) {
            let s = format!("{}{open}{}", before.concat(), after.concat());
            prop_assert!(ex(&s).is_err(), "{:?}", s);
        }

        #[test]
        fn a_cut_off_final_block_is_no_answer(
            before in soup(false),
            tag in prop_oneof![Just("<answer>"), Just("<ANSWER>"), Just("<Answer>")],
            inner in "[^<]{0,60}",
        ) {
            let s = format!("{}{tag}{inner}", before.concat());
            prop_assert_eq!(ex(&s).unwrap_err(), ExtractError::UnclosedAnswer, "{:?}", s);
        }

        #[test]
        fn the_answer_after_the_reasoning_is_found(
            reasoning in soup(true),
            inner in "[^<]{0,60}",
            trailing in "[a-z0-9 .{}]{0,20}",
        ) {
            let s = format!(
                "<think>{}</think><Answer>{inner}</ANSWER>{trailing}",
                reasoning.concat()
            );
            prop_assert_eq!(ex(&s).unwrap().text, inner.as_str(), "{:?}", s);
        }

        #[test]
        fn round_trips_any_inner_text(inner in "[^<]{0,200}") {
            let s = format!("preamble <answer>{inner}</answer> trailing");
            prop_assert_eq!(ex(&s).unwrap().text, inner.as_str());
        }
    }
}
