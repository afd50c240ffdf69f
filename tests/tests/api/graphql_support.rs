//! What the GraphQL tests share: a client, API keys, and rows written
//! straight into the store (sources not ingested yet, many rows quickly).
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use api::{
    auth::{Caller, Role, parse_api_keys},
    config::Config,
    event::SourceKind,
};
use chrono::{DateTime, Duration, Utc};
use entity::{accounts, events};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub const READ_KEY: &str = "read-key-0123456789";
pub const PII_KEY: &str = "pii-key-0123456789";
pub const ADMIN_KEY: &str = "admin-key-0123456789";

/// A config tweak: the three keys, one per role.
pub fn with_keys(config: &mut Config) {
    let entries = [
        format!("{READ_KEY}:read"),
        format!("{PII_KEY}:pii"),
        format!("{ADMIN_KEY}:admin"),
    ];
    config.api_keys = parse_api_keys(entries).expect("valid keys");
}

pub struct GqlResponse {
    pub status: u16,
    /// The body exactly as sent, for searching.
    pub text: String,
    pub json: Value,
}

impl GqlResponse {
    /// `data`, after checking there are no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.json.get("errors").is_none(),
            "unexpected errors: {}",
            self.text
        );
        &self.json["data"]
    }

    /// The first error's `extensions.code`.
    pub fn code(&self) -> &str {
        self.json["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.text))
    }
}

/// POSTs a query, with `Authorization: Bearer <key>` when `key` is given.
pub async fn gql(app: &TestApp, key: Option<&str>, query: &str, variables: Value) -> GqlResponse {
    let mut request = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"));
    GqlResponse { status, text, json }
}

/// Every page of `events` under `filter`, `first` at a time: the node ids in
/// the order seen.
pub async fn all_event_ids(app: &TestApp, filter: Value, first: i64) -> Vec<i64> {
    const QUERY: &str = "query($filter: EventFilter, $first: Int, $after: String) {
        events(filter: $filter, first: $first, after: $after) {
            edges { cursor node { id cursor } }
            pageInfo { hasNextPage endCursor }
        }
    }";
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let vars = json!({"filter": filter, "first": first, "after": after});
        let response = gql(app, None, QUERY, vars).await;
        let page = &response.data()["events"];
        let edges = page["edges"].as_array().unwrap();
        for edge in edges {
            assert_eq!(edge["cursor"], edge["node"]["cursor"]);
            ids.push(row_id(&edge["node"]["id"]));
        }
        let info = &page["pageInfo"];
        assert_eq!(
            info["endCursor"],
            edges.last().map_or(Value::Null, |e| e["cursor"].clone())
        );
        if !info["hasNextPage"].as_bool().unwrap() {
            return ids;
        }
        assert_eq!(edges.len() as i64, first, "a full page before the last");
        after = info["endCursor"].clone();
    }
}

/// The row id behind a public event id (`evt_<n>`).
pub fn row_id(id: &Value) -> i64 {
    let id = id.as_str().expect("id is a string");
    api::ids::parse_event_id(id).unwrap_or_else(|| panic!("event id {id}"))
}

pub fn base_time() -> DateTime<Utc> {
    "2026-03-01T12:00:00Z".parse().unwrap()
}

/// An event row as the writer would store it.
pub fn event_row(
    id: i64,
    source: SourceKind,
    event_type: &str,
    account_id: Option<&str>,
    received_at: DateTime<Utc>,
) -> events::Model {
    events::Model {
        id,
        source: source.as_str().to_owned(),
        event_type: event_type.to_owned(),
        account_id: account_id.map(str::to_owned),
        dedup_key: None,
        occurred_at: None,
        received_at,
        payload: json!({"n": id}).to_string(),
        content_type: None,
        deliveries: 1,
        follow_up: None,
        purged_at: None,
    }
}

pub async fn insert_events(db: &DatabaseConnection, rows: Vec<events::Model>) {
    // Chunks keep every statement under SQLite's bound-parameter limit.
    for chunk in rows.chunks(200) {
        let models = chunk
            .iter()
            .cloned()
            .map(sea_orm::IntoActiveModel::into_active_model);
        events::Entity::insert_many(models)
            .exec_without_returning(db)
            .await
            .expect("events inserted");
    }
}

pub fn account_row(id: &str, status: &str) -> accounts::Model {
    accounts::Model {
        id: id.to_owned(),
        customer_id: Some(format!("cus_{id}")),
        status: Some(status.to_owned()),
        status_subtype: None,
        credit_limit_cents: Some(100_000),
        available_credit_cents: Some(5_000_000_000),
        total_balance_cents: None,
        min_pay_due_cents: None,
        min_pay_due_at: None,
        days_past_due: Some(3),
        delinquent_as_of: None,
        snapshot: None,
        snapshot_changed_at: None,
        updated_at: base_time(),
    }
}

pub async fn insert_accounts(db: &DatabaseConnection, rows: Vec<accounts::Model>) {
    for chunk in rows.chunks(200) {
        let models = chunk
            .iter()
            .cloned()
            .map(sea_orm::IntoActiveModel::into_active_model);
        accounts::Entity::insert_many(models)
            .exec_without_returning(db)
            .await
            .expect("accounts inserted");
    }
}

/// When test event `i` was received: `i` seconds after [`base_time`], plus a
/// fraction from a cycle giving stored times of every text length (SQLite
/// keeps them as text, without trailing zeros).
pub fn received_at(i: i64) -> DateTime<Utc> {
    const MICROS: [i64; 6] = [0, 120_000, 123_456, 500_000, 999_999, 1];
    base_time() + Duration::seconds(i) + Duration::microseconds(MICROS[(i % 6) as usize])
}

/// The gateway's schema over a connection that counts the statements it runs.
pub struct CountingSchema {
    pub schema: api::graphql::GatewaySchema,
    statements: Arc<AtomicUsize>,
}

impl CountingSchema {
    pub async fn new(db: &DatabaseConnection) -> Self {
        // Nothing is committed through this schema; the feed only has to
        // exist, and it reads through a connection that is not counted.
        let (_, committed) = tokio::sync::watch::channel(0);
        let poll = api::config::DEFAULT_FEED_POLL_INTERVAL;
        let feed = api::live::Feed::start(db.clone(), committed, poll, Default::default())
            .await
            .unwrap();
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let mut db = db.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        Self {
            schema: api::graphql::build(
                db.clone(),
                feed,
                api::live::Shutdown::default(),
                api::store::writer::Writer::spawn(db, Default::default()),
                None,
            ),
            statements,
        }
    }

    /// Runs `query` as an admin; returns the response and the statements it ran.
    pub async fn run(&self, query: &str) -> (Value, usize) {
        self.run_with(query, json!({})).await
    }

    /// [`Self::run`] with `variables`.
    pub async fn run_with(&self, query: &str, variables: Value) -> (Value, usize) {
        let before = self.statements.load(Ordering::SeqCst);
        let caller = Caller {
            role: Role::Admin,
            key_id: "test".to_owned(),
        };
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables))
            .data(caller);
        let response = self.schema.execute(request).await;
        let ran = self.statements.load(Ordering::SeqCst) - before;
        (api::graphql::response::to_json(&response), ran)
    }
}
