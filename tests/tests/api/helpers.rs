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
    ingest::{SourcesConfig, canopy},
    secret::Secret,
    store::rejections::Recorder,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use serde_json::Value;

pub const SECRET: &str = "test-secret";
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
            },
        },
        ..Config::default()
    }
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
    static CRYPTO: Once = Once::new();
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
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
