//! Fast text building for prompts and answers: append to one `String`
//! instead of `format!`-ing every item and joining a `Vec<String>`.
//! Output is byte-identical to the `Display` forms.

/// An empty prompt buffer with room for `body` bytes plus the answer
/// instruction [`crate::Native`] appends, so the prompt is never copied
/// to grow.
pub fn prompt_buffer(body: usize) -> String {
    String::with_capacity(body + 2 + crate::ANSWER_INSTRUCTION.len())
}

/// Append the decimal form of `n` (as `{n}` would).
pub fn push_uint(s: &mut String, n: u64) {
    if n < 10 {
        s.push(char::from(b'0' + n as u8));
        return;
    }
    if n < 100 {
        // Two digits, the usual case for weights, vertices and cells.
        s.push(char::from(b'0' + (n / 10) as u8));
        s.push(char::from(b'0' + (n % 10) as u8));
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits: always valid UTF-8.
    if let Ok(digits) = std::str::from_utf8(&buf[i..]) {
        s.push_str(digits);
    }
}

/// Append the decimal form of `n` (as `{n}` would).
pub fn push_int(s: &mut String, n: i64) {
    if n < 0 {
        s.push('-');
    }
    push_uint(s, n.unsigned_abs());
}

/// Append every item, written by `f`, with `sep` between consecutive items.
pub fn push_joined<I: IntoIterator>(
    s: &mut String,
    items: I,
    sep: &str,
    mut f: impl FnMut(&mut String, I::Item),
) {
    for (k, item) in items.into_iter().enumerate() {
        if k > 0 {
            s.push_str(sep);
        }
        f(s, item);
    }
}

/// `items` written by `f` and joined by `sep`, as a new string.
pub fn joined<I: IntoIterator>(items: I, sep: &str, f: impl FnMut(&mut String, I::Item)) -> String {
    let items = items.into_iter();
    let mut s = String::with_capacity(items.size_hint().0 * 8);
    push_joined(&mut s, items, sep, f);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn joins() {
        assert_eq!(joined([1u64, 22, 333], ", ", push_uint), "1, 22, 333");
        assert_eq!(joined(Vec::<u64>::new(), ", ", push_uint), "");
    }

    proptest! {
        #[test]
        fn numbers_match_display(u in any::<u64>(), i in any::<i64>()) {
            let mut s = String::new();
            push_uint(&mut s, u);
            prop_assert_eq!(&s, &u.to_string());
            s.clear();
            push_int(&mut s, i);
            prop_assert_eq!(&s, &i.to_string());
            for small in [0u64, 9, 10, 99, 100, u64::MAX] {
                s.clear();
                push_uint(&mut s, small);
                prop_assert_eq!(&s, &small.to_string());
            }
        }
    }
}
