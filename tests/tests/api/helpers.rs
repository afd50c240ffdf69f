//! `spawn_app` and the helpers every test shares.
use std::{
    net::SocketAddr,
    path::Path,
    sync::{Arc, Once},
};

use api::{
    app::App,
    config::Config,
    faults::Faults,
    ingest::{SourcesConfig, canopy, embedded_funding, loanpro},
    secret::Secret,
    store::rejections::Recorder,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use serde_json::Value;

pub const SECRET: &str = "test-secret";
/// The token LoanPro deliveries carry in tests.
pub const LOANPRO_TOKEN: &str = "loanpro-test-token";
const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_BASE_URL: &str = "postgres://postgres@127.0.0.1:5432";
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an `async fn(Backend)` test once per store backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )+};
}

/// A fresh store: a SQLite file in a temporary folder, or a uniquely named
/// PostgreSQL database that is dropped when the test ends.
pub struct TestStore {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestStore {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("gateway.db").display()
                );
                Self {
                    url,
                    _dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!("gwtest_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(PG_ADMIN_URL)
                    .await
                    .expect("shared PostgreSQL is up");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                Self {
                    url: format!("{PG_BASE_URL}/{name}"),
                    _dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl TestStore {
    /// A store at `url` the test manages itself (a private cluster); never
    /// dropped from here.
    pub fn external(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _dir: None,
            pg_name: None,
        }
    }

    /// Another handle on the same store for a second gateway node; only the
    /// original drops the database.
    pub fn share(&self) -> Self {
        Self {
            url: self.url.clone(),
            _dir: None,
            pg_name: None,
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; a thread of its own can block.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                if let Ok(admin) = Database::connect(PG_ADMIN_URL).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin.execute_unprepared(&sql).await;
                }
            });
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: DatabaseConnection,
    pub http: reqwest::Client,
    pub faults: Arc<Faults>,
    recorder: Recorder,
    /// Ends the node's subscriptions as graceful shutdown does.
    pub live_shutdown: api::live::Shutdown,
    /// Held so the store outlives the app.
    _store: TestStore,
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        addr: "127.0.0.1:0".parse().unwrap(),
        sources: SourcesConfig {
            canopy: canopy::CanopyConfig {
                webhook_secrets: vec![Secret::new(SECRET)],
                ..Default::default()
            },
            loanpro: loanpro::LoanproConfig {
                webhook_tokens: vec![Secret::new(LOANPRO_TOKEN)],
            },
            // Tests call from loopback.
            embedded_funding: embedded_funding::EmbeddedFundingConfig {
                allowed_ips: vec!["127.0.0.1/32".parse().unwrap()],
                ..Default::default()
            },
        },
        ..Config::default()
    }
}

/// rustls needs its provider chosen once per process before any client
/// (reqwest's included) is built.
pub fn install_crypto() {
    static CRYPTO: Once = Once::new();
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let store = TestStore::new(backend).await;
    let mut config = test_config(&store.url);
    tweak(&mut config);
    spawn_on(store, config).await
}

/// Starts the gateway with `config` (whose store URL may differ from
/// `store.url`, e.g. through a proxy); `db` is a direct connection for checks.
pub async fn spawn_on(store: TestStore, config: Config) -> TestApp {
    install_crypto();
    let app = App::build(config).await.expect("gateway starts");
    let addr = app.local_addr();
    let (faults, recorder, live_shutdown) = (app.faults(), app.recorder(), app.live_shutdown());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let db = Database::connect(&store.url)
        .await
        .expect("test connects to its store");
    TestApp {
        addr,
        db,
        http: reqwest::Client::new(),
        faults,
        recorder,
        live_shutdown,
        _store: store,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The status of `GET path`.
    pub async fn get_status(&self, path: &str) -> u16 {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("request sent");
        response.status().as_u16()
    }

    /// The JSON answer to `GET path`.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.http.get(self.url(path)).send().await;
        response
            .expect("request sent")
            .json()
            .await
            .expect("a JSON answer")
    }

    /// POSTs `body` to `path` with `headers`.
    pub async fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// The event with row id `id`.
    pub async fn event(&self, id: i64) -> entity::events::Model {
        entity::events::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("event {id} is stored"))
    }

    /// The follow-up job of event `id` once it is no longer pending
    /// (within 30 s).
    pub async fn settled_follow_up(&self, id: i64) -> entity::follow_ups::Model {
        settled_follow_up(&self.db, id, std::time::Duration::from_secs(30)).await
    }

    /// Polls `GET path` until it answers `status` (within 10 s).
    pub async fn status_becomes(&self, path: &str, status: u16) {
        for _ in 0..200 {
            if self.get_status(path).await == status {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{path} never answered {status}");
    }

    pub async fn post_canopy(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(self.url("/webhooks/canopy"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn events(&self) -> Vec<entity::events::Model> {
        use sea_orm::QueryOrder;
        entity::events::Entity::find()
            .order_by_asc(entity::events::Column::Id)
            .all(&self.db)
            .await
            .unwrap()
    }

    /// Waits until every refusal answered so far is written (they are
    /// recorded off the delivery path).
    pub async fn flush_refusals(&self) {
        self.recorder.flush().await;
    }

    /// Every refusal answered so far.
    pub async fn rejections(&self) -> Vec<entity::rejected_deliveries::Model> {
        use sea_orm::QueryOrder;
        self.flush_refusals().await;
        entity::rejected_deliveries::Entity::find()
            .order_by_asc(entity::rejected_deliveries::Column::Id)
            .all(&self.db)
            .await
            .unwrap()
    }

    pub async fn account(&self, id: &str) -> entity::accounts::Model {
        entity::accounts::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("account {id} is stored"))
    }
}

/// The follow-up job of event `id` in `db` once it is no longer pending.
pub async fn settled_follow_up(
    db: &DatabaseConnection,
    id: i64,
    within: std::time::Duration,
) -> entity::follow_ups::Model {
    use entity::follow_ups::{Column, Entity};
    use sea_orm::{ColumnTrait, QueryFilter};
    let deadline = std::time::Instant::now() + within;
    loop {
        let job = Entity::find()
            .filter(Column::EventId.eq(id))
            .one(db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("event {id} has a follow-up"));
        if job.state != "pending" {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the follow-up of event {id} is still pending after {within:?}: {job:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A refusal's status and `error.code`.
pub async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON error body");
    (
        status,
        body["error"]["code"]
            .as_str()
            .expect("error.code")
            .to_owned(),
    )
}

/// The row id of the event a 2xx answer names.
pub async fn stored_id(response: reqwest::Response) -> i64 {
    let body: Value = response.json().await.expect("JSON answer");
    api::ids::parse_event_id(body["id"].as_str().expect("an event id")).expect("an event id")
}

/// The text of fixture `folder/name`.
pub fn fixture_text(folder: &str, name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(folder).join(name)).expect("fixture")
}

/// The names of the Canopy fixtures (file stems).
pub fn canopy_fixture_names() -> Vec<String> {
    let dir = Path::new(FIXTURES).join("canopy");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("fixtures folder")
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

pub fn canopy_fixture(name: &str) -> Value {
    let path = Path::new(FIXTURES)
        .join("canopy")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture JSON")
}

/// A webhook body for `event` with `data`, signed with [`SECRET`] as
/// Canopy's JavaScript example signs it.
pub fn signed(event: &str, data: Value) -> String {
    signed_with(SECRET, event, data)
}

pub fn signed_with(secret: &str, event: &str, data: Value) -> String {
    let body = serde_json::json!({"event": event, "data": data});
    canopy::signed_body(secret, body, event).expect("object body")
}

/// A fixture, re-signed with [`SECRET`].
pub fn signed_fixture(name: &str) -> String {
    let fixture = canopy_fixture(name);
    signed(fixture["event"].as_str().unwrap(), fixture["data"].clone())
}
