//! Mutations against a mock Canopy (contract section 3): notification
//! configs and their rules, refreshAccount through the projection, the
//! dead-letter replay, roles and the audit log.
use std::time::Duration;

use entity::{accounts, audit_log, notification_configs};
use futures::future::join_all;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

use crate::{
    canopy_mock::{config_path, configure, configure_as_admin, received, spawn_with_token},
    graphql_support::{ADMIN_KEY, PII_KEY, READ_KEY, account_row, gql, insert_accounts, with_keys},
    helpers::{Backend, TestApp, canopy_fixture, signed, signed_fixture, spawn_app_with},
    on_both_backends,
};

on_both_backends!(
    the_documented_examples_reach_canopy_as_its_body_and_are_readable,
    an_account_keeps_one_config_per_offset_and_one_periodic,
    refresh_account_stores_canopys_object_through_the_projection,
    a_refresh_racing_webhooks_leaves_the_newest_state,
    the_audit_log_shows_every_mutation_newest_first,
);

const BEARER: &str = "Bearer token-1";
const REFRESH: &str = "mutation($id: ID!) {
    refreshAccount(id: $id) { id status statusSubtype creditLimitCents availableCreditCents snapshot }
}";
const REPLAY: &str = "mutation { replayFailedCanopyEvents }";

async fn refresh(app: &TestApp, key: &str, id: &str) -> crate::graphql_support::GqlResponse {
    gql(app, Some(key), REFRESH, json!({"id": id})).await
}

async fn stored_configs(app: &TestApp) -> u64 {
    notification_configs::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

/// What the API answers for a config made from `input`.
fn as_answered(input: &Value) -> Value {
    json!({
        "accountId": input["accountId"],
        "notificationType": input["notificationType"],
        "timeOffset": input.get("timeOffset").unwrap_or(&Value::Null),
        "time": input.get("time").unwrap_or(&Value::Null),
        "periodicInterval": input.get("periodicInterval").unwrap_or(&Value::Null),
        "inForce": true,
    })
}

fn without_id_and_time(mut config: Value) -> Value {
    let object = config.as_object_mut().unwrap();
    object.remove("id");
    object.remove("updatedAt");
    config
}

async fn the_documented_examples_reach_canopy_as_its_body_and_are_readable(backend: Backend) {
    let (app, canopy) = spawn_with_token(backend).await;
    // Seed 001's examples, each on an account of its own.
    let examples = [
        (
            json!({"accountId": "due", "notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days"}),
            json!({"notification_type": "payment_due_date", "time_offset": "-2 days"}),
        ),
        (
            json!({"accountId": "min-due", "notificationType": "MINIMUM_PAYMENT_DUE",
                   "timeOffset": "-1 days", "time": "00:00:00"}),
            json!({"notification_type": "minimum_payment_due", "time_offset": "-1 days", "time": "00:00:00"}),
        ),
        (
            json!({"accountId": "missed-6", "notificationType": "MINIMUM_PAYMENT_MISSED",
                   "timeOffset": "6 days", "time": "00:00:00"}),
            json!({"notification_type": "minimum_payment_missed", "time_offset": "6 days", "time": "00:00:00"}),
        ),
        (
            json!({"accountId": "missed-0", "notificationType": "MINIMUM_PAYMENT_MISSED", "timeOffset": "0 days"}),
            json!({"notification_type": "minimum_payment_missed", "time_offset": "0 days"}),
        ),
        (
            json!({"accountId": "delinquent-7-at", "notificationType": "ACCOUNT_DELINQUENCY",
                   "timeOffset": "7 days", "time": "00:00:00"}),
            json!({"notification_type": "account_delinquency", "time_offset": "7 days", "time": "00:00:00"}),
        ),
        (
            json!({"accountId": "delinquent-7", "notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "7 days"}),
            json!({"notification_type": "account_delinquency", "time_offset": "7 days"}),
        ),
        (
            json!({"accountId": "daily", "notificationType": "ACCOUNT_DELINQUENCY", "periodicInterval": "DAILY"}),
            json!({"notification_type": "account_delinquency", "periodic_interval": "DAILY"}),
        ),
        (
            json!({"accountId": "weekly", "notificationType": "ACCOUNT_DELINQUENCY", "periodicInterval": "WEEKLY"}),
            json!({"notification_type": "account_delinquency", "periodic_interval": "WEEKLY"}),
        ),
    ];
    for (input, body) in &examples {
        let account = input["accountId"].as_str().unwrap();
        Mock::given(method("PUT"))
            .and(path(config_path(account)))
            .and(header("authorization", BEARER))
            .and(body_json(body))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1)
            .mount(&canopy)
            .await;
    }
    for (input, _) in &examples {
        let response = configure_as_admin(&app, input.clone()).await;
        let config = response.data()["configureNotification"].clone();
        assert_eq!(without_id_and_time(config.clone()), as_answered(input));

        let query = "query($id: ID!) { notificationConfigs(accountId: $id) {
            id accountId notificationType timeOffset time periodicInterval inForce updatedAt } }";
        let listed = gql(
            &app,
            Some(READ_KEY),
            query,
            json!({"id": input["accountId"]}),
        )
        .await;
        assert_eq!(listed.data()["notificationConfigs"], json!([config]));
    }
    canopy.verify().await;
    assert_eq!(stored_configs(&app).await, examples.len() as u64);
}

async fn an_account_keeps_one_config_per_offset_and_one_periodic(backend: Backend) {
    let (app, canopy) = spawn_with_token(backend).await;
    Mock::given(method("PUT"))
        .and(path(config_path("acct-many")))
        .respond_with(ResponseTemplate::new(200))
        .expect(6)
        .mount(&canopy)
        .await;
    insert_accounts(&app.db, vec![account_row("acct-many", "DELINQUENT")]).await;
    for input in [
        json!({"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "3 days"}),
        json!({"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "7 days", "time": "00:00:00"}),
        json!({"notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days"}),
        json!({"notificationType": "ACCOUNT_DELINQUENCY", "periodicInterval": "DAILY"}),
        // Replace the periodic config and the one at 3 days.
        json!({"notificationType": "ACCOUNT_DELINQUENCY", "periodicInterval": "WEEKLY"}),
        json!({"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "3 days", "time": "7:30:00"}),
    ] {
        let mut input = input;
        input["accountId"] = json!("acct-many");
        configure_as_admin(&app, input).await.data();
    }
    let query = r#"{ account(id: "acct-many") { notificationConfigs {
        notificationType timeOffset time periodicInterval inForce } } }"#;
    let response = gql(&app, Some(READ_KEY), query, json!({})).await;
    // A periodic ACCOUNT_DELINQUENCY config is the only one Canopy uses.
    assert_eq!(
        response.data()["account"]["notificationConfigs"],
        json!([
            {"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "3 days", "time": "7:30:00",
             "periodicInterval": null, "inForce": false},
            {"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "7 days", "time": "00:00:00",
             "periodicInterval": null, "inForce": false},
            {"notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days", "time": null,
             "periodicInterval": null, "inForce": true},
            {"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": null, "time": null,
             "periodicInterval": "WEEKLY", "inForce": true},
        ])
    );
    assert_eq!(stored_configs(&app).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_rules_are_all_named_and_nothing_reaches_canopy() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    let cases: [(Value, &[&str]); 14] = [
        (
            json!({"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "7 days", "periodicInterval": "DAILY"}),
            &["timeOffset"],
        ),
        (
            json!({"notificationType": "ACCOUNT_DELINQUENCY", "time": "00:00:00", "periodicInterval": "WEEKLY"}),
            &["time"],
        ),
        (
            json!({"notificationType": "PAYMENT_DUE_DATE", "periodicInterval": "DAILY"}),
            &["periodicInterval"],
        ),
        (
            json!({"notificationType": "MINIMUM_PAYMENT_MISSED", "timeOffset": "-1 days"}),
            &["timeOffset"],
        ),
        (
            json!({"notificationType": "ACCOUNT_DELINQUENCY", "timeOffset": "-7 days"}),
            &["timeOffset"],
        ),
        (
            json!({"notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days", "time": "25:00:00"}),
            &["time"],
        ),
        (
            json!({"notificationType": "MINIMUM_PAYMENT_DUE", "timeOffset": "-1 days", "time": "7:60:00"}),
            &["time"],
        ),
        (
            json!({"notificationType": "PAYMENT_DUE_DATE"}),
            &["timeOffset"],
        ),
        (
            json!({"notificationType": "PAYMENT_DUE_DATE", "timeOffset": "2 weeks"}),
            &["timeOffset"],
        ),
        (
            json!({"notificationType": "PAYMENT_DUE_DATE", "timeOffset": "+2 days"}),
            &["timeOffset"],
        ),
        (
            json!({"notificationType": "PAYMENT_DUE_DATE", "timeOffset": "2days"}),
            &["timeOffset"],
        ),
        // Several at once: every one is named.
        (
            json!({"notificationType": "MINIMUM_PAYMENT_MISSED", "timeOffset": "-1 days", "time": "7:60:00"}),
            &["timeOffset", "time"],
        ),
        (
            json!({"notificationType": "MINIMUM_PAYMENT_DUE", "time": "25:00:00", "periodicInterval": "DAILY"}),
            &["periodicInterval", "time"],
        ),
        (
            json!({"accountId": "", "notificationType": "PAYMENT_DUE_DATE"}),
            &["accountId", "timeOffset"],
        ),
    ];
    for (input, fields) in cases {
        let mut input = input;
        if input.get("accountId").is_none() {
            input["accountId"] = json!("acct-1");
        }
        let response = configure_as_admin(&app, input.clone()).await;
        assert_eq!(response.json["data"], Value::Null, "{input}");
        let errors = response.json["errors"].as_array().unwrap();
        let named: Vec<&str> = errors
            .iter()
            .map(|error| {
                assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
                let field = error["extensions"]["field"].as_str().unwrap();
                let message = error["message"].as_str().unwrap();
                assert!(message.starts_with(field), "{message}");
                field
            })
            .collect();
        assert_eq!(named, fields, "{input}");
    }
    assert_eq!(received(&canopy).await, Vec::<String>::new());
    assert_eq!(stored_configs(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_canopy_refuses_is_upstream_rejected_once_and_not_stored() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    Mock::given(method("PUT"))
        .and(path(config_path("acct-1")))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"message": "time_offset is beyond the next due date"})),
        )
        .expect(1)
        .mount(&canopy)
        .await;
    let input = json!({"accountId": "acct-1", "notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-40 days"});
    let response = configure_as_admin(&app, input).await;
    assert_eq!(response.code(), "UPSTREAM_REJECTED");
    let message = response.json["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("time_offset is beyond the next due date") && message.contains("400"),
        "{message}"
    );
    canopy.verify().await;
    assert_eq!(stored_configs(&app).await, 0);
    let audited = newest_audit(&app).await;
    assert_eq!(
        (audited.action.as_str(), audited.outcome.as_str()),
        ("configureNotification", "UPSTREAM_REJECTED")
    );
}

async fn newest_audit(app: &TestApp) -> audit_log::Model {
    use sea_orm::QueryOrder;
    audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("an audit row")
}

/// Canopy's account object for `id` (the fixture's), in `status`.
fn account_object(id: &str, status: &str) -> Value {
    let mut object = canopy_fixture("account_update")["data"]["object"].clone();
    object["account_id"] = json!(id);
    object["account_overview"]["account_status"] = json!(status);
    object
}

async fn refresh_account_stores_canopys_object_through_the_projection(backend: Backend) {
    let (app, canopy) = spawn_with_token(backend).await;
    let id = "test-acct-SMS-HTTP-p";
    let status = app
        .post_canopy(signed_fixture("account_update"))
        .await
        .status();
    assert_eq!(status.as_u16(), 202);
    assert_eq!(app.account(id).await.status.as_deref(), Some("SUSPENDED"));

    let mut object = account_object(id, "ACTIVE");
    object["account_overview"]["account_status_subtype"] = json!("");
    object["summary"]["credit_limit_cents"] = json!(700_000);
    object["summary"]["available_credit_cents"] = json!(650_000);
    Mock::given(method("GET"))
        .and(path(format!("/accounts/{id}")))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200).set_body_json(&object))
        .expect(1)
        .mount(&canopy)
        .await;
    let response = refresh(&app, ADMIN_KEY, id).await;
    let refreshed = &response.data()["refreshAccount"];
    assert_eq!(
        refreshed,
        &json!({"id": id, "status": "ACTIVE", "statusSubtype": "", "creditLimitCents": 700_000,
                "availableCreditCents": 650_000, "snapshot": object})
    );

    let query = "query($id: ID!) { account(id: $id) { status creditLimitCents snapshot } }";
    let read = gql(&app, Some(READ_KEY), query, json!({"id": id})).await;
    let account = &read.data()["account"];
    assert_eq!(account["status"], "ACTIVE");
    assert_eq!(account["creditLimitCents"], 700_000);
    assert_eq!(account["snapshot"]["customers"][0]["ssn"], "*****7778");
    // A refresh is no event.
    assert_eq!(app.events().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshing_an_account_canopy_does_not_know_is_not_found() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    Mock::given(method("GET"))
        .and(path("/accounts/nobody"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "not found"})))
        .expect(1)
        .mount(&canopy)
        .await;
    let response = refresh(&app, ADMIN_KEY, "nobody").await;
    assert_eq!(response.code(), "NOT_FOUND");
    let stored = accounts::Entity::find_by_id("nobody".to_owned())
        .one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, None);
    assert_eq!(newest_audit(&app).await.outcome, "NOT_FOUND");
}

/// 50 `account_update` webhooks (changed 1 s apart from `first_change`,
/// status `W00`…`W49`) and a refresh (Canopy answers `REFRESHED`), all at
/// once: the account ends in the newest state, whatever the arrival order.
async fn a_refresh_racing_webhooks_leaves_the_newest_state(backend: Backend) {
    let (app, canopy) = spawn_with_token(backend).await;
    let far_ahead = chrono::Utc::now() + chrono::Duration::days(1);
    for (id, first_change, newest) in [
        // Changes from before the refresh asked: Canopy's answer has them.
        (
            "race-older",
            "2023-07-18T21:51:20Z".parse().unwrap(),
            "REFRESHED",
        ),
        // Changes after it asked: the newest of them wins.
        ("race-newer", far_ahead, "W49"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/accounts/{id}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(account_object(id, "REFRESHED"))
                    .set_delay(Duration::from_millis(50)),
            )
            .mount(&canopy)
            .await;
        let first_change: chrono::DateTime<chrono::Utc> = first_change;
        let webhooks = (0..50).map(|i| {
            let changed_at = first_change + chrono::Duration::seconds(i);
            let data = json!({
                "changed_at": changed_at.to_rfc3339(),
                "object": account_object(id, &format!("W{i:02}")),
                "object_type": "account",
            });
            app.post_canopy(signed("account_update", data))
        });
        let (answers, refreshed) = futures::join!(join_all(webhooks), refresh(&app, ADMIN_KEY, id));
        assert!(answers.iter().all(|a| a.status().as_u16() == 202));
        refreshed.data();
        assert_eq!(
            app.account(id).await.status.as_deref(),
            Some(newest),
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_the_dead_letter_queue_asks_canopy_once() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    Mock::given(method("PUT"))
        .and(path("/organization/subscribe/replay_failed_events"))
        .and(header("authorization", BEARER))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&canopy)
        .await;
    let response = gql(&app, Some(ADMIN_KEY), REPLAY, json!({})).await;
    assert_eq!(response.data()["replayFailedCanopyEvents"], true);
    canopy.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_need_admin_and_nothing_reaches_canopy_otherwise() {
    let (app, canopy) = spawn_with_token(Backend::Sqlite).await;
    let valid = json!({"accountId": "acct-1", "notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days"});
    for key in [READ_KEY, PII_KEY] {
        let responses = [
            configure(&app, key, valid.clone()).await,
            refresh(&app, key, "acct-1").await,
            gql(&app, Some(key), REPLAY, json!({})).await,
        ];
        for response in responses {
            assert_eq!(response.code(), "FORBIDDEN", "{key}: {}", response.text);
            assert_eq!(response.json["data"], Value::Null);
        }
    }
    let anonymous = gql(&app, None, REPLAY, json!({})).await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (401, "UNAUTHENTICATED")
    );
    assert_eq!(received(&canopy).await, Vec::<String>::new());
    assert_eq!(stored_configs(&app).await, 0);

    // Each refusal is audited, naming the key.
    let query = "{ auditLog { edges { node { keyId action outcome } } } }";
    let log = gql(&app, Some(ADMIN_KEY), query, json!({})).await;
    let entries = log.data()["auditLog"]["edges"].as_array().unwrap().clone();
    let outcomes: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            let node = &e["node"];
            (
                node["action"].as_str().unwrap(),
                node["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    let forbidden = |action| (action, "FORBIDDEN");
    let round = [
        forbidden("replayFailedCanopyEvents"),
        forbidden("refreshAccount"),
        forbidden("configureNotification"),
    ];
    assert_eq!(outcomes, [round, round].concat());
    let pii_key_id = entries[0]["node"]["keyId"].as_str().unwrap();
    let read_key_id = entries[3]["node"]["keyId"].as_str().unwrap();
    assert!(pii_key_id.starts_with("key_") && read_key_id.starts_with("key_"));
    assert_ne!(pii_key_id, read_key_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_canopy_api_url_mutations_say_so_and_rules_still_apply() {
    let app = spawn_app_with(Backend::Sqlite, with_keys).await;
    let valid = json!({"accountId": "acct-1", "notificationType": "PAYMENT_DUE_DATE", "timeOffset": "-2 days"});
    let responses = [
        configure_as_admin(&app, valid).await,
        refresh(&app, ADMIN_KEY, "acct-1").await,
        gql(&app, Some(ADMIN_KEY), REPLAY, json!({})).await,
    ];
    for response in responses {
        assert_eq!(response.code(), "UPSTREAM_UNAVAILABLE", "{}", response.text);
        let message = response.json["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("CANOPY_API_URL"), "{message}");
    }
    let broken = json!({"accountId": "acct-1", "notificationType": "PAYMENT_DUE_DATE"});
    assert_eq!(
        configure_as_admin(&app, broken).await.code(),
        "BAD_USER_INPUT"
    );
    assert_eq!(stored_configs(&app).await, 0);
}

async fn the_audit_log_shows_every_mutation_newest_first(backend: Backend) {
    let (app, canopy) = spawn_with_token(backend).await;
    let answer = |status: u16, body: Value| ResponseTemplate::new(status).set_body_json(body);
    for (verb, route, response) in [
        ("PUT", config_path("acct-ok"), answer(200, json!({}))),
        (
            "PUT",
            config_path("acct-refused"),
            answer(422, json!({"message": "no"})),
        ),
        (
            "GET",
            "/accounts/acct-ok".to_owned(),
            answer(200, account_object("acct-ok", "ACTIVE")),
        ),
        (
            "GET",
            "/accounts/unknown".to_owned(),
            answer(404, json!({})),
        ),
        (
            "PUT",
            "/organization/subscribe/replay_failed_events".to_owned(),
            answer(200, json!({})),
        ),
    ] {
        Mock::given(method(verb))
            .and(path(route))
            .respond_with(response)
            .mount(&canopy)
            .await;
    }
    let config = |account: &str, kind: &str, offset: &str| json!({"accountId": account, "notificationType": kind, "timeOffset": offset});
    let ok = config("acct-ok", "PAYMENT_DUE_DATE", "-2 days");
    let broken = config("acct-ok", "MINIMUM_PAYMENT_MISSED", "-1 days");
    let refused = config("acct-refused", "PAYMENT_DUE_DATE", "-2 days");
    configure_as_admin(&app, ok.clone()).await.data();
    assert_eq!(
        configure_as_admin(&app, broken.clone()).await.code(),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        configure_as_admin(&app, refused.clone()).await.code(),
        "UPSTREAM_REJECTED"
    );
    refresh(&app, ADMIN_KEY, "acct-ok").await.data();
    assert_eq!(
        refresh(&app, ADMIN_KEY, "unknown").await.code(),
        "NOT_FOUND"
    );
    gql(&app, Some(ADMIN_KEY), REPLAY, json!({})).await.data();
    assert_eq!(
        gql(&app, Some(READ_KEY), REPLAY, json!({})).await.code(),
        "FORBIDDEN"
    );

    let query = "{ auditLog(first: 10) { edges { node { id keyId action input outcome at } } } }";
    let log = gql(&app, Some(ADMIN_KEY), query, json!({})).await;
    let nodes: Vec<Value> = log.data()["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let seen: Vec<Value> = nodes
        .iter()
        .map(|n| json!([n["action"], n["input"], n["outcome"]]))
        .collect();
    assert_eq!(
        seen,
        [
            json!(["replayFailedCanopyEvents", {}, "FORBIDDEN"]),
            json!(["replayFailedCanopyEvents", {}, "OK"]),
            json!(["refreshAccount", {"id": "unknown"}, "NOT_FOUND"]),
            json!(["refreshAccount", {"id": "acct-ok"}, "OK"]),
            json!(["configureNotification", {"input": refused}, "UPSTREAM_REJECTED"]),
            json!(["configureNotification", {"input": broken}, "BAD_USER_INPUT"]),
            json!(["configureNotification", {"input": ok}, "OK"]),
        ]
    );
    let admin_key_id = &nodes[1]["keyId"];
    assert!(nodes[1..].iter().all(|n| &n["keyId"] == admin_key_id));
    assert_ne!(&nodes[0]["keyId"], admin_key_id);
    let times: Vec<&str> = nodes.iter().map(|n| n["at"].as_str().unwrap()).collect();
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}
