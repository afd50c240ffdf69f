//! Building and running the gateway: store, migrations, listener, router.
use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use axum::extract::{ConnectInfo, Request};
use http::{HeaderValue, StatusCode, Version, header::CONNECTION};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt;

use crate::{
    auth::Auth,
    clients::{canopy::CanopyClient, embedded_funding::EmbeddedFundingClient},
    config::Config,
    faults::Faults,
    graphql, ingest,
    jobs::{self, Jobs},
    live::{Feed, PubSub, Shutdown},
    retention,
    routes::{self, BodyBudget},
    series::Exporter,
    state::{AppState, Parts},
    store::{self, Pools, rejections::Recorder, writer::Writer},
};

/// A client that has not sent its request headers within this is cut off.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Each connection's read buffer (and so the largest request head) at most.
pub const READ_BUFFER_BYTES: usize = 32 * 1024;
/// In-flight requests get this long to finish after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);
/// After shutdown begins, open HTTP/1 connections are served this long
/// more, each answer saying `Connection: close`, before the idle ones are
/// closed: a client sending on a keep-alive connection as the server
/// closes it would see it reset, its request unanswered.
pub const DRAIN: Duration = Duration::from_secs(5);

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    faults: Arc<Faults>,
    recorder: Recorder,
    shutdown: Shutdown,
    jobs: Jobs,
}

impl App {
    /// Connects to the store, applies migrations and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let auth = Arc::new(Auth::new(&config.api_keys, config.addr)?);
        {
            let migrations = store::connect(&config.database_url)
                .await
                .context("connecting to the store")?;
            store::migrate(&migrations)
                .await
                .context("applying migrations")?;
        }
        let pools = Pools::connect(&config.database_url)
            .await
            .context("connecting to the store")?;
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let faults = Arc::new(Faults::default());
        let writer = Writer::spawn(pools.writer.clone(), faults.clone());
        let feed = Feed::start(
            pools.live.clone(),
            writer.committed(),
            config.feed_poll_interval,
            faults.clone(),
        )
        .await
        .context("starting the live feed")?;
        let pubsub =
            PubSub::new(config.redis_url.as_deref(), &config.redis_channel).context("REDIS_URL")?;
        pubsub.start(writer.committed(), feed.clone());
        let recorder = Recorder::spawn(pools.records.clone());
        let canopy = config
            .canopy_api
            .as_ref()
            .map(CanopyClient::new)
            .transpose()?;
        let clients = jobs::Clients {
            embedded_funding: config
                .embedded_funding_api
                .as_ref()
                .map(EmbeddedFundingClient::new)
                .transpose()?,
            canopy: canopy.clone(),
        };
        let jobs = Jobs::spawn(
            pools.jobs.clone(),
            writer.clone(),
            clients,
            config.follow_ups,
            faults.clone(),
        );
        if let Some(policy) = config.retention {
            // Its short statements share the follow-up workers' connections.
            retention::spawn(pools.jobs.clone(), policy);
        }
        let shutdown = Shutdown::default();
        let state = AppState::new(Parts {
            schema: graphql::build(
                pools.reads.clone(),
                feed.clone(),
                shutdown.clone(),
                writer.clone(),
                canopy,
            ),
            graphql_slots: Arc::new(Semaphore::new(routes::MAX_GRAPHQL_REQUESTS)),
            writer,
            recorder: recorder.clone(),
            jobs: jobs.clone(),
            feed,
            pubsub,
            cors_origins: config.cors_origins.into(),
            shutdown: shutdown.clone(),
            auth,
            pools,
            max_body_bytes: config.max_body_bytes,
            body_budget: BodyBudget::default(),
            trusted_proxies: config.trusted_proxies.into(),
            metrics: Exporter::installed(),
        });
        let router = routes::router(
            state,
            ingest::registry(&config.sources),
            config.max_in_flight,
        );
        Ok(Self {
            listener,
            router,
            faults,
            recorder,
            shutdown,
            jobs,
        })
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

    /// Failures tests inject to see the gateway recover.
    pub fn faults(&self) -> Arc<Faults> {
        self.faults.clone()
    }

    /// The queue refusals are recorded through (`flush` it to see them all).
    pub fn recorder(&self) -> Recorder {
        self.recorder.clone()
    }

    /// Serves until `shutdown` resolves, then stops accepting, serves open
    /// HTTP/1 connections [`DRAIN`] more (each answer closing its
    /// connection), and gives in-flight requests, subscriptions' ends and
    /// running follow-ups [`SHUTDOWN_GRACE`] in all to finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "gateway listening");
        let router = self.router;
        let mut http = auto::Builder::new(TokioExecutor::new());
        http.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            // hyper grows a connection's read buffer up to ~400 KiB while a
            // body streams in; bounded, a thousand slow senders cost little
            // beyond the body budget. Request headers must fit in it.
            .max_buf_size(READ_BUFFER_BYTES);
        let connections = GracefulShutdown::new();
        let draining = Arc::new(AtomicBool::new(false));
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, typically: let some close.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let (router, draining) = (router.clone(), draining.clone());
            let service = tower::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let http1 = request.version() < Version::HTTP_2;
                let answer = router.clone().oneshot(request);
                let draining = draining.clone();
                async move {
                    let mut response = answer.await?;
                    let upgraded = response.status() == StatusCode::SWITCHING_PROTOCOLS;
                    if http1 && !upgraded && draining.load(Ordering::SeqCst) {
                        // hyper closes the connection once this is sent, and
                        // the client opens no further request on it.
                        let close = HeaderValue::from_static("close");
                        response.headers_mut().insert(CONNECTION, close);
                    }
                    Ok::<_, Infallible>(response)
                }
            });
            let connection = http
                .serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                )
                .into_owned();
            let connection = connections.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, %peer, "connection ended with an error");
                }
            });
        }
        drop(self.listener);
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        // Upgraded WebSocket connections are no longer hyper's: their
        // subscriptions are ended (with where to resume) and closed here.
        // The follow-up worker stops between jobs meanwhile.
        let (_, subscriptions_closed, jobs_stopped) = tokio::join!(
            async {
                draining.store(true, Ordering::SeqCst);
                let drained = async {
                    while connections.count() > 0 {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                };
                let _ = tokio::time::timeout(DRAIN, drained).await;
                if tokio::time::timeout_at(deadline, connections.shutdown())
                    .await
                    .is_err()
                {
                    tracing::warn!("in-flight requests did not finish in time");
                }
            },
            self.shutdown.close_subscriptions(SHUTDOWN_GRACE),
            self.jobs.stop(SHUTDOWN_GRACE),
        );
        if !subscriptions_closed {
            tracing::warn!("some subscriptions did not close in time");
        }
        if !jobs_stopped {
            tracing::warn!("some follow-ups were still running; their leases will expire");
        }
        Ok(())
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
