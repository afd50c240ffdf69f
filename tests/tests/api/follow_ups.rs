//! The follow-up queue with a mock Embedded Funding API: the documented
//! reads per message, retries, give-up, the company view, crashes, several
//! nodes, and claims that never overlap.
use std::{collections::HashSet, time::Duration};

use api::{
    event::FollowUp,
    store::{
        companies::{self, CompanyChange, Record, RecordKind},
        follow_ups,
    },
};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, path_regex},
};

use crate::{
    embedded_funding_ingest::{FIXTURES, fixture, post_callback},
    embedded_funding_mock::{
        COMPANY, answer_everything, answer_for, callback, reading_from, received,
    },
    graphql_support::{PII_KEY, READ_KEY, gql, with_keys},
    helpers::{Backend, TestApp, TestStore, spawn_app_with, spawn_on, stored_id, test_config},
    on_both_backends,
};

on_both_backends!(
    each_message_reads_exactly_its_documented_gets,
    a_read_failing_twice_then_answering_is_attached,
    a_follow_up_failing_past_its_give_up_is_failed_in_graphql,
    a_crashed_worker_is_restarted_and_does_its_jobs,
    a_lost_claim_is_claimed_again_and_only_its_new_holder_finishes_it,
    the_company_view_keeps_the_newest_read_of_each_part,
);

async fn spawn_reading(backend: Backend, api: &MockServer) -> TestApp {
    spawn_app_with(backend, |config| {
        with_keys(config);
        reading_from(config, api);
    })
    .await
}

const EVENT: &str = "query($id: ID!) { event(id: $id) {
    type followUp followUpStatus { state attempts lastError nextAttemptAt updatedAt }
} }";

async fn event_as(app: &TestApp, key: &str, id: i64) -> Value {
    let id = api::ids::event_id(id);
    gql(app, Some(key), EVENT, json!({"id": id})).await.data()["event"].clone()
}

fn company_path(rest: &str) -> String {
    format!("/v1/companies/{COMPANY}/{rest}")
}

async fn each_message_reads_exactly_its_documented_gets(backend: Backend) {
    let api = MockServer::start().await;
    answer_everything(&api).await;
    let app = spawn_reading(backend, &api).await;
    let documented: [&[&str]; 5] = [
        &["status", "terms"],
        &["withdrawal/39770189-a190-438d-8210-e425181157c4"],
        &["status", "terms"],
        &["limit-requests/23203210-af0e-sadf-9079-1157c45a4cbe/status"],
        &["loans/34503210-af0b-sadf-9079-2252c45a4cbe"],
    ];
    let names = [
        "creditStatus",
        "withdrawal",
        "creditStatus",
        "limitRequestStatus",
        "loan",
    ];
    let mut seen = 0;
    for (((name, _), reads), key) in FIXTURES.iter().zip(documented).zip(names) {
        let response = post_callback(&app, &[], &fixture(name)).await;
        assert_eq!(response.status().as_u16(), 202);
        let id = stored_id(response).await;
        let job = app.settled_follow_up(id).await;
        assert_eq!((job.state.as_str(), job.attempts), ("done", 1), "{name}");
        let requests = received(&api).await;
        let mut made: Vec<&str> = requests[seen..].iter().map(String::as_str).collect();
        made.sort_unstable();
        let mut expected: Vec<String> = reads
            .iter()
            .map(|r| format!("GET {}", company_path(r)))
            .collect();
        expected.sort_unstable();
        assert_eq!(made, expected, "{name}");
        seen = requests.len();

        let event = event_as(&app, PII_KEY, id).await;
        assert_eq!(event["followUpStatus"]["state"], "DONE");
        assert_eq!(event["followUpStatus"]["nextAttemptAt"], Value::Null);
        let follow_up = &event["followUp"];
        assert_eq!(
            follow_up[key],
            answer_for(&company_path(reads[0])),
            "{name}"
        );
        if reads.len() == 2 {
            assert_eq!(follow_up["terms"], answer_for(&company_path("terms")));
        }
        let fetched: DateTime<Utc> = follow_up["fetchedAt"].as_str().unwrap().parse().unwrap();
        assert!(
            fetched >= app.event(id).await.received_at,
            "read after the event"
        );
        // PII in what was read is masked like any JSON.
        let read = event_as(&app, READ_KEY, id).await;
        assert_eq!(read["followUp"][key]["email"], "*****");
        assert_eq!(read["followUp"][key]["state"], "APPROVED");
    }
    // Nothing to read for a message nobody documented.
    let unknown = stored_id(post_callback(&app, &[], &callback(9, json!({}))).await).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received(&api).await.len(), seen);
    assert_eq!(
        event_as(&app, READ_KEY, unknown).await["followUpStatus"],
        Value::Null
    );

    // The company view holds what was read.
    let company = gql(
        &app,
        Some(READ_KEY),
        "query($id: ID!) { company(id: $id) {
            id creditStatus creditStatusFetchedAt terms
            withdrawals { edges { cursor node { id state fetchedAt } } pageInfo { hasNextPage } }
            limitRequests { edges { node { id state } } }
            loans { edges { node { id state } } }
            events(first: 3) { edges { node { type } } pageInfo { hasNextPage } }
        } }",
        json!({"id": COMPANY}),
    )
    .await;
    let company = &company.data()["company"];
    assert_eq!(company["id"], COMPANY);
    assert_eq!(company["creditStatus"]["path"], company_path("status"));
    assert_eq!(company["creditStatus"]["email"], "*****", "masked for read");
    assert_eq!(company["terms"]["path"], company_path("terms"));
    let node = |list: &str| company[list]["edges"][0]["node"].clone();
    assert_eq!(
        node("withdrawals")["id"],
        "39770189-a190-438d-8210-e425181157c4"
    );
    assert_eq!(
        node("withdrawals")["state"]["path"],
        company_path("withdrawal/39770189-a190-438d-8210-e425181157c4")
    );
    assert_eq!(
        node("limitRequests")["id"],
        "23203210-af0e-sadf-9079-1157c45a4cbe"
    );
    assert_eq!(node("loans")["id"], "34503210-af0b-sadf-9079-2252c45a4cbe");
    assert_eq!(company["withdrawals"]["pageInfo"]["hasNextPage"], false);
    let types: Vec<&str> = company["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Unknown(9)",
            "LoanPaymentRegistered",
            "LimitRequestStatusChanged"
        ]
    );
    assert_eq!(company["events"]["pageInfo"]["hasNextPage"], true);
    let nobody = gql(
        &app,
        Some(READ_KEY),
        "{ company(id: \"nobody\") { id } }",
        json!({}),
    )
    .await;
    assert_eq!(nobody.data()["company"], Value::Null);
}

async fn a_read_failing_twice_then_answering_is_attached(backend: Backend) {
    let api = MockServer::start().await;
    let withdrawal = company_path("withdrawal/w-1");
    // The queue's attempt fails twice (each is the client's two quick
    // tries), then the API answers.
    Mock::given(method("GET"))
        .and(path(withdrawal.as_str()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(4)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path(withdrawal.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "PAID_OUT"})))
        .mount(&api)
        .await;
    let app = spawn_reading(backend, &api).await;
    let body = callback(1, json!({"withdrawalId": "w-1"}));
    let response = post_callback(&app, &[], &body).await;
    assert_eq!(response.status().as_u16(), 202, "answered before any read");
    let id = stored_id(response).await;
    let job = app.settled_follow_up(id).await;
    assert_eq!((job.state.as_str(), job.attempts), ("done", 3));
    assert_eq!(job.last_error, None);
    let event = event_as(&app, READ_KEY, id).await;
    assert_eq!(
        event["followUp"]["withdrawal"],
        json!({"status": "PAID_OUT"})
    );
    assert_eq!(event["followUpStatus"]["attempts"], 3);
    assert_eq!(received(&api).await, vec![format!("GET {withdrawal}"); 5]);
}

async fn a_follow_up_failing_past_its_give_up_is_failed_in_graphql(backend: Backend) {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "no such loan"})))
        .mount(&api)
        .await;
    let app = spawn_app_with(backend, |config| {
        with_keys(config);
        reading_from(config, &api);
        config.follow_ups.give_up_after = Duration::from_secs(2);
    })
    .await;
    let id =
        stored_id(post_callback(&app, &[], &callback(4, json!({"loanId": "l-1"}))).await).await;
    // Tried, failed, tried again until it had failed for 2 s.
    let job = app.settled_follow_up(id).await;
    assert_eq!(job.state, "failed");
    assert!(job.attempts >= 2, "{job:?}");
    let event = event_as(&app, READ_KEY, id).await;
    let status = &event["followUpStatus"];
    assert_eq!(status["state"], "FAILED");
    assert_eq!(status["nextAttemptAt"], Value::Null);
    assert_eq!(
        status["lastError"],
        format!(
            "Embedded Funding refused GET {} (HTTP 404)",
            company_path("loans/l-1")
        )
    );
    assert_eq!(event["followUp"], Value::Null);
    // Given up is given up.
    let calls = received(&api).await.len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(received(&api).await.len(), calls);
}

async fn a_crashed_worker_is_restarted_and_does_its_jobs(backend: Backend) {
    let api = MockServer::start().await;
    answer_everything(&api).await;
    let app = spawn_reading(backend, &api).await;
    assert_eq!(app.get_json("/readyz").await["jobs"], "up");
    app.faults.crash_jobs();
    // The callback wakes the worker, which crashes before claiming it.
    let id = stored_id(post_callback(&app, &[], &fixture("0_credit_limit_updated")).await).await;
    app.status_becomes("/readyz", 503).await;
    app.status_becomes("/readyz", 200).await;
    let job = app.settled_follow_up(id).await;
    assert_eq!((job.state.as_str(), job.attempts), ("done", 1));
    assert_eq!(received(&api).await.len(), 2);
}

/// A fresh store with the gateway's schema, for the store's own functions.
async fn migrated(backend: Backend) -> (TestStore, sea_orm::DatabaseConnection) {
    let store = TestStore::new(backend).await;
    let db = Database::connect(&store.url).await.unwrap();
    api::store::migrate(&db).await.unwrap();
    (store, db)
}

/// A pending job for each of `event_ids`, inserted as the writer inserts them.
async fn queue(db: &sea_orm::DatabaseConnection, event_ids: std::ops::Range<i64>) {
    let follow_up = FollowUp::CanopyAccount {
        account_id: "acct".into(),
    };
    let rows: Vec<(i64, &FollowUp)> = event_ids.map(|id| (id, &follow_up)).collect();
    let insert = follow_ups::insert_many(db.get_database_backend(), &rows, api::clock::now());
    db.execute_raw(insert.unwrap()).await.unwrap();
}

async fn a_lost_claim_is_claimed_again_and_only_its_new_holder_finishes_it(backend: Backend) {
    let (_store, db) = migrated(backend).await;
    queue(&db, 1..2).await;
    let lease = Duration::from_secs(30);
    let claim = |kind: &'static str, at| {
        let db = &db;
        async move { follow_ups::claim(db, &[kind], 10, at, lease).await }
    };
    let now = api::clock::now();
    let first = claim(FollowUp::CANOPY_ACCOUNT, now).await.unwrap();
    assert_eq!((first.len(), first[0].claim), (1, 1));
    // Held: not claimable until its lease ends, nor by another kind.
    for kind in [FollowUp::CANOPY_ACCOUNT, FollowUp::EMBEDDED_FUNDING] {
        assert!(claim(kind, now).await.unwrap().is_empty(), "{kind}");
    }
    let later = now + chrono::Duration::seconds(31);
    let second = claim(FollowUp::CANOPY_ACCOUNT, later).await.unwrap();
    assert_eq!((second.len(), second[0].claim), (1, 2));
    // The first holder comes back: its claim is gone.
    assert!(
        !follow_ups::retry_at(&db, first[0].id, 1, later, "late", later)
            .await
            .unwrap()
    );
    assert!(
        !follow_ups::finish(&db, first[0].id, 1, later)
            .await
            .unwrap()
    );
    assert!(
        follow_ups::finish(&db, second[0].id, 2, later)
            .await
            .unwrap()
    );
    assert!(
        !follow_ups::finish(&db, second[0].id, 2, later)
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(follow_ups::pending(&db).await.unwrap(), 0);
}

async fn the_company_view_keeps_the_newest_read_of_each_part(backend: Backend) {
    let (_store, db) = migrated(backend).await;
    let at = |s: i64| api::clock::now() + chrono::Duration::seconds(s);
    let change = |fetched_at, label: &str, records: Vec<Record>| CompanyChange {
        company_id: "c".into(),
        fetched_at,
        credit_status: Some(json!({"read": label}).to_string()),
        terms: None,
        records,
    };
    let loan = |label: &str| Record {
        kind: RecordKind::Loan,
        id: "l".into(),
        state: json!({"read": label}).to_string(),
    };
    // The later read finishes first; the earlier one must not roll it back.
    companies::apply(&db, change(at(10), "newer", vec![loan("newer")]), at(11))
        .await
        .unwrap();
    companies::apply(&db, change(at(5), "older", vec![loan("older")]), at(12))
        .await
        .unwrap();
    let company = companies::find(&db, "c").await.unwrap().unwrap();
    assert_eq!(
        company.credit_status.as_deref(),
        Some(r#"{"read":"newer"}"#)
    );
    assert_eq!(company.terms, None);
    let loans = companies::records(&db, "c", RecordKind::Loan, None, 10)
        .await
        .unwrap();
    assert_eq!(loans.len(), 1);
    assert_eq!(loans[0].state, r#"{"read":"newer"}"#);
    // A part not read keeps its value; a newer read replaces.
    let terms = CompanyChange {
        credit_status: None,
        terms: Some("{}".into()),
        ..change(at(20), "", vec![loan("newest")])
    };
    companies::apply(&db, terms, at(21)).await.unwrap();
    let company = companies::find(&db, "c").await.unwrap().unwrap();
    assert_eq!(
        company.credit_status.as_deref(),
        Some(r#"{"read":"newer"}"#)
    );
    assert_eq!(company.terms.as_deref(), Some("{}"));
    let loans = companies::records(&db, "c", RecordKind::Loan, None, 10)
        .await
        .unwrap();
    assert_eq!(loans[0].state, r#"{"read":"newest"}"#);
    assert!(
        companies::records(&db, "c", RecordKind::Withdrawal, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_on_postgresql_never_take_the_same_job() {
    let (store, db) = migrated(Backend::Postgres).await;
    const JOBS: i64 = 400;
    queue(&db, 1..JOBS + 1).await;
    let claimers = (0..6).map(|_| {
        let url = store.url.clone();
        async move {
            let db = Database::connect(&url).await.unwrap();
            let mut mine = Vec::new();
            loop {
                let claimed = follow_ups::claim(
                    &db,
                    &[FollowUp::CANOPY_ACCOUNT],
                    7,
                    api::clock::now(),
                    Duration::from_secs(60),
                )
                .await
                .unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|job| job.event_id));
            }
        }
    });
    let claimed: Vec<i64> = join_all(claimers).await.into_iter().flatten().collect();
    let distinct: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), distinct.len(), "a job was claimed twice");
    assert_eq!(distinct, (1..JOBS + 1).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgresql_do_each_job_once() {
    const CALLBACKS: usize = 40;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1/companies/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true}))
                .set_delay(Duration::from_millis(100)),
        )
        .mount(&api)
        .await;
    let store = TestStore::new(Backend::Postgres).await;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut config = test_config(&store.url);
        reading_from(&mut config, &api);
        nodes.push(spawn_on(store.share(), config).await);
    }
    let posts = (0..CALLBACKS).map(|n| {
        let node = &nodes[n % 2];
        async move {
            let body = callback(4, json!({"loanId": format!("loan-{n}")}));
            stored_id(post_callback(node, &[], &body).await).await
        }
    });
    let ids = join_all(posts).await;
    for id in &ids {
        let job = nodes[0].settled_follow_up(*id).await;
        assert_eq!((job.state.as_str(), job.attempts), ("done", 1), "{job:?}");
    }
    let made = received(&api).await;
    let distinct: HashSet<&String> = made.iter().collect();
    assert_eq!(
        (made.len(), distinct.len()),
        (CALLBACKS, CALLBACKS),
        "each read once: {made:?}"
    );
}
