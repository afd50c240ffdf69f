//! Building and running the gateway: store, migrations, listener, router.
use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use tokio::net::TcpListener;

use crate::{
    auth::Auth,
    config::Config,
    graphql, ingest,
    live::{Feed, PubSub, Shutdown},
    routes,
    state::AppState,
    store::{self, writer::Writer},
};

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    feed: Feed,
    shutdown: Shutdown,
}

impl App {
    /// Connects to the store, applies migrations and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let auth = Arc::new(Auth::new(&config.api_keys, config.addr)?);
        let db = store::connect(&config.database_url)
            .await
            .context("connecting to the store")?;
        store::migrate(&db).await.context("applying migrations")?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let writer = Writer::spawn(db.clone());
        let feed = Feed::start(db.clone(), writer.committed(), config.feed_poll_interval)
            .await
            .context("starting the live feed")?;
        let pubsub =
            PubSub::new(config.redis_url.as_deref(), &config.redis_channel).context("REDIS_URL")?;
        pubsub.start(writer.committed(), feed.waker());
        let shutdown = Shutdown::default();
        let state = AppState {
            writer,
            pubsub,
            shutdown: shutdown.clone(),
            auth,
            schema: graphql::build(db.clone(), feed.clone(), shutdown.clone()),
            db,
            max_body_bytes: config.max_body_bytes,
            trusted_proxies: config.trusted_proxies.into(),
        };
        let router = routes::router(state, ingest::registry(&config.sources));
        Ok(Self {
            listener,
            router,
            feed,
            shutdown,
        })
    }

    /// The node's live feed (tests stop it with [`Feed::stop_for_tests`]).
    pub fn feed(&self) -> Feed {
        self.feed.clone()
    }

    /// Ends the node's live subscriptions (`SHUTTING_DOWN`) and closes their
    /// sockets: [`Shutdown::close_subscriptions`], for graceful shutdown.
    pub fn live_shutdown(&self) -> Shutdown {
        self.shutdown.clone()
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
        let router = self
            .router
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
