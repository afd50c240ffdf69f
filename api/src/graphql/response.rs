//! The one writer of GraphQL responses as JSON text (HTTP and WebSocket).
//! async-graphql's own `Serialize` would write a [`Json`](super::scalars::Json)
//! value, which holds JSON text as `Binary`, as an array of bytes; here it
//! goes in as the text it is.
use async_graphql::{Response, Value};
use serde::Serialize;

/// The response's `data` (unless `with_data` is false: a request error
/// has none), `extensions` and `errors`, as async-graphql names and orders
/// them, appended to `out`.
pub fn write(out: &mut Vec<u8>, response: &Response, with_data: bool) {
    let mut fields = Fields::open(out);
    if with_data {
        write_value(fields.next("data"), &response.data);
    }
    if !response.extensions.is_empty() {
        let mut map = Fields::open(fields.next("extensions"));
        for (key, value) in &response.extensions {
            write_value(map.next(key), value);
        }
        map.close();
    }
    if !response.errors.is_empty() {
        write_serde(fields.next("errors"), &response.errors);
    }
    fields.close();
}

/// The response as a JSON value (tests read responses this way).
pub fn to_json(response: &Response) -> serde_json::Value {
    let mut out = Vec::new();
    write(&mut out, response, true);
    serde_json::from_slice(&out).expect("a response is JSON")
}

/// One value as JSON text, appended to `out`.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Number(n) => write_serde(out, n),
        Value::String(s) => write_str(out, s),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // Only `Json` makes these: JSON text already.
        Value::Binary(text) => out.extend_from_slice(text),
        Value::Enum(name) => write_serde(out, name.as_str()),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut fields = Fields::open(out);
            for (key, value) in map {
                write_value(fields.next(key), value);
            }
            fields.close();
        }
    }
}

/// A string as JSON text, appended to `out`.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    write_serde(out, text);
}

fn write_serde(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) {
    serde_json::to_writer(out, value).expect("writing to memory does not fail");
}

/// A JSON object being written.
struct Fields<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Fields<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    /// Writes `key` and the colon; the value follows in what it returns.
    fn next(&mut self, key: &str) -> &mut Vec<u8> {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        write_serde(self.out, key);
        self.out.push(b':');
        self.out
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, ServerError, indexmap::IndexMap};
    use bytes::Bytes;
    use serde_json::json;

    use super::*;

    fn text(response: &Response, with_data: bool) -> String {
        let mut out = Vec::new();
        write(&mut out, response, with_data);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_what_async_graphql_writes_for_values_without_json_text() {
        let data = json!({"a": [1, -2.5, "x\"\u{2028}", null, true], "b": {"c": {}}, "d": []});
        let mut response = Response::new(Value::from_json(data).unwrap());
        assert_eq!(
            text(&response, true),
            serde_json::to_string(&response).unwrap()
        );
        response.errors.push(ServerError::new("no", None));
        response.extensions.insert(
            "cost".to_owned(),
            Value::from_json(json!({"n": 3})).unwrap(),
        );
        assert_eq!(
            text(&response, true),
            serde_json::to_string(&response).unwrap()
        );
        let mut enums = IndexMap::new();
        enums.insert(Name::new("state"), Value::Enum(Name::new("DONE")));
        let response = Response::new(Value::Object(enums));
        assert_eq!(text(&response, true), r#"{"data":{"state":"DONE"}}"#);
    }

    #[test]
    fn json_text_goes_in_as_it_is_and_data_can_be_left_out() {
        let mut map = IndexMap::new();
        map.insert(
            Name::new("payload"),
            Value::Binary(Bytes::from_static(br#"{ "a": 1.50 }"#)),
        );
        let mut response = Response::new(Value::Object(map));
        assert_eq!(
            text(&response, true),
            r#"{"data":{"payload":{ "a": 1.50 }}}"#
        );
        response.errors.push(ServerError::new("no", None));
        assert_eq!(text(&response, false), r#"{"errors":[{"message":"no"}]}"#);
        assert_eq!(to_json(&response)["data"]["payload"], json!({"a": 1.5}));
    }
}
