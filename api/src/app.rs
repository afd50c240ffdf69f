//! Building and running the gateway: store, migrations, listener, router.
use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::{
    auth::Auth,
    config::Config,
    feed::Feed,
    graphql::{self, GatewaySchema},
    ingest::canopy::Canopy,
    pubsub::PubSub,
    routes,
    store::{self, writer::Writer},
};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub writer: Writer,
    pub canopy: Arc<Canopy>,
    pub auth: Arc<Auth>,
    pub schema: GatewaySchema,
    pub pubsub: PubSub,
}

pub struct App {
    listener: TcpListener,
    state: AppState,
}

impl App {
    /// Connects to the store, applies migrations and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let auth = Arc::new(Auth::new(&config)?);
        let db = store::connect(&config.database_url)
            .await
            .context("connecting to the store")?;
        store::migrate(&db).await.context("applying migrations")?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let writer = Writer::spawn(db.clone());
        let feed = Feed::start(db.clone(), writer.committed())
            .await
            .context("starting the live feed")?;
        let pubsub =
            PubSub::new(config.redis_url.as_deref(), &config.redis_channel).context("REDIS_URL")?;
        pubsub.start(writer.committed(), feed.waker());
        let state = AppState {
            writer,
            pubsub,
            canopy: Arc::new(Canopy::new(config.canopy_webhook_secrets.clone())),
            auth,
            schema: graphql::build(db.clone(), feed),
            config: Arc::new(config),
            db,
        };
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "gateway listening");
        let router = routes::router(self.state)
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
