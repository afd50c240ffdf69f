//! The wire shape of a Canopy webhook body.
use serde::Deserialize;
use serde_json::{Value, value::RawValue};

use crate::{
    ecmascript::{self, Json},
    ingest::IngestError,
};

#[derive(Deserialize)]
pub struct Envelope<'a> {
    pub event: String,
    /// Exactly the bytes received: the first form the signature is checked on.
    #[serde(borrow)]
    pub data: &'a RawValue,
    #[serde(default)]
    pub hmac_signature: Option<Value>,
}

impl<'a> Envelope<'a> {
    /// A JSON object with a string `event` and an object `data` (named once), else 400.
    pub fn parse(body: &'a [u8]) -> Result<Self, IngestError> {
        let envelope: Self = serde_json::from_slice(body)
            .map_err(|e| IngestError::InvalidBody(format!("not a Canopy webhook body: {e}")))?;
        if !envelope.data.get().starts_with('{') {
            return Err(IngestError::InvalidBody(
                "`data` must be a JSON object".into(),
            ));
        }
        Ok(envelope)
    }

    /// `data` as `JSON.parse` reads it, so whatever Canopy's JavaScript can
    /// have signed is readable (lone surrogates such as `"\ud800"` and
    /// numbers past the double range included, which serde_json refuses).
    pub fn data_value(&self) -> Result<Json<'a>, IngestError> {
        ecmascript::parse(self.data.get())
            .map_err(|e| IngestError::InvalidBody(format!("`data` is not readable: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<String, String> {
        Envelope::parse(body.as_bytes())
            .map(|e| e.data.get().to_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn keeps_the_exact_bytes_of_data() {
        assert_eq!(
            parse(r#"{"event":"x","data": { "a" : 1.0 } ,"hmac_signature":"s"}"#).unwrap(),
            r#"{ "a" : 1.0 }"#
        );
    }

    #[test]
    fn refuses_what_canopy_does_not_send() {
        for body in [
            "",
            "not json",
            "[]",
            r#"{"data":{}}"#,
            r#"{"event":1,"data":{}}"#,
            r#"{"event":"x"}"#,
            r#"{"event":"x","data":[]}"#,
            r#"{"event":"x","data":"{}"}"#,
            r#"{"event":"x","data":null}"#,
            r#"{"event":"x","data":{},"data":{}}"#,
            r#"{"event":"x","data":{}"#,
        ] {
            assert!(parse(body).is_err(), "{body}");
        }
    }
}
