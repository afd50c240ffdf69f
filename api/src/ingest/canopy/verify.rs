//! Canopy's signature: `base64(HMAC-SHA256(secret, data))`, where `data` is
//! first the exact bytes received, then `JSON.stringify(JSON.parse(data))`
//! (what Canopy's own JavaScript example signs, whatever whitespace or number
//! forms a proxy or sender gave the text). Any configured secret verifies.
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::payload::Envelope;
use crate::{
    ecmascript::{self, Json},
    ingest::IngestError,
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
    data: &Json<'_>,
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
    if matches(envelope.data.get().as_bytes()) || matches(data.stringify().as_bytes()) {
        Ok(signature.clone())
    } else {
        Err(IngestError::InvalidSignature(
            "hmac_signature does not match data for any configured secret".into(),
        ))
    }
}

/// Signs `data` the way Canopy's JavaScript example does: over
/// `JSON.stringify(JSON.parse(text))` of the text serde_json writes for it,
/// the text a body built from `data` carries.
pub fn sign(secret: &str, data: &Value) -> String {
    let text = data.to_string();
    let signed = ecmascript::parse(&text).expect("serde_json writes JSON");
    let mut m = mac(secret);
    m.update(signed.stringify().as_bytes());
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

    /// The issue's cases in one pretty-printed `data`; the signature is the
    /// one Node computes over `JSON.stringify(JSON.parse(data))`.
    #[test]
    fn verifies_what_node_signed_over_a_reformatted_data() {
        let data = "{\n  \"b\": 974.5963848909007,\n  \"10\": 18446744073709551616,\n  \"2\": \"\\ud800\",\n  \"a\": [1.0, 1E21, 0.0000001]\n}";
        let body = |sig: &str| format!(r#"{{"event":"x","data":{data},"hmac_signature":"{sig}"}}"#);
        let node = "dEjTL73B7xPrL0BBpoIOtigfAxABQkzML9xZLwx2XsU=";
        assert_eq!(check(&["k"], &body(node)).unwrap(), node);
        let other = "eEjTL73B7xPrL0BBpoIOtigfAxABQkzML9xZLwx2XsU=";
        assert!(check(&["k"], &body(other)).is_err());
    }

    #[test]
    fn sign_covers_the_text_serde_json_writes() {
        // serde_json writes 1.0 where JavaScript writes 1; the body carries
        // serde_json's text and verifies through its stringified form.
        let data = serde_json::json!({"b": 1.0, "1": [0.1, 1e21], "a": "\u{0}"});
        let body = format!(
            r#"{{"event":"x","data":{data},"hmac_signature":"{}"}}"#,
            sign("k", &data)
        );
        assert!(check(&["k"], &body).is_ok());
        let mut m = mac("k");
        m.update(br#"{"1":[0.1,1e+21],"b":1,"a":"\u0000"}"#);
        assert_eq!(sign("k", &data), STANDARD.encode(m.finalize().into_bytes()));
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
