//! A Canopy webhook body through the gateway's path (shape, `data` as
//! `JSON.parse` reads it, signature, normalization); and, for every body
//! whose shape is right, the same `data` signed as Canopy's JavaScript signs
//! it (over `JSON.stringify(data)`) must verify, whatever form it was sent in.
#![no_main]

use std::net::IpAddr;

use api::{
    fuzzing::CanopyEnvelope,
    ingest::{
        self, Delivery, Head, IngestError, Source,
        canopy::{Canopy, CanopyConfig},
    },
    secret::Secret,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const SECRETS: [&str; 2] = ["fuzz-old-secret", "fuzz-secret"];

fn sign(secret: &str, text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn delivery<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> Delivery<'a> {
    Delivery {
        head: Head {
            headers,
            query: None,
            remote: IpAddr::from([127, 0, 0, 1]),
        },
        body,
    }
}

fn body(event: &str, data: &str, signature: &str) -> String {
    let event = serde_json::to_string(event).unwrap();
    format!(r#"{{"event":{event},"data":{data},"hmac_signature":"{signature}"}}"#)
}

fuzz_target!(|input: &[u8]| {
    let canopy = Canopy::new(CanopyConfig {
        webhook_secrets: SECRETS.map(Secret::new).into(),
        double_check: vec!["account_delinquency".into()],
    });
    let headers = HeaderMap::new();

    // Any body gets an answer, never a panic.
    let received = ingest::receive(&canopy, &delivery(&headers, input));
    let refused_as_a_bad_body = matches!(received, Err(IngestError::InvalidBody(_)));
    let Ok(envelope) = CanopyEnvelope::parse(input) else {
        assert!(refused_as_a_bad_body, "{received:?}");
        return;
    };
    let Ok(data) = envelope.data_value() else {
        assert!(refused_as_a_bad_body, "{received:?}");
        return;
    };
    if let Ok(event) = &received {
        assert_eq!(event.payload, envelope.data.get());
    }

    // The same data, signed over its compact JSON.stringify form, verifies
    // as sent and as that compact form.
    let compact = data.stringify();
    let signature = sign(SECRETS[0], &compact);
    for sent in [envelope.data.get(), compact.as_str()] {
        let resigned = body(&envelope.event, sent, &signature);
        let event = canopy
            .receive(&delivery(&headers, resigned.as_bytes()))
            .unwrap_or_else(|e| panic!("signed over JSON.stringify, refused: {e:?}\n{resigned}"));
        assert_eq!(event.payload, sent);
        assert_eq!(event.event_type, envelope.event);
        assert_eq!(
            event.dedup_key,
            Some(format!("{}:{signature}", envelope.event))
        );
    }

    // Signed with a secret that is not configured: refused.
    let forged = body(
        &envelope.event,
        envelope.data.get(),
        &sign("other", &compact),
    );
    assert!(matches!(
        canopy.receive(&delivery(&headers, forged.as_bytes())),
        Err(IngestError::InvalidSignature(_))
    ));
});
