//! GraphQL over HTTP (contract sections 1 and 3): the spec's conformance
//! audit, content negotiation and status codes, `application/json` bodies
//! only, and which browser origins may call the API.
use std::{path::Path, time::Duration};

use reqwest::{
    Method, RequestBuilder, StatusCode,
    header::{
        ACCEPT, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
        ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
        ALLOW, CONTENT_TYPE, ORIGIN,
    },
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, http::HeaderValue};

use crate::{
    graphql_support::{READ_KEY, with_keys},
    helpers::{Backend, TestApp, spawn_app, spawn_app_with},
};

const TYPENAME: &str = r#"{"query": "{ __typename }"}"#;
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const EVIL: &str = "https://evil.example";
const APP: &str = "https://app.example";

/// The audits the gateway does not pass on purpose: it runs no operation
/// sent as GET (MAY in the spec), so no page can run one without a CORS
/// preflight. Each is a `notice`, never an error or a warning.
const NOT_SUPPORTED: &[&str] = &["5A70", "D6D5", "6A70"];

/// A POST to `/graphql` with `body` as `application/json`.
fn post(app: &TestApp, body: &str) -> RequestBuilder {
    app.http
        .post(app.url("/graphql"))
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned())
}

struct Answer {
    status: StatusCode,
    content_type: String,
    json: Value,
}

async fn send(request: RequestBuilder) -> Answer {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"));
    Answer {
        status,
        content_type,
        json,
    }
}

impl Answer {
    fn code(&self) -> &str {
        self.json["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.json))
    }

    fn has_data(&self) -> bool {
        self.json.get("data").is_some()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_http_audit_finds_no_error_and_no_warning() {
    let app = spawn_app(Backend::Sqlite).await;
    let node = Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    assert!(
        node.join("node_modules/graphql-http").is_dir(),
        "graphql-http is not installed: run `npm ci --prefix tests/node`"
    );
    let run = tokio::process::Command::new("node")
        .arg(node.join("graphql_http_audit.mjs"))
        .arg(app.url("/graphql"))
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the audit ends within 120 s")
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the audit failed: {stderr}");
    let results: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON result a line"))
        .collect();
    assert!(results.len() > 50, "{} audits ran", results.len());
    let not_ok: Vec<&Value> = results.iter().filter(|r| r["status"] != "ok").collect();
    let unexpected = not_ok.iter().any(|r| {
        let id = r["id"].as_str().unwrap();
        r["status"] != "notice" || !NOT_SUPPORTED.contains(&id)
    });
    let listing: Vec<String> = not_ok
        .iter()
        .map(|r| format!("{} {} {}: {}", r["status"], r["id"], r["name"], r["reason"]))
        .collect();
    assert!(!unexpected, "audits not ok:\n{}", listing.join("\n"));
    assert_eq!(not_ok.len(), NOT_SUPPORTED.len(), "{listing:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_take_the_media_type_accept_ranks_first() {
    let app = spawn_app(Backend::Sqlite).await;
    let cases = [
        (None, "application/json"),
        (Some("application/json"), "application/json"),
        (Some("*/*"), "application/json"),
        (Some(GRAPHQL_RESPONSE), GRAPHQL_RESPONSE),
        (
            Some("application/graphql-response+json, application/json"),
            GRAPHQL_RESPONSE,
        ),
        (
            Some("application/graphql-response+json;q=0.5, application/json"),
            "application/json",
        ),
    ];
    for (accept, media) in cases {
        let mut request = post(&app, TYPENAME);
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        let answer = send(request).await;
        assert_eq!(answer.status, 200, "{accept:?}");
        assert_eq!(
            answer.content_type.split(';').next(),
            Some(media),
            "{accept:?}"
        );
        assert_eq!(answer.json, json!({"data": {"__typename": "Query"}}));
    }
    let answer = send(post(&app, TYPENAME).header(ACCEPT, "text/html")).await;
    assert_eq!(answer.status, 406);
    assert_eq!(answer.code(), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_are_400_without_data_in_graphql_response_json() {
    let app = spawn_app(Backend::Sqlite).await;
    let deep = format!(
        r#"{{"query": "{{ {}id{} }}"}}"#,
        "events { edges { node { ".repeat(6),
        " } } }".repeat(6)
    );
    // Parse, validation, variable coercion, unknown operation, limits.
    let request_errors = [
        (r#"{"query": "{"}"#, "BAD_USER_INPUT"),
        (r#"{"query": "{ nope }"}"#, "BAD_USER_INPUT"),
        (
            r#"{"query": "query($id: ID!) { event(id: $id) { id } }", "variables": {"id": null}}"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{"query": "query A { __typename }", "operationName": "B"}"#,
            "BAD_USER_INPUT",
        ),
        (deep.as_str(), "QUERY_TOO_COMPLEX"),
    ];
    for (body, code) in request_errors {
        let strict = send(post(&app, body).header(ACCEPT, GRAPHQL_RESPONSE)).await;
        assert_eq!(strict.status, 400, "{body}");
        assert_eq!(strict.code(), code, "{body}");
        assert!(!strict.has_data(), "{body}: {}", strict.json);
        let legacy = send(post(&app, body).header(ACCEPT, "application/json")).await;
        assert_eq!(legacy.status, 200, "{body}");
        assert_eq!(legacy.code(), code, "{body}");
        assert!(!legacy.has_data(), "{body}: {}", legacy.json);
    }
    // Not a GraphQL request at all: 400 in both.
    for body in [
        "{ not json",
        "",
        r#"{"qeury": "{ __typename }"}"#,
        r#"{"query": 1}"#,
        r#"{"query": "{ __typename }", "variables": []}"#,
        r#"{"query": "{ __typename }", "extensions": "x"}"#,
    ] {
        for accept in [GRAPHQL_RESPONSE, "application/json"] {
            let answer = send(post(&app, body).header(ACCEPT, accept)).await;
            assert_eq!(answer.status, 400, "{body} {accept}");
            assert_eq!(answer.code(), "BAD_USER_INPUT");
            assert!(!answer.has_data());
        }
    }
    // Null parameters are omitted ones.
    let nulls = r#"{"query": "{ __typename }", "variables": null, "operationName": null, "extensions": null}"#;
    let answer = send(post(&app, nulls).header(ACCEPT, GRAPHQL_RESPONSE)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["data"]["__typename"], "Query");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_errors_keep_200_and_data_in_both_media_types() {
    let app = spawn_app_with(Backend::Sqlite, with_keys).await;
    let body =
        r#"{"query": "{ events { edges { cursor } } rejectedDeliveries { edges { cursor } } }"}"#;
    for accept in [GRAPHQL_RESPONSE, "application/json"] {
        let answer = send(
            post(&app, body)
                .bearer_auth(READ_KEY)
                .header(ACCEPT, accept),
        )
        .await;
        assert_eq!(answer.status, 200, "{accept}");
        assert_eq!(answer.code(), "FORBIDDEN");
        assert_eq!(
            answer.json["data"]["events"]["edges"],
            json!([]),
            "{accept}"
        );
        assert_eq!(
            answer.json["errors"][0]["path"],
            json!(["rejectedDeliveries"])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_takes_application_json_only() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = app.url("/graphql");
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/json; charset=latin1"),
        None,
    ] {
        let mut request = app.http.post(&url).body(TYPENAME);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        let answer = send(request).await;
        assert_eq!(answer.status, 415, "{content_type:?}");
        assert_eq!(answer.code(), "BAD_USER_INPUT");
    }
    let answer = send(
        app.http
            .post(&url)
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(TYPENAME),
    )
    .await;
    assert_eq!(answer.status, 200);

    // The key is checked first, before the body and its type.
    let keyed = spawn_app_with(Backend::Sqlite, with_keys).await;
    let request = keyed
        .http
        .post(keyed.url("/graphql"))
        .header(CONTENT_TYPE, "text/plain")
        .body(TYPENAME);
    let answer = send(request).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code(), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_runs_no_operation() {
    let app = spawn_app(Backend::Sqlite).await;
    // `{ __typename }` and `mutation { __typename }`, URL-encoded.
    for query in [
        "%7B%20__typename%20%7D",
        "mutation%20%7B%20__typename%20%7D",
    ] {
        let url = app.url(&format!("/graphql?query={query}"));
        let response = app.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 405, "{query}");
        assert_eq!(response.headers()[ALLOW], "GET, POST");
    }
}

/// The status of a WebSocket handshake on `/graphql/ws` with `origin`.
async fn ws_upgrade(app: &TestApp, origin: &str) -> u16 {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    headers.insert("Origin", HeaderValue::from_str(origin).unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("handshake failed: {other}"),
    }
}

/// A CORS preflight for `POST /graphql` with `Authorization` and `Content-Type`.
fn preflight(app: &TestApp, origin: &str) -> RequestBuilder {
    app.http
        .request(Method::OPTIONS, app.url("/graphql"))
        .header(ORIGIN, origin)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type",
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_mode_refuses_pages_of_other_sites() {
    // Listed, but not loopback: open mode refuses it all the same.
    let app = spawn_app_with(Backend::Sqlite, |c| c.cors_origins = vec![APP.to_owned()]).await;
    let own = format!("http://{}", app.addr);
    let loopback = [own.as_str(), "http://localhost:5173", "http://[::1]:3000"];
    for origin in loopback {
        let answer = send(post(&app, TYPENAME).header(ORIGIN, origin)).await;
        assert_eq!(answer.status, 200, "{origin}");
        assert_eq!(answer.json["data"]["__typename"], "Query");
        assert_eq!(ws_upgrade(&app, origin).await, 101, "{origin}");
    }
    for origin in [EVIL, APP, "null", "http://127.0.0.1.evil.example"] {
        let answer = send(post(&app, TYPENAME).header(ORIGIN, origin)).await;
        assert_eq!(answer.status, 403, "{origin}");
        assert_eq!(answer.code(), "FORBIDDEN");
        assert!(!answer.has_data());
        assert_eq!(ws_upgrade(&app, origin).await, 403, "{origin}");
        let response = preflight(&app, origin).send().await.unwrap();
        assert_eq!(response.status(), 403, "{origin}");
        assert!(
            response
                .headers()
                .get(ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
    }
    // A local front end on another port gets its preflight granted.
    let response = preflight(&app, "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:5173"
    );
    // No Origin (curl, a server-side client): answered.
    assert_eq!(send(post(&app, TYPENAME)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keys_cors_grants_only_the_listed_origins() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        with_keys(c);
        c.cors_origins = vec![APP.to_owned()];
    })
    .await;
    let response = preflight(&app, APP).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], APP);
    assert!(
        headers[ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let allowed = headers[ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    for origin in [EVIL, "http://localhost:5173"] {
        let response = preflight(&app, origin).send().await.unwrap();
        assert!(
            response
                .headers()
                .get(ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none(),
            "{origin}"
        );
    }

    // Requests themselves are not refused for their origin: the key decides,
    // and only the listed origin may read the answer.
    for (origin, granted) in [(APP, true), (EVIL, false)] {
        let response = post(&app, TYPENAME)
            .header(ORIGIN, origin)
            .bearer_auth(READ_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{origin}");
        let grant = response.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN);
        assert_eq!(grant.is_some(), granted, "{origin}");
        let answer = send(post(&app, TYPENAME).header(ORIGIN, origin)).await;
        assert_eq!(answer.status, 401, "{origin}");
    }
    // A socket from any page still needs a key in connection_init.
    assert_eq!(ws_upgrade(&app, EVIL).await, 101);
}
