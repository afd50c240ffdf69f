//! A LoanPro delivery as a [`NewEvent`].
use http::HeaderMap;
use serde_json::Value;

use super::payload::Body;
use crate::{
    event::{NewEvent, SourceKind},
    ingest::{IngestError, idempotency_key, identifier, key_part},
};

/// What a body that is not the variables payload is stored as.
const CUSTOM: &str = "custom";

/// `type` is `eventName`, else `custom`; the account is `context.loan-id`.
/// Dedup by `trace`, which LoanPro keeps across its retries (only
/// `attemptNumber` grows), else by `Idempotency-Key`, else none.
pub fn normalize(body: Body, headers: &HeaderMap) -> Result<NewEvent, IngestError> {
    let json = body.json.as_ref();
    let field = |pointer: &str| json.and_then(|j| j.pointer(pointer));
    let event_type = field("/eventName")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(CUSTOM)
        .to_owned();
    let trace = field("/trace")
        .and_then(identifier)
        .filter(|trace| !trace.is_empty());
    let dedup_key = match trace {
        Some(trace) => Some(format!("trace:{}", key_part("trace", trace)?)),
        None => idempotency_key(headers)?.map(|key| format!("idempotency-key:{key}")),
    };
    Ok(NewEvent {
        source: SourceKind::Loanpro,
        event_type,
        account_id: field("/context/loan-id").and_then(identifier),
        dedup_key,
        occurred_at: None,
        payload: body.stored,
        content_type: body.content_type,
        account_change: None,
        follow_up: None,
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use serde_json::json;

    use super::*;

    fn event(json: Option<Value>, idempotency: Option<&str>) -> Result<NewEvent, IngestError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = idempotency {
            headers.insert("idempotency-key", HeaderValue::from_str(key).unwrap());
        }
        let body = Body {
            stored: json
                .as_ref()
                .map_or_else(|| "\"text\"".into(), Value::to_string),
            json,
            content_type: None,
        };
        normalize(body, &headers)
    }

    #[test]
    fn the_variables_payload_names_its_event_loan_and_trace() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/loanpro/loan_5_days_past_due.json"
        );
        let json: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        let event = event(Some(json), Some("ignored")).unwrap();
        assert_eq!(event.event_type, "Customer's Loan is 5 Days Past Due");
        assert_eq!(event.account_id.as_deref(), Some("3579"));
        assert_eq!(
            event.dedup_key.as_deref(),
            Some("trace:204262bb-4634-49ad-8b88-db8217b76c09")
        );
    }

    #[test]
    fn other_bodies_are_custom_and_dedup_by_idempotency_key_only() {
        let custom = event(Some(json!({"Notes": {}})), Some("k-1")).unwrap();
        assert_eq!(custom.event_type, "custom");
        assert_eq!(custom.account_id, None);
        assert_eq!(custom.dedup_key.as_deref(), Some("idempotency-key:k-1"));
        let text = event(None, None).unwrap();
        assert_eq!((text.event_type.as_str(), text.dedup_key), ("custom", None));
        // `context` as LoanPro sends it with nothing in it: a list.
        let empty = event(Some(json!({"eventName": "e", "context": []})), None).unwrap();
        assert_eq!((empty.account_id, empty.dedup_key), (None, None));
        let numbered = event(
            Some(json!({"trace": 7, "context": {"loan-id": "12"}})),
            None,
        );
        let numbered = numbered.unwrap();
        assert_eq!(numbered.dedup_key.as_deref(), Some("trace:7"));
        assert_eq!(numbered.account_id.as_deref(), Some("12"));
    }

    #[test]
    fn keys_the_store_could_not_hold_are_refused() {
        let long = "x".repeat(300);
        assert!(event(Some(json!({"trace": long})), None).is_err());
        assert!(event(None, Some(&long)).is_err());
    }
}
