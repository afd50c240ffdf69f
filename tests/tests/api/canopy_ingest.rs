//! `POST /webhooks/canopy`: verify, store, dedup, refuse.
use std::{
    io::Write,
    process::{Command, Stdio},
};

use futures::future::join_all;
use serde_json::{Value, json};

use crate::{
    helpers::{
        Backend, SECRET, canopy_fixture, canopy_fixture_names, error_code, signed, signed_fixture,
        signed_with, spawn_app, spawn_app_with,
    },
    on_both_backends,
};

on_both_backends!(
    every_fixture_is_stored_once_and_duplicates_are_counted,
    reformatted_bodies_verify_as_canopy_signs_them,
    unverifiable_deliveries_are_refused_and_recorded,
    unconfigured_source_refuses_everything,
    malformed_and_oversized_bodies_are_refused_and_recorded,
    concurrent_duplicates_are_counted_exactly,
    refusals_record_the_caller_a_trusted_proxy_forwarded,
    what_the_store_cannot_hold_is_400_not_a_retry_loop,
    any_text_is_stored_exactly_as_sent,
);

async fn every_fixture_is_stored_once_and_duplicates_are_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let names = canopy_fixture_names();
    assert_eq!(names.len(), 11);
    for name in &names {
        let body = signed_fixture(name);
        assert_eq!(
            app.post_canopy(body.clone()).await.status().as_u16(),
            202,
            "{name}"
        );
        let again = app.post_canopy(body).await;
        assert_eq!(again.status().as_u16(), 200, "{name} resent");
        assert_eq!(again.json::<Value>().await.unwrap()["duplicate"], true);
    }
    let events = app.events().await;
    assert_eq!(events.len(), 11);
    for (event, name) in events.iter().zip(&names) {
        let fixture = canopy_fixture(name);
        assert_eq!(event.source, "canopy");
        assert_eq!(event.event_type, fixture["event"].as_str().unwrap());
        assert_eq!(event.deliveries, 2, "{name}");
        let stored: Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(stored, fixture["data"], "{name} payload");
    }
    // Identifiers as the contract reads them: numbers become strings, and
    // full objects give their own account id.
    let by_type = |t: &str| events.iter().find(|e| e.event_type == t).unwrap();
    assert_eq!(
        by_type("account_calculations_change").account_id.as_deref(),
        Some("1000")
    );
    assert_eq!(
        by_type("account_update").account_id.as_deref(),
        Some("test-acct-SMS-HTTP-p")
    );
    assert_eq!(
        by_type("line_item_create").account_id.as_deref(),
        Some("can_3")
    );
    assert_eq!(
        by_type("account_update").occurred_at.unwrap().to_rfc3339(),
        "2023-07-18T21:51:20.511+00:00"
    );
    // "2023-01-30 13:25:39.4009-05" is PostgreSQL's text form; it still reads.
    assert_eq!(
        by_type("minimum_payment_missed")
            .occurred_at
            .unwrap()
            .to_rfc3339(),
        "2023-01-30T18:25:39.400900+00:00"
    );
    assert!(app.rejections().await.is_empty());
}

async fn reformatted_bodies_verify_as_canopy_signs_them(backend: Backend) {
    let app = spawn_app(backend).await;
    // Signed over JSON.stringify(data); delivered pretty-printed, with the
    // envelope's keys in another order and numbers written differently.
    let data =
        json!({"account_id": "acct/é", "amount": 12.5, "count": 1000, "note": "line\nbreak"});
    let signature =
        serde_json::from_str::<Value>(&signed("custom_event", data)).unwrap()["hmac_signature"]
            .clone();
    let body = format!(
        "{{\n  \"hmac_signature\": {signature},\n  \"data\": {{\n    \"account_id\": \"acct/\\u00e9\",\n    \"amount\": 12.50,\n    \"count\": 1e3,\n    \"note\": \"line\\nbreak\"\n  }},\n  \"event\": \"custom_event\"\n}}"
    );
    assert_eq!(app.post_canopy(body.clone()).await.status().as_u16(), 202);
    assert_eq!(app.post_canopy(body).await.status().as_u16(), 200);
    let events = app.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].event_type, "custom_event",
        "unknown names are stored"
    );
    assert_eq!(events[0].account_id.as_deref(), Some("acct/é"));
    assert!(
        events[0].payload.contains("12.50"),
        "payload kept as received"
    );
}

async fn unverifiable_deliveries_are_refused_and_recorded(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.sources.canopy.webhook_secrets = vec![api::secret::Secret::new(SECRET)];
    })
    .await;
    let fixture = canopy_fixture("account_delinquency");
    let good: Value = serde_json::from_str(&signed_fixture("account_delinquency")).unwrap();

    let mut other_data = good.clone();
    other_data["data"]["cure_amount"] = json!("1");
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("hmac_signature");
    let mut empty = good.clone();
    empty["hmac_signature"] = json!("");
    let mut number = good.clone();
    number["hmac_signature"] = json!(42);
    let retired = signed_with(
        "retired-secret",
        "account_delinquency",
        fixture["data"].clone(),
    );

    let cases = [
        ("signature over different data", other_data.to_string()),
        ("missing signature", missing.to_string()),
        ("empty signature", empty.to_string()),
        ("non-string signature", number.to_string()),
        ("retired secret", retired),
        ("the document's own signature", fixture.to_string()),
    ];
    for (what, body) in &cases {
        let response = app.post_canopy(body.clone()).await;
        assert_eq!(
            error_code(response).await,
            (401, "INVALID_SIGNATURE".into()),
            "{what}"
        );
    }
    assert!(app.events().await.is_empty());
    let rejections = app.rejections().await;
    assert_eq!(rejections.len(), cases.len());
    for (r, (_, body)) in rejections.iter().zip(&cases) {
        assert_eq!(
            (r.source.as_str(), r.reason.as_str(), r.status),
            ("canopy", "INVALID_SIGNATURE", 401)
        );
        assert_eq!(r.body_bytes, body.len() as i64);
        assert_eq!(r.body_sha256, sha256sum(body));
        assert_eq!(r.remote_addr.as_deref(), Some("127.0.0.1"));
    }
    // A valid delivery still goes through.
    assert_eq!(
        app.post_canopy(good.to_string()).await.status().as_u16(),
        202
    );
}

/// Lowercase hex SHA-256 by coreutils' `sha256sum`, not the gateway's code.
fn sha256sum(body: &str) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_owned()
}

async fn unconfigured_source_refuses_everything(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.sources.canopy.webhook_secrets.clear()).await;
    let response = app.post_canopy(signed_fixture("account_create")).await;
    assert_eq!(
        error_code(response).await,
        (401, "SOURCE_NOT_CONFIGURED".into())
    );
    // The sender is checked before the body's shape.
    let response = app.post_canopy("not json").await;
    assert_eq!(
        error_code(response).await,
        (401, "SOURCE_NOT_CONFIGURED".into())
    );
    assert!(app.events().await.is_empty());
    assert_eq!(app.rejections().await.len(), 2);
}

async fn malformed_and_oversized_bodies_are_refused_and_recorded(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.max_body_bytes = 4096).await;
    let cases = [
        ("{\"event\": \"x\", \"data\": {", 400, "INVALID_BODY"),
        (
            "{\"event\": \"x\", \"hmac_signature\": \"AAAA\"}",
            400,
            "INVALID_BODY",
        ),
        (
            "{\"event\": \"x\", \"data\": [], \"hmac_signature\": \"AAAA\"}",
            400,
            "INVALID_BODY",
        ),
        (
            "{\"event\": \"x\", \"data\": {}, \"data\": {}, \"hmac_signature\": \"AAAA\"}",
            400,
            "INVALID_BODY",
        ),
    ];
    for (body, status, code) in cases {
        assert_eq!(
            error_code(app.post_canopy(body).await).await,
            (status, code.into()),
            "{body}"
        );
    }
    // The size check comes first, before anything is parsed or verified.
    let big = format!(
        "{{\"event\":\"x\",\"data\":{{\"pad\":\"{}\"}}}}",
        "a".repeat(5000)
    );
    assert_eq!(
        error_code(app.post_canopy(big.clone()).await).await,
        (413, "PAYLOAD_TOO_LARGE".into())
    );

    assert!(app.events().await.is_empty());
    let rejections = app.rejections().await;
    let reasons: Vec<_> = rejections
        .iter()
        .map(|r| (r.reason.as_str(), r.status))
        .collect();
    assert_eq!(
        reasons,
        [
            ("INVALID_BODY", 400),
            ("INVALID_BODY", 400),
            ("INVALID_BODY", 400),
            ("INVALID_BODY", 400),
            ("PAYLOAD_TOO_LARGE", 413)
        ]
    );
    assert_eq!(
        rejections[4].body_bytes,
        big.len() as i64,
        "declared length recorded"
    );
}

async fn concurrent_duplicates_are_counted_exactly(backend: Backend) {
    let app = spawn_app(backend).await;
    let bodies: Vec<String> = (0..50)
        .map(|i| {
            signed(
                "account_calculations_change",
                json!({"account_id": format!("acct-{i}"), "available_credit_cents": i}),
            )
        })
        .collect();
    let sends = (0..4)
        .flat_map(|_| bodies.iter())
        .map(|body| app.post_canopy(body.clone()));
    let statuses: Vec<u16> = join_all(sends)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(statuses.len(), 200);
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        50,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        150,
        "{statuses:?}"
    );
    let events = app.events().await;
    assert_eq!(events.len(), 50);
    assert!(events.iter().all(|e| e.deliveries == 4));
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        (1..=50).collect::<Vec<_>>(),
        "ids are dense and in commit order"
    );
}

async fn refusals_record_the_caller_a_trusted_proxy_forwarded(backend: Backend) {
    let refused_from = |app: &crate::helpers::TestApp, forwarded: &'static str| {
        app.http
            .post(app.url("/webhooks/canopy"))
            .header("content-type", "application/json")
            .header("x-forwarded-for", forwarded)
            .body("not json")
            .send()
    };
    // The test's own connection comes from 127.0.0.1: trusted here.
    let behind_proxy = spawn_app_with(backend, |c| {
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await;
    refused_from(&behind_proxy, "198.51.100.1, 203.0.113.9")
        .await
        .unwrap();
    let recorded = behind_proxy.rejections().await;
    assert_eq!(recorded[0].remote_addr.as_deref(), Some("203.0.113.9"));

    // Not a trusted proxy: the header is the caller's own words, ignored.
    let direct = spawn_app(backend).await;
    refused_from(&direct, "203.0.113.9").await.unwrap();
    let recorded = direct.rejections().await;
    assert_eq!(recorded[0].remote_addr.as_deref(), Some("127.0.0.1"));
}

async fn what_the_store_cannot_hold_is_400_not_a_retry_loop(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "e".repeat(257);
    let data = |account: &str| json!({"account_id": account, "n": 1});
    for body in [
        signed("", data("a")),
        signed("bad\u{0}name", data("a")),
        signed(&long, data("a")),
    ] {
        let (status, code) = error_code(app.post_canopy(body.clone()).await).await;
        assert_eq!((status, code.as_str()), (400, "INVALID_BODY"), "{body:.80}");
    }
    // An account id the store cannot hold names no account; the event is kept.
    for account in ["nul\u{0}id", &"a".repeat(257)] {
        let response = app
            .post_canopy(signed("account_update", data(account)))
            .await;
        assert_eq!(response.status().as_u16(), 202);
    }
    // At the limits, the store holds them (PostgreSQL's indexes included).
    let longest = "e".repeat(256);
    let response = app
        .post_canopy(signed(&longest, data(&"a".repeat(256))))
        .await;
    assert_eq!(response.status().as_u16(), 202);
    let events = app.events().await;
    let accounts: Vec<Option<usize>> = events
        .iter()
        .map(|e| e.account_id.as_ref().map(String::len))
        .collect();
    assert_eq!(accounts, [None, None, Some(256)]);
    assert_eq!(app.rejections().await.len(), 3);
}

/// On PostgreSQL the writer sends values inside the statements' text, not
/// as parameters (dollar-quoted when the text has no `$`, escaped when it
/// has): whatever a string holds must come back unchanged, in the event
/// row and in the projection alike.
async fn any_text_is_stored_exactly_as_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    let controls: String = (1u8..0x20).chain([0x7f]).map(char::from).collect();
    let plain = format!("O'Brien''; \\ \\' \"q\" E'\\x41' -- /* {controls} é 𝄞");
    let dollars = format!("{plain} $1 $$x$$ $g$ $g1$ $");
    for awkward in [plain, dollars] {
        let data = json!({"account_id": awkward, "note": awkward, "n": 1});
        let body = signed(&awkward, data.clone());
        assert_eq!(app.post_canopy(body.clone()).await.status().as_u16(), 202);
        assert_eq!(
            app.post_canopy(body).await.status().as_u16(),
            200,
            "a duplicate"
        );

        let mut update = canopy_fixture("account_update");
        update["data"]["object"]["account_id"] = json!(awkward);
        update["data"]["object"]["attributes"] = json!({"label": awkward});
        let update = signed("account_update", update["data"].clone());
        assert_eq!(app.post_canopy(update).await.status().as_u16(), 202);

        let events = app.events().await;
        let event = &events[events.len() - 2];
        assert_eq!(event.event_type, awkward);
        assert_eq!(event.account_id.as_deref(), Some(awkward.as_str()));
        assert_eq!(event.deliveries, 2);
        let stored: Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(stored, data);
        let account = app.account(&awkward).await;
        let snapshot: Value = serde_json::from_str(account.snapshot.as_deref().unwrap()).unwrap();
        assert_eq!(snapshot["attributes"]["label"], json!(awkward));
    }
    assert_eq!(app.events().await.len(), 4);
}
