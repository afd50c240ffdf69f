//! `JSON.stringify` as ECMAScript writes it, for signatures that providers
//! compute in JavaScript over a re-serialized object.
use serde_json::Value;

/// Compact JSON in the value's key order (parse with `preserve_order`), with
/// numbers printed as JavaScript prints doubles (`1.0` → `1`, `1e3` → `1000`).
pub fn json_stringify(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            // JavaScript holds every number as a double; so does this.
            let f = n.as_f64().unwrap_or(f64::NAN);
            out.push_str(ryu_js::Buffer::new().format(f));
        }
        // serde_json escapes exactly as JSON.stringify does: `"`, `\`, the
        // short escapes for \b \f \n \r \t, other controls as \u00XX,
        // everything else (including `/` and non-ASCII) raw.
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string always serializes"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stringify(text: &str) -> String {
        json_stringify(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn matches_javascript() {
        // Expected values are what node's JSON.stringify(JSON.parse(input)) prints.
        let cases = [
            (
                r#"{ "b" : 1.0, "a": [1e3, -0, 0.1, 1e21, 1.5e-7] }"#,
                r#"{"b":1,"a":[1000,0,0.1,1e+21,1.5e-7]}"#,
            ),
            (
                r#"{"s": "é/\u00e9\n\u0001\t\"\\"}"#,
                "{\"s\":\"é/é\\n\\u0001\\t\\\"\\\\\"}",
            ),
            (
                r#"{"z": null, "y": true, "x": {"n": 12345678901234567890}}"#,
                r#"{"z":null,"y":true,"x":{"n":12345678901234567000}}"#,
            ),
            (
                r#"{"big": 9007199254740993, "neg": -42, "e": 2.5E+2}"#,
                r#"{"big":9007199254740992,"neg":-42,"e":250}"#,
            ),
            (r#"{"a": 1, "a": 2}"#, r#"{"a":2}"#),
        ];
        for (input, expected) in cases {
            assert_eq!(stringify(input), expected, "{input}");
        }
    }
}
