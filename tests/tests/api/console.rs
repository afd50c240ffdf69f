//! The operator console (`/console`, and `GET /graphql`'s query page) in a
//! real headless Chromium driven by `tests/node/console.mjs` (Playwright),
//! with every host but the gateway blocked. Browser runs use SQLite only:
//! the console sees the store only through GraphQL, which the rest of the
//! suite runs on both backends.
use std::{path::Path, process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::Command,
};

use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_json, method, path, path_regex},
};

use crate::{
    canopy_mock::{config_path, configure_as_admin, received, spawn_with_token},
    graphql_support::{ADMIN_KEY, PII_KEY, READ_KEY, gql, with_keys},
    helpers::{
        Backend, TestApp, canopy_fixture, signed, signed_fixture, signed_with, spawn_app,
        spawn_app_with,
    },
};

const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/node");
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL: &str = "install them with `apt-get install -y chromium` and \
                       `npm ci --prefix tests/node` (bash .ci/run does both)";
/// A whole scenario, browser start included, on a loaded machine.
const BROWSER_DEADLINE: Duration = Duration::from_secs(180);

/// Fails, never skips, when the browser or the driver is missing.
fn check_prerequisites() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| DEFAULT_CHROMIUM.to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "the console tests need Chromium at {chromium}: {INSTALL}"
    );
    let pinned: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{NODE_DIR}/package.json")).unwrap())
            .unwrap();
    let installed = std::fs::read_to_string(format!(
        "{NODE_DIR}/node_modules/playwright-core/package.json"
    ))
    .unwrap_or_else(|_| panic!("the console tests need playwright-core in tests/node: {INSTALL}"));
    let installed: Value = serde_json::from_str(&installed).unwrap();
    assert_eq!(
        installed["version"], pinned["dependencies"]["playwright-core"],
        "tests/node/node_modules is stale: {INSTALL}"
    );
}

/// Runs one scenario of `console.mjs` against `app`; its result, after
/// checking that the page reached nothing but the gateway and threw nothing.
async fn browse(app: &TestApp, scenario: &str, job: Value) -> Value {
    check_prerequisites();
    let mut job = job;
    job["scenario"] = json!(scenario);
    job["url"] = json!(app.url("/"));
    job["keys"] = json!({"read": READ_KEY, "pii": PII_KEY, "admin": ADMIN_KEY});
    let mut child = Command::new("node")
        .arg("console.mjs")
        .current_dir(NODE_DIR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{job}\n").as_bytes())
        .await
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let run = async {
        // Requests to act on the gateway, then the report.
        while let Some(line) = lines.next_line().await.unwrap() {
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|_| panic!("console.mjs printed {line:?}"));
            match message["ask"].as_str() {
                Some("crash-feed") => app.faults.crash_feed(),
                Some(other) => panic!("console.mjs asked for {other:?}"),
                None => return message,
            }
            stdin.write_all(b"done\n").await.unwrap();
        }
        panic!("console.mjs printed no report");
    };
    let report = tokio::time::timeout(BROWSER_DEADLINE, run)
        .await
        .expect("the browser scenario finishes");
    assert!(child.wait().await.unwrap().success(), "console.mjs exited");
    assert_eq!(
        report["ok"],
        true,
        "{scenario}: {}",
        report["error"].as_str().unwrap_or_default()
    );
    assert_eq!(report["blocked"], json!([]), "the page asked other hosts");
    assert_eq!(report["pageErrors"], json!([]), "the page threw");
    let socket = format!("ws://{}/graphql/ws", app.addr);
    for url in report["sockets"].as_array().unwrap() {
        assert_eq!(url, &json!(socket), "WebSockets go to the gateway only");
    }
    report["result"].clone()
}

/// `(id, cursor)` of every stored event, newest first, as GraphQL lists them.
async fn stored_events(app: &TestApp) -> Vec<Value> {
    let response = gql(
        app,
        Some(ADMIN_KEY),
        "{ events(first: 100) { edges { node { id cursor } } } }",
        json!({}),
    )
    .await;
    response.data()["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// A Canopy customer event carrying PII; `n` makes each one distinct.
fn customer_event(n: usize) -> String {
    signed(
        "customer_update",
        json!({
            "account_id": "acct_live",
            "customer_id": format!("cust_{n}"),
            "customer": {
                "name_first": "Jolene",
                "email": "jolene.live@example.com",
                "ssn": "123-45-6789",
            },
            "sequence": n,
        }),
    )
}

fn customer_events(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(customer_event).collect()
}

/// Posts a new event; its id.
async fn delivered(app: &TestApp, body: String) -> Value {
    let response = app.post_canopy(body).await;
    assert_eq!(response.status(), 202);
    response.json::<Value>().await.unwrap()["id"].clone()
}

/// A wrongly signed delivery (401), then a malformed one (400), both recorded.
async fn post_refused(app: &TestApp) {
    let wrong = signed_with(
        "not-the-secret",
        "account_update",
        json!({"account_id": "a1"}),
    );
    assert_eq!(app.post_canopy(wrong).await.status(), 401);
    assert_eq!(app.post_canopy("not json").await.status(), 400);
    app.flush_refusals().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_live_masks_pii_and_resumes_without_a_gap() {
    let app = spawn_app_with(Backend::Sqlite, with_keys).await;
    // One event before the page opens, so it subscribes after a cursor: an
    // empty store's first subscription starts "now", which a delivery sent
    // right after the page says "live" could precede.
    delivered(&app, customer_event(99)).await;
    let job = json!({
        "webhooks": {
            "first": customer_events(0..3),
            "whileAway": customer_events(3..6),
            "whileCut": customer_events(6..8),
            "afterReload": customer_events(8..9),
            "whileFeedDown": customer_events(9..11),
            "afterEnded": customer_events(15..16),
            "whilePaused": customer_events(11..12),
            // The filter below takes only the last one.
            "filtered": [
                customer_event(12),
                signed("account_note", json!({"account_id": "acct_other", "note": 1})),
                signed("account_note", json!({"account_id": "acct_live", "note": 2})),
            ],
        },
        "filter": {"types": "account_note, statement_generation", "accountId": "acct_live"},
        "pii": {
            "values": ["Jolene", "jolene.live@example.com", "123-45-6789"],
            "masks": ["*****6789"],
        },
    });
    let result = browse(&app, "live", job).await;

    for seen in result["latencies"].as_array().unwrap() {
        let ms = seen["ms"].as_i64().unwrap();
        println!("{}: on the page {ms} ms after it was sent", seen["id"]);
        assert!(ms < 1000, "{} took {ms} ms to appear in Live", seen["id"]);
    }
    let all = stored_events(&app).await;
    assert_eq!(all.len(), 17);
    // Up to the pii key's turn (the four after it test pause and filter).
    let stored = &all[4..];
    // Back after being away: the first three (history) and the three sent
    // meanwhile (replayed after the kept cursor), each once, in order.
    let before = &stored[9..];
    assert_eq!(result["cursorBeforeLeaving"], before[0]["cursor"]);
    assert!(
        result["resumedNote"]
            .as_str()
            .unwrap()
            .contains(before[0]["cursor"].as_str().unwrap()),
        "Live says where it resumed: {}",
        result["resumedNote"]
    );
    assert_eq!(result["afterReturn"], json!(stored[6..]));
    assert!(
        result["socketsUsed"].as_u64().unwrap() >= 2,
        "the cut socket was replaced"
    );
    // Every subscription from the return to Live to the reload resumed
    // from a cursor: the newest shown, or the `resumeAfter` it was given.
    let resumed = result["resumed"].as_array().unwrap();
    assert!(resumed.iter().all(Value::is_string), "{resumed:?}");
    assert_eq!(resumed[0], before[0]["cursor"], "back on Live");
    assert_eq!(result["resumeAfter"], stored[2]["cursor"]);
    assert!(resumed.contains(&result["resumeAfter"]), "{resumed:?}");
    assert_eq!(
        resumed.last().unwrap(),
        &stored[1]["cursor"],
        "after the reload"
    );
    // After the cut, the crash, the ended subscription and a reload: every
    // event, each once, newest first, with the cursors GraphQL gives.
    assert_eq!(result["rows"], json!(stored));
    // Then paused (nothing shown until resumed) and filtered.
    assert_eq!(result["shownWhilePaused"], 0);
    assert_eq!(result["shownFiltered"], json!([result["filtered"][2]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_refused_view_lists_bad_deliveries_for_admin_only() {
    let app = spawn_app_with(Backend::Sqlite, with_keys).await;
    delivered(&app, signed_fixture("account_update")).await;
    post_refused(&app).await;
    let listed = gql(
        &app,
        Some(ADMIN_KEY),
        "{ rejectedDeliveries { edges { node { reason status receivedAt } } } }",
        json!({}),
    )
    .await;
    let expected: Vec<Value> = listed.data()["rejectedDeliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            json!([
                node["receivedAt"],
                "CANOPY",
                node["reason"],
                node["status"].to_string()
            ])
        })
        .collect();

    let result = browse(&app, "refused", json!({})).await;

    let shown: Vec<Value> = result["admin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| json!([row[0], row[1], row[2], row[3]]))
        .collect();
    assert_eq!(shown, expected);
    assert_eq!(shown[0][2], "INVALID_BODY", "newest first");
    assert_eq!(shown[1][2], "INVALID_SIGNATURE");
    assert_eq!(
        result["readLinks"],
        json!(["Live", "Events", "Accounts", "Query"])
    );
    let read_main = result["readMain"].as_str().unwrap();
    assert!(read_main.contains("needs an admin key"), "{read_main}");
    assert!(!read_main.contains("INVALID_SIGNATURE"), "{read_main}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_query_page_runs_queries_in_open_mode() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut ids = Vec::new();
    for name in ["account_create", "payment_due_date"] {
        ids.push(delivered(&app, signed_fixture(name)).await);
    }
    let job = json!({
        "query": "query Recent($first: Int) { events(first: $first) { edges { node { id type } } } }",
        "variables": {"first": 10},
    });
    let result = browse(&app, "query", job).await;
    assert!(
        result["who"].as_str().unwrap().starts_with("Open mode"),
        "{}",
        result["who"]
    );
    let shown: Vec<&Value> = result["result"]["data"]["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| &edge["node"]["id"])
        .collect();
    assert_eq!(shown, [&ids[1], &ids[0]]);
    let live: Vec<&Value> = result["live"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["id"])
        .collect();
    assert_eq!(live, [&ids[1], &ids[0]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_views_fit_desktop_and_phone_screens() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&canopy)
        .await;
    // Enough of one type for two pages of Events.
    for n in 1..=PAGED {
        delivered(&app, customer_event(n)).await;
    }
    let mut event = Value::Null;
    for name in [
        "account_create",
        "account_update",
        "payment_due_date",
        "minimum_payment_due",
        "account_delinquency",
        "line_item_create",
    ] {
        let id = delivered(&app, signed_fixture(name)).await;
        if name == "account_update" {
            event = id;
        }
    }
    post_refused(&app).await;
    let masked = delivered(&app, customer_event(0)).await;
    let account = canopy_fixture("account_create")["data"]["object"]["account_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Something for the account's configs and the audit log to show.
    for input in [
        json!({"notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days", "time": "9:00:00"}),
        json!({"notificationType": "ACCOUNT_DELINQUENCY", "periodicInterval": "WEEKLY"}),
        json!({"notificationType": "MINIMUM_PAYMENT_MISSED", "timeOffset": "-1 days"}),
    ] {
        let mut input = input;
        input["accountId"] = json!(account);
        configure_as_admin(&app, input).await;
    }

    // `UPDATE_CONSOLE_SCREENSHOTS=1` refreshes the pictures README shows.
    let temp = tempfile::tempdir().unwrap();
    let shots = if std::env::var_os("UPDATE_CONSOLE_SCREENSHOTS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
    } else {
        temp.path().to_owned()
    };
    let job = json!({
        "screenshots": shots,
        "event": event,
        "masked": masked,
        "account": account,
        "eventTypes": ["account_update", "account_create", "payment_due_date"],
        "pagedType": "customer_update",
    });
    let result = browse(&app, "views", job).await;

    assert_eq!(
        result["headingFocused"], true,
        "a view's heading takes focus"
    );
    let searched = event_ids(
        &app,
        json!({"sources": ["CANOPY"], "types": ["account_update", "account_create", "payment_due_date"]}),
    )
    .await;
    assert_eq!(result["searched"], json!(searched));
    let paged = event_ids(&app, json!({"types": ["customer_update"]})).await;
    assert_eq!(paged.len(), PAGED + 1);
    assert_eq!(
        result["pages"],
        json!([paged[..20], paged[20..], paged[..20]])
    );
    assert_eq!(result["lastHasNext"], false);
    // The header line, from /readyz (its deliveries figure: the test
    // below).
    let status = result["status"].as_str().unwrap();
    assert!(
        status.starts_with("Ready: store up · redis not configured · writer up · feed up · "),
        "{status}"
    );
    for view in result["views"].as_array().unwrap() {
        assert_eq!(view["overflow"], 0, "{view} is wider than 1280 px");
        let png = shots.join(format!("console-{}.png", view["name"].as_str().unwrap()));
        assert_eq!(png_size(&png), (1280, 800), "{}", png.display());
    }
    assert_eq!(result["views"].as_array().unwrap().len(), 8);
    for view in result["phone"].as_array().unwrap() {
        assert_eq!(view["overflow"], 0, "{view} is wider than a phone");
    }
    assert_eq!(png_size(&shots.join("console-phone.png")), (390, 844));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_header_shows_the_deliveries_metrics_counted() {
    let app = spawn_app(Backend::Sqlite).await;
    let wrong = signed_with(
        "not-the-secret",
        "account_update",
        json!({"account_id": "a1"}),
    );
    let bodies = [
        signed_fixture("account_update"),
        signed_fixture("payment_due_date"),
        signed_fixture("account_update"),
        wrong,
        "not json".to_owned(),
    ];
    let result = browse(&app, "header", json!({"bodies": bodies, "refused": 2})).await;

    assert_eq!(result["answers"], json!([202, 202, 200, 401, 400]));
    let before = result["before"].as_str().unwrap();
    assert!(
        before.starts_with("Ready: store up · ") && before.contains(" · 0 deliveries in the last "),
        "{before}"
    );
    let after = result["after"].as_str().unwrap();
    assert!(after.contains(" · 5 deliveries in the last "), "{after}");
    assert!(after.ends_with(" (2 refused)"), "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_configure_form_checks_the_rules_and_reaches_canopy() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    let account = "test-acct-SMS-HTTP-p";
    delivered(&app, signed_fixture("account_update")).await;
    Mock::given(method("PUT"))
        .and(path(config_path(account)))
        .and(body_json(json!({
            "notification_type": "payment_due_date",
            "time_offset": "-2 days",
            "time": "7:30:00",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&canopy)
        .await;
    let mut object = canopy_fixture("account_update")["data"]["object"].clone();
    object["account_overview"]["account_status"] = json!("ACTIVE");
    Mock::given(method("GET"))
        .and(path(format!("/accounts/{account}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(object))
        .expect(1)
        .mount(&canopy)
        .await;

    let job = json!({"account": account, "refreshedStatus": "ACTIVE"});
    let result = browse(&app, "notifications", job).await;

    // Refused in the page: nothing was sent, the field says why.
    assert_eq!(result["sentAfterRefusal"], 0);
    let refusal = result["refusal"].as_str().unwrap();
    assert!(
        refusal.contains("timeOffset cannot be combined with periodicInterval"),
        "{refusal}"
    );
    assert_eq!(
        result["offsetError"],
        "Time offset cannot be combined with periodicInterval"
    );
    assert_eq!(result["offsetInvalid"], "true");
    // The valid one went to Canopy and is listed as Canopy accepted it.
    let sent = &result["mutations"][0]["variables"]["input"];
    assert_eq!(
        sent,
        &json!({"accountId": account, "notificationType": "PAYMENT_DUE_DATE",
                "timeOffset": "-2 days", "time": "7:30:00"})
    );
    let config = &result["configs"][0];
    assert_eq!(
        json!([config[0], config[1], config[2], config[3], config[4]]),
        json!(["PAYMENT_DUE_DATE", "-2 days", "7:30:00", "—", "yes"])
    );
    assert_eq!(result["configs"].as_array().unwrap().len(), 1);
    let audit: Vec<Value> = result["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| json!([row[2], row[3]]))
        .collect();
    assert_eq!(
        audit,
        [
            json!(["refreshAccount", "OK"]),
            json!(["configureNotification", "OK"])
        ]
    );
    canopy.verify().await;
    let calls = received(&canopy).await;
    assert_eq!(
        calls,
        [
            "POST /auth/token".to_owned(),
            format!("PUT {}", config_path(account)),
            format!("GET /accounts/{account}"),
        ]
    );
}

/// The page's rules (run in the browser) and the gateway's agree on every
/// combination of type, offset, time and interval: the same violations,
/// in the same words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_notification_rules_are_the_gateways() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    Mock::given(method("PUT"))
        .and(path_regex("^/accounts/[^/]+/notification_config$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&canopy)
        .await;
    let mut inputs = vec![
        json!({"accountId": " ", "notificationType": "PAYMENT_DUE_DATE", "timeOffset": "1 day"}),
    ];
    let types = [
        "PAYMENT_DUE_DATE",
        "MINIMUM_PAYMENT_DUE",
        "MINIMUM_PAYMENT_MISSED",
        "ACCOUNT_DELINQUENCY",
    ];
    let offsets = [
        None,
        Some("-2 days"),
        Some("7 days"),
        Some("1 hour"),
        Some("-1 hours"),
        Some("2 weeks"),
        Some("+2 days"),
        Some("2days"),
    ];
    let times = [
        None,
        Some("7:30:00"),
        Some("00:00:00"),
        Some("24:00:00"),
        Some("7:5:00"),
    ];
    let intervals = [None, Some("DAILY"), Some("WEEKLY")];
    for kind in types {
        for offset in offsets {
            for time in times {
                for interval in intervals {
                    let mut input = json!({"accountId": "acct-rules", "notificationType": kind});
                    for (name, value) in [
                        ("timeOffset", offset),
                        ("time", time),
                        ("periodicInterval", interval),
                    ] {
                        if let Some(value) = value {
                            input[name] = json!(value);
                        }
                    }
                    inputs.push(input);
                }
            }
        }
    }
    let mut gateway = Vec::new();
    for input in &inputs {
        let response = configure_as_admin(&app, input.clone()).await;
        let errors = response.json["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut messages: Vec<String> = errors
            .iter()
            .map(|error| {
                assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
                error["message"].as_str().unwrap().to_owned()
            })
            .collect();
        messages.sort();
        gateway.push(messages);
    }
    assert!(gateway.iter().any(Vec::is_empty) && gateway.iter().any(|m| m.len() > 1));

    let page = browse(&app, "rules", json!({"inputs": inputs})).await;
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), inputs.len());
    for ((input, gateway), page) in inputs.iter().zip(&gateway).zip(page) {
        let mut page: Vec<String> = serde_json::from_value(page.clone()).unwrap();
        page.sort();
        assert_eq!(&page, gateway, "{input}");
    }
}

/// `customer_update` events beyond the one on the Live picture.
const PAGED: usize = 20;

/// The ids of the events `filter` selects, newest first.
async fn event_ids(app: &TestApp, filter: Value) -> Vec<Value> {
    let query = "query($filter: EventFilter) {
        events(filter: $filter, first: 100) { edges { node { id } } }
    }";
    let response = gql(app, Some(ADMIN_KEY), query, json!({"filter": filter})).await;
    let edges = response.data()["events"]["edges"].as_array().unwrap();
    edges
        .iter()
        .map(|edge| edge["node"]["id"].clone())
        .collect()
}

/// Width and height from a PNG's header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|_| panic!("{} written", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_files_are_served_with_their_types_and_a_strict_policy() {
    let app = spawn_app_with(Backend::Sqlite, with_keys).await;
    for (path, content_type) in [
        ("/console", "text/html; charset=utf-8"),
        ("/graphql", "text/html; charset=utf-8"),
        ("/console/js/app.js", "text/javascript; charset=utf-8"),
        ("/console/console.css", "text/css; charset=utf-8"),
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("content-type"), content_type, "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        let policy = header("content-security-policy");
        assert!(
            policy.starts_with("default-src 'none'; script-src 'self';"),
            "{policy}"
        );
        let own = format!("connect-src 'self' ws://{0} wss://{0};", app.addr);
        assert!(policy.contains(&own), "{policy}");
    }
    let page = app.http.get(app.url("/graphql")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"<script type="module" src="/console/js/app.js">"#));
    assert!(!page.contains("http"), "the page names no other site");
    assert_eq!(app.get_status("/console/js/nothing.js").await, 404);
    assert_eq!(app.get_status("/console/../Cargo.toml").await, 404);
}
