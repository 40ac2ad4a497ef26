//! The format component of the reward.
//!
//! A response is well formatted when, with tags matched ASCII
//! case-insensitively like [`resyn_core::extract_answer`] does:
//! 1. it holds exactly one `<think>` and exactly one `</think>`, in that
//!    order;
//! 2. it holds exactly one `<answer>` and exactly one `</answer>`, in that
//!    order;
//! 3. the think block closes before the answer block opens.
//!
//! Text before `<think>`, between the blocks and after `</answer>` is
//! allowed (chat templates and trainers differ in what they strip), and the
//! blocks may be empty: the check is about structure; correctness is the
//! verifier's job. The check is linear in the response and never panics.

/// Why a response fails the format check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatViolation {
    /// `<think>` or `</think>` is missing or appears more than once.
    #[error("expected exactly one <think> and one </think>, found {open} and {close}")]
    ThinkCount {
        /// Number of `<think>` tags.
        open: usize,
        /// Number of `</think>` tags.
        close: usize,
    },
    /// `<answer>` or `</answer>` is missing or appears more than once.
    #[error("expected exactly one <answer> and one </answer>, found {open} and {close}")]
    AnswerCount {
        /// Number of `<answer>` tags.
        open: usize,
        /// Number of `</answer>` tags.
        close: usize,
    },
    /// A closing tag comes before its opening tag.
    #[error("a closing tag comes before its opening tag")]
    Misordered,
    /// The answer block opens before the think block closes.
    #[error("the <answer> block must follow the </think> tag")]
    AnswerBeforeThink,
}

const TAGS: [&[u8]; 4] = [b"<think>", b"</think>", b"<answer>", b"</answer>"];

/// Check the response format (see the module docs).
///
/// # Errors
/// The first [`FormatViolation`] found.
pub fn check_format(response: &str) -> Result<(), FormatViolation> {
    let b = response.as_bytes();
    let mut count = [0usize; 4];
    let mut first = [usize::MAX; 4];
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<') {
        let at = i + off;
        for (k, tag) in TAGS.iter().enumerate() {
            if b.len() - at >= tag.len() && b[at..at + tag.len()].eq_ignore_ascii_case(tag) {
                count[k] += 1;
                first[k] = first[k].min(at);
            }
        }
        i = at + 1;
    }
    if count[0] != 1 || count[1] != 1 {
        return Err(FormatViolation::ThinkCount {
            open: count[0],
            close: count[1],
        });
    }
    if count[2] != 1 || count[3] != 1 {
        return Err(FormatViolation::AnswerCount {
            open: count[2],
            close: count[3],
        });
    }
    if first[1] < first[0] || first[3] < first[2] {
        return Err(FormatViolation::Misordered);
    }
    if first[2] < first[1] {
        return Err(FormatViolation::AnswerBeforeThink);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_documented_shape() {
        for ok in [
            "<think>a</think><answer>1</answer>",
            "<think>\nlong\n</think>\n\n<answer>\n1\n</answer>",
            "preamble <THINK></Think> between <Answer>x</ANSWER> trailing<|im_end|>",
        ] {
            assert_eq!(check_format(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_each_violation() {
        use FormatViolation::*;
        let cases: [(&str, FormatViolation); 7] = [
            ("<answer>1</answer>", ThinkCount { open: 0, close: 0 }),
            ("<think>a</think>", AnswerCount { open: 0, close: 0 }),
            (
                "<think>a</think><think>b</think><answer>1</answer>",
                ThinkCount { open: 2, close: 2 },
            ),
            (
                "<think>a</think><answer>1</answer><answer>2</answer>",
                AnswerCount { open: 2, close: 2 },
            ),
            (
                "<think>a</think><answer>1",
                AnswerCount { open: 1, close: 0 },
            ),
            ("</think>a<think><answer>1</answer>", Misordered),
            ("<think>a<answer>1</answer></think>", AnswerBeforeThink),
        ];
        for (resp, want) in cases {
            assert_eq!(check_format(resp), Err(want), "{resp}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "(<|>|/|think|answer|[a-zA-Zé ])*") {
            let _ = check_format(&s);
        }

        #[test]
        fn wrapping_any_tag_free_text_passes(t in "[^<]*", a in "[^<]*") {
            let resp = format!("<think>{t}</think><answer>{a}</answer>");
            prop_assert_eq!(check_format(&resp), Ok(()));
        }
    }
}
