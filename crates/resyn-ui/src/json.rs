//! Reports read as JSON values, defensively: the store's rows and reports
//! change shape over time (new fields, renamed statuses), so pages pick the
//! fields they know with these accessors and render everything else with
//! [`view`], a generic, escaped rendering of any value. A missing or
//! mistyped field is left out, never an error.

use maud::{Markup, html};
use serde_json::{Map, Value};

/// `v[key]` as a string.
pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `v[key]` as an unsigned integer (also from a float with no fraction).
pub(crate) fn u64_at(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(as_u64)
}

/// `v[key]` as a signed integer.
pub(crate) fn i64_at(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// `v[key]` as a number.
pub(crate) fn f64_at(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// `v[key]` as a boolean.
pub(crate) fn bool_at(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// `v[key]` when it is an object.
pub(crate) fn obj_at<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

pub(crate) fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9.0e15)
            .map(|f| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked above
                let n = f as u64;
                n
            })
    })
}

/// The fields of an object other than `known`, to render generically.
pub(crate) fn others<'a>(v: &'a Value, known: &[&str]) -> Vec<(&'a str, &'a Value)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !known.contains(&k.as_str()))
                .map(|(k, v)| (k.as_str(), v))
                .collect()
        })
        .unwrap_or_default()
}

/// Deeper than this, values are shown as indented JSON text.
const MAX_DEPTH: usize = 5;

/// Any JSON value as readable, escaped HTML: objects as definition lists,
/// arrays of objects as tables, long or multi-line strings as `<pre>`.
pub(crate) fn view(v: &Value) -> Markup {
    view_at(v, 0)
}

fn view_at(v: &Value, depth: usize) -> Markup {
    if depth > MAX_DEPTH {
        return html! { pre.text { (pretty(v)) } };
    }
    match v {
        Value::Null => html! { span.muted { "none" } },
        Value::Bool(b) => html! { (if *b { "yes" } else { "no" }) },
        Value::Number(n) => html! { (n.to_string()) },
        Value::String(s) if s.contains('\n') || s.chars().count() > 120 => {
            html! { pre.text { (s) } }
        }
        Value::String(s) => html! { (s) },
        Value::Array(a) if a.is_empty() => html! { span.muted { "none" } },
        Value::Array(a) if a.iter().all(is_scalar) => html! {
            ul.inline { @for x in a { li { (view_at(x, depth + 1)) } } }
        },
        Value::Array(a) => match table_columns(a) {
            Some(cols) => html! {
                div.scroll {
                    table {
                        thead { tr { @for c in &cols { th scope="col" { (c) } } } }
                        tbody {
                            @for row in a {
                                tr { @for c in &cols {
                                    td { @if let Some(x) = row.get(c) { (view_at(x, depth + 1)) } }
                                } }
                            }
                        }
                    }
                }
            },
            None => html! { ol { @for x in a { li { (view_at(x, depth + 1)) } } } },
        },
        Value::Object(m) if m.is_empty() => html! { span.muted { "none" } },
        Value::Object(m) => html! {
            dl.json {
                @for (k, x) in m {
                    div { dt { (k) } dd { (view_at(x, depth + 1)) } }
                }
            }
        },
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// Column names when `a` is a list of flat objects with few keys.
fn table_columns(a: &[Value]) -> Option<Vec<String>> {
    let mut cols: Vec<String> = Vec::new();
    for row in a {
        for (k, x) in row.as_object()? {
            if !is_scalar(x) {
                return None;
            }
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    (cols.len() <= 8).then_some(cols)
}

/// Indented JSON text.
pub(crate) fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn any_shape_renders_escaped() {
        let v = json!({
            "<b>key</b>": "<script>alert(1)</script>",
            "rows": [{"a": 1, "b": "x"}, {"a": 2, "c": true}],
            "list": [1, "two", null],
            "nested": {"deep": {"er": {"and": {"deeper": {"still": {"x": 1}}}}}},
            "empty": [],
            "text": "line one\nline two"
        });
        let html = view(&v).into_string();
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<th scope=\"col\">c</th>"), "{html}");
        assert!(html.contains("<pre class=\"text\">line one\nline two</pre>"));
        assert!(
            html.contains("&quot;x&quot;: 1"),
            "deep values as JSON: {html}"
        );
        assert_eq!(u64_at(&json!({"n": 3.0}), "n"), Some(3));
        assert_eq!(u64_at(&json!({"n": 3.5}), "n"), None);
        assert_eq!(str_at(&json!({"n": 3}), "n"), None);
        assert_eq!(others(&json!({"a": 1, "b": 2}), &["a"]).len(), 1);
    }
}
