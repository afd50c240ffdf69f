//! A LoanPro delivery (head lines, a blank line, the body) through the
//! gateway's path: the token check, then the body read and normalized. The
//! echoed `auth` credential of a variables payload is never stored,
//! whatever else the body holds.
#![no_main]

use std::net::IpAddr;

use api::{
    ecmascript::{self, Json},
    ingest::{
        self, Delivery, Head, IngestError, Source,
        loanpro::{Loanpro, LoanproConfig},
    },
    secret::Secret,
};
use api_fuzz::Message;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;

const TOKENS: [&str; 2] = ["fuzz-token", "fuzz-old-token"];

fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

/// Whether `text` is a JSON object whose top-level `auth` is not hidden.
fn shows_a_credential(text: &str) -> bool {
    let Ok(Json::Object(members)) = ecmascript::parse(text) else {
        return false;
    };
    members
        .get(&utf16("auth"))
        .is_some_and(|value| !matches!(value, Json::String(s) if *s == utf16("*****")))
}

fn head(headers: &HeaderMap) -> Head<'_> {
    Head {
        headers,
        query: None,
        remote: IpAddr::from([127, 0, 0, 1]),
    }
}

fuzz_target!(|input: &[u8]| {
    let loanpro = Loanpro::new(LoanproConfig {
        webhook_tokens: TOKENS.map(Secret::new).into(),
    });
    let message = Message::parse(input);
    let mut headers = message.headers();

    match loanpro.admit(&head(&headers)) {
        Ok(()) => assert!(
            headers.values().any(|v| {
                let v = String::from_utf8_lossy(v.as_bytes());
                TOKENS.iter().any(|t| v.contains(t))
            }),
            "admitted without a configured token"
        ),
        Err(e) => assert!(matches!(e, IngestError::InvalidToken(_)), "{e:?}"),
    }
    // A configured token among whatever else is sent admits.
    headers.append("x-webhook-token", HeaderValue::from_static(TOKENS[1]));
    loanpro
        .admit(&head(&headers))
        .expect("a configured token admits");

    let delivery = Delivery {
        head: head(&headers),
        body: message.body,
    };
    let event = match ingest::receive(&loanpro, &delivery) {
        Ok(event) => event,
        Err(e) => {
            assert!(matches!(e, IngestError::InvalidBody(_)), "{e:?}");
            return;
        }
    };
    let text = std::str::from_utf8(message.body).expect("only UTF-8 bodies are taken");
    serde_json::from_str::<IgnoredAny>(&event.payload).expect("the stored payload is JSON");
    assert!(!event.event_type.is_empty());
    if shows_a_credential(text) {
        let stored = serde_json::from_str::<String>(&event.payload).unwrap_or(event.payload);
        assert!(
            !shows_a_credential(&stored),
            "the credential was stored: {stored}"
        );
    }
});
