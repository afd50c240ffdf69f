//! Canopy's signature: `base64(HMAC-SHA256(secret, data))`, where `data` is
//! first the exact bytes received, then `JSON.stringify(data)` (what
//! Canopy's own JavaScript example signs). Any configured secret verifies.
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::payload::Envelope;
use crate::{
    ingest::{IngestError, ecmascript::json_stringify},
    secret::Secret,
};

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

/// Returns the signature as sent, once it verifies.
pub fn verify(
    secrets: &[Secret],
    envelope: &Envelope<'_>,
    data: &Value,
) -> Result<String, IngestError> {
    let signature = match &envelope.hmac_signature {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(IngestError::InvalidSignature(
                "missing hmac_signature".into(),
            ));
        }
        Some(_) => {
            return Err(IngestError::InvalidSignature(
                "hmac_signature is not a string".into(),
            ));
        }
    };
    let expected = STANDARD
        .decode(signature)
        .map_err(|_| IngestError::InvalidSignature("hmac_signature is not base64".into()))?;
    let matches = |bytes: &[u8]| {
        secrets.iter().any(|secret| {
            let mut m = mac(secret.expose());
            m.update(bytes);
            m.verify_slice(&expected).is_ok()
        })
    };
    if matches(envelope.data.get().as_bytes()) || matches(json_stringify(data).as_bytes()) {
        Ok(signature.clone())
    } else {
        Err(IngestError::InvalidSignature(
            "hmac_signature does not match data for any configured secret".into(),
        ))
    }
}

/// Signs `data` the way Canopy's JavaScript example does.
pub fn sign(secret: &str, data: &Value) -> String {
    let mut m = mac(secret);
    m.update(json_stringify(data).as_bytes());
    STANDARD.encode(m.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(secrets: &[&str], body: &str) -> Result<String, IngestError> {
        let secrets: Vec<_> = secrets.iter().map(|s| Secret::new(*s)).collect();
        let envelope = Envelope::parse(body.as_bytes()).unwrap();
        let data = envelope.data_value().unwrap();
        verify(&secrets, &envelope, &data)
    }

    #[test]
    fn verifies_raw_bytes_and_stringified_form_with_any_secret() {
        let data = serde_json::json!({"b": 1, "a": "é"});
        let sig = sign("new", &data);
        // Pretty-printed, so the raw bytes differ from what was signed.
        let body = format!(
            "{{\"event\":\"x\",\"data\":{{\n  \"b\": 1.0,\n  \"a\": \"é\"\n}},\"hmac_signature\":\"{sig}\"}}"
        );
        assert!(check(&["old", "new"], &body).is_ok());
        assert!(check(&["old"], &body).is_err());

        // Raw bytes signed directly (not the compact form).
        let raw = r#"{ "b" : 1 }"#;
        let mut m = mac("k");
        m.update(raw.as_bytes());
        let raw_sig = STANDARD.encode(m.finalize().into_bytes());
        let body = format!(r#"{{"event":"x","data":{raw},"hmac_signature":"{raw_sig}"}}"#);
        assert!(check(&["k"], &body).is_ok());
    }

    #[test]
    fn refuses_missing_empty_and_odd_signatures() {
        for sig in [r#""""#, "null", "1", "{}", r#""!!notbase64""#] {
            let body = format!(r#"{{"event":"x","data":{{}},"hmac_signature":{sig}}}"#);
            assert!(
                matches!(check(&["k"], &body), Err(IngestError::InvalidSignature(_))),
                "{sig}"
            );
        }
        assert!(check(&["k"], r#"{"event":"x","data":{}}"#).is_err());
    }
}
