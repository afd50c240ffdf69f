//! The wire shape of an Embedded Funding callback:
//! `{message, withdrawalId, companyId, limitRequestId, loanId}`.
use serde_json::{Map, Value};

use crate::ingest::{IngestError, identifier};

pub struct Callback<'a> {
    /// The body as received.
    pub text: &'a str,
    pub message: i64,
    pub company_id: Option<String>,
    pub withdrawal_id: Option<String>,
    pub limit_request_id: Option<String>,
    pub loan_id: Option<String>,
}

impl<'a> Callback<'a> {
    /// A JSON object with an integer `message`, else 400. Identifiers that
    /// do not apply to the message are null (seed 004), or may be left out.
    pub fn parse(body: &'a [u8]) -> Result<Self, IngestError> {
        let invalid = |why: &str| {
            IngestError::InvalidBody(format!("not an Embedded Funding callback: {why}"))
        };
        let text = std::str::from_utf8(body).map_err(|_| invalid("not UTF-8"))?;
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(text) else {
            return Err(invalid("not a JSON object"));
        };
        let message = fields
            .get("message")
            .and_then(integer)
            .ok_or_else(|| invalid("`message` must be an integer"))?;
        let id = |name: &str| {
            optional_id(&fields, name)
                .map_err(|()| invalid(&format!("`{name}` must be a string or null")))
        };
        Ok(Self {
            text,
            message,
            company_id: id("companyId")?,
            withdrawal_id: id("withdrawalId")?,
            limit_request_id: id("limitRequestId")?,
            loan_id: id("loanId")?,
        })
    }
}

/// An integer, also when written `1.0`; not `1.5`, `"1"` or past 2^53.
fn integer(value: &Value) -> Option<i64> {
    const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= MAX_EXACT)
            .map(|f| f as i64)
    })
}

fn optional_id(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, ()> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => identifier(value)
            .filter(|id| !id.is_empty())
            .map(Some)
            .ok_or(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<(i64, Option<String>, Option<String>), String> {
        Callback::parse(body.as_bytes())
            .map(|c| (c.message, c.company_id, c.withdrawal_id))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn messages_are_integers_and_identifiers_may_be_null() {
        assert_eq!(
            parse(r#"{"message": 1, "companyId": "c", "withdrawalId": null}"#),
            Ok((1, Some("c".into()), None))
        );
        assert_eq!(parse(r#"{"message": 2.0}"#), Ok((2, None, None)));
        assert_eq!(
            parse(r#"{"message": -3, "companyId": 17}"#),
            Ok((-3, Some("17".into()), None))
        );
        for body in [
            "",
            "[]",
            r#"{"message": "0"}"#,
            r#"{"message": 1.5}"#,
            r#"{"message": null}"#,
            r#"{"message": 1e300}"#,
            r#"{"companyId": "c"}"#,
            r#"{"message": 0, "companyId": {"id": "c"}}"#,
            r#"{"message": 0, "loanId": true}"#,
        ] {
            assert!(parse(body).is_err(), "{body}");
        }
    }
}
