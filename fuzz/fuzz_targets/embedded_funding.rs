//! An Embedded Funding callback (head lines, a blank line, the body) through
//! the gateway's path: caller address and `?token=`, then the body parsed
//! and normalized. Head lines `remote:` and `query:` give the caller and the
//! query string; the others are headers.
#![no_main]

use std::net::IpAddr;

use api::{
    event::FollowUp,
    ingest::{
        self, Delivery, Head, IngestError, Source,
        embedded_funding::{EmbeddedFunding, EmbeddedFundingConfig},
    },
    secret::Secret,
};
use api_fuzz::Message;
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz token/+";
const TOKEN_QUERY: &str = "token=fuzz+token%2F%2B";
const CALLER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));

fuzz_target!(|input: &[u8]| {
    let config = EmbeddedFundingConfig {
        allowed_ips: ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
            .map(|net| net.parse().unwrap())
            .into(),
        callback_token: Some(Secret::new(TOKEN)),
        follow_ups: true,
    };
    let source = EmbeddedFunding::new(config);
    let message = Message::parse(input);
    let headers = message.headers();
    let remote = message
        .field("remote")
        .and_then(|ip| ip.trim().parse().ok())
        .unwrap_or(CALLER);
    let query = message.field("query");
    let head = |query, remote| Head {
        headers: &headers,
        query,
        remote,
    };

    match source.admit(&head(query, remote)) {
        Ok(()) => assert!(query.is_some_and(|q| q.contains("token="))),
        Err(e) => assert!(
            matches!(
                e,
                IngestError::IpNotAllowed(_) | IngestError::InvalidToken(_)
            ),
            "{e:?}"
        ),
    }
    // The right token, whatever else the query holds, admits an allowed caller.
    let with_token = format!("{}&{TOKEN_QUERY}", query.unwrap_or_default());
    source
        .admit(&head(Some(&with_token), CALLER))
        .expect("the configured token admits");

    let delivery = Delivery {
        head: head(Some(&with_token), CALLER),
        body: message.body,
    };
    let event = match ingest::receive(&source, &delivery) {
        Ok(event) => event,
        Err(e) => {
            assert!(matches!(e, IngestError::InvalidBody(_)), "{e:?}");
            return;
        }
    };
    assert_eq!(event.payload.as_bytes(), message.body, "stored as received");
    assert!(!event.event_type.is_empty());
    if let Some(FollowUp::EmbeddedFunding { company_id, reads }) = &event.follow_up {
        assert_eq!(event.account_id.as_ref(), Some(company_id));
        assert!(!reads.is_empty());
    }
});
