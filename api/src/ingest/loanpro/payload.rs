//! A LoanPro body as it is stored: JSON as its JSON value, anything else
//! (text, XML, form data) as a JSON string of its text; and LoanPro's
//! echoed `auth` credential never kept.
use std::fmt;

use http::header::CONTENT_TYPE;
use serde::{
    Deserialize, Deserializer,
    de::{MapAccess, Visitor},
};
use serde_json::{Value, value::RawValue};

use crate::ingest::{Delivery, IngestError};

/// What replaces the value of the variables payload's `auth`: the
/// credential LoanPro echoes is never stored, so no role can ever read it.
pub const HIDDEN_CREDENTIAL: &str = "\"*****\"";

pub struct Body {
    /// The JSON text to store.
    pub stored: String,
    /// The body read as JSON, when it is JSON.
    pub json: Option<Value>,
    /// As received.
    pub content_type: Option<String>,
}

impl Body {
    /// 400 only for a body that is not UTF-8: every text is kept as sent.
    pub fn read(delivery: &Delivery<'_>) -> Result<Self, IngestError> {
        let text = std::str::from_utf8(delivery.body)
            .map_err(|_| IngestError::InvalidBody("a LoanPro body must be UTF-8 text".into()))?;
        let content_type = delivery
            .head
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let parsed = serde_json::from_str::<Value>(text).ok();
        // Whatever type it was sent as, a variables payload's credential
        // goes, also from an object serde_json cannot hold as a value (a
        // number past the double range, a lone surrogate).
        let kept = hide_credential(text);
        let json = parsed.filter(|_| declares_json(content_type.as_deref()));
        let stored = match json {
            Some(_) => kept,
            None => Value::String(kept).to_string(),
        };
        Ok(Self {
            stored,
            json,
            content_type,
        })
    }
}

/// JSON unless the sender said otherwise: no content type, or a JSON one
/// (`application/json`, `…+json`). A text that happens to parse as JSON
/// but was sent as `text/plain` stays text, as it was sent.
fn declares_json(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    content_type
        .parse::<mime::Mime>()
        .is_ok_and(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
}

/// `object` (a JSON object's text) with the value of every top-level `auth`
/// member replaced by [`HIDDEN_CREDENTIAL`]; every other byte as received.
/// A body sent as text that is such an object loses its credential too.
/// Only the top level: that is where LoanPro echoes it, and an `auth` deeper
/// in a lender's own body is its data, not LoanPro's credential.
fn hide_credential(object: &str) -> String {
    let Ok(Members(members)) = serde_json::from_str(object) else {
        return object.to_owned();
    };
    let mut hidden = String::with_capacity(object.len());
    let mut copied = 0;
    for (name, value) in members {
        if name.0 != b"auth" {
            continue;
        }
        // The value borrows from `object`: its offset is where it sits.
        let start = value.get().as_ptr() as usize - object.as_ptr() as usize;
        hidden.push_str(&object[copied..start]);
        hidden.push_str(HIDDEN_CREDENTIAL);
        copied = start + value.get().len();
    }
    hidden.push_str(&object[copied..]);
    hidden
}

/// A JSON object's members in received order, repeated names included
/// (each `auth` is hidden, not only the one a map would keep).
struct Members<'a>(Vec<(Name, &'a RawValue)>);

/// A member name as bytes, escapes decoded: serde_json reads a name with a
/// lone surrogate escape (`"\ud800"`, which JavaScript writes) only so.
struct Name(Vec<u8>);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl Visitor<'_> for NameVisitor {
            type Value = Name;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_bytes<E>(self, name: &[u8]) -> Result<Name, E> {
                Ok(Name(name.to_vec()))
            }

            fn visit_str<E>(self, name: &str) -> Result<Name, E> {
                Ok(Name(name.as_bytes().to_vec()))
            }
        }

        deserializer.deserialize_bytes(NameVisitor)
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<Name, &'de RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;

    fn read(content_type: Option<&str>, body: &str) -> Result<Body, IngestError> {
        let mut headers = HeaderMap::new();
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        }
        Body::read(&Delivery::local(&headers, body.as_bytes()))
    }

    #[test]
    fn the_echoed_credential_is_replaced_and_nothing_else_changes() {
        let body = "{ \"eventName\" : \"x\",\n  \"auth\" : \"s3cret\", \"context\": {\"auth\": 1},\"auth\":{\"a\":[\"s3cret\"]} }";
        let stored = read(Some("application/json"), body).unwrap().stored;
        assert_eq!(
            stored,
            "{ \"eventName\" : \"x\",\n  \"auth\" : \"*****\", \"context\": {\"auth\": 1},\"auth\":\"*****\" }"
        );
        // An escaped spelling of the name is the same name.
        let stored = read(None, r#"{"\u0061uth":"s3cret"}"#).unwrap().stored;
        assert_eq!(stored, r#"{"\u0061uth":"*****"}"#);
        let stored = read(None, r#"{"eventName":"x"}"#).unwrap().stored;
        assert_eq!(stored, r#"{"eventName":"x"}"#);
        // Sent as text, it stays text, but without the credential.
        let text = read(Some("text/plain"), r#"{"auth": "s3cret", "trace": "t"}"#).unwrap();
        assert_eq!(text.json, None);
        let stored: Value = serde_json::from_str(&text.stored).unwrap();
        assert_eq!(
            stored,
            Value::String(r#"{"auth": "*****", "trace": "t"}"#.into())
        );
    }

    /// Found writing the `loanpro` fuzz target's credential property: an
    /// object serde_json cannot hold as a value was stored, as text, with
    /// its credential.
    #[test]
    fn the_credential_goes_from_objects_serde_json_cannot_hold() {
        for (body, hidden) in [
            (
                r#"{"auth": "s3cret", "n": 1e400}"#,
                r#"{"auth": "*****", "n": 1e400}"#,
            ),
            (
                r#"{"auth": "s3cret", "s": "\ud800"}"#,
                r#"{"auth": "*****", "s": "\ud800"}"#,
            ),
            (
                r#"{"\udc00": 1, "auth": "s3cret"}"#,
                r#"{"\udc00": 1, "auth": "*****"}"#,
            ),
        ] {
            let read = read(Some("application/json"), body).unwrap();
            assert_eq!(read.json, None, "{body}");
            let stored: Value = serde_json::from_str(&read.stored).unwrap();
            assert_eq!(stored, Value::String(hidden.to_owned()));
        }
    }

    #[test]
    fn bodies_that_are_not_json_are_kept_as_their_text() {
        for (content_type, body) in [
            (Some("text/plain"), "hello {\"auth\": \"s3cret\"}"),
            (
                Some("application/xml"),
                "<note auth=\"s3cret\"><to>Tove</to></note>",
            ),
            (Some("application/x-www-form-urlencoded"), "a=1&b=%20two"),
            (Some("text/plain"), "{\"a\": 1}"),
            (Some("application/json"), "not json"),
            (None, ""),
        ] {
            let read = read(content_type, body).unwrap();
            assert_eq!(read.json, None, "{body}");
            let stored: Value = serde_json::from_str(&read.stored).unwrap();
            assert_eq!(stored, Value::String(body.to_owned()));
            assert_eq!(read.content_type.as_deref(), content_type);
        }
        let read = read(Some("application/vnd.loan+json; charset=utf-8"), "[1, 2]").unwrap();
        assert_eq!(read.stored, "[1, 2]");
        assert!(read.json.is_some());
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused() {
        let headers = HeaderMap::new();
        assert!(matches!(
            Body::read(&Delivery::local(&headers, b"\xff\xfe")),
            Err(IngestError::InvalidBody(_))
        ));
    }
}
