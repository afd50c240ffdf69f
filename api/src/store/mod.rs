//! All SeaORM queries. Functions take `&impl ConnectionTrait` so they compose
//! inside one transaction; the [`writer`] owns the ingest transaction.
pub mod accounts;
pub mod audit_log;
pub mod companies;
pub mod error;
pub mod events;
pub mod follow_ups;
pub mod notification_configs;
pub mod page;
mod pipelined;
pub mod purge;
pub mod rejections;
mod rows;
pub mod writer;

pub use error::StoreError;

use std::{future::Future, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Longest any one store call may take. A store that accepts connections
/// but never answers then counts as unavailable within this time, instead
/// of holding requests (and the writer) indefinitely.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The gateway's connections, split by who uses them, so that no kind of
/// load can take the connections another needs: GraphQL reads cannot starve
/// the writer, nor a flood of refusals the live feed.
#[derive(Clone, Debug)]
pub struct Pools {
    /// The ingest writer's own.
    pub writer: DatabaseConnection,
    /// GraphQL reads and readiness checks.
    pub reads: DatabaseConnection,
    /// The live feed and subscribers catching up.
    pub live: DatabaseConnection,
    /// Refusal records.
    pub records: DatabaseConnection,
    /// The follow-up workers' claims and retries.
    pub jobs: DatabaseConnection,
}

impl Pools {
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        Ok(Self {
            writer: connect_with(url, 2, true).await?,
            reads: connect_with(url, 8, true).await?,
            live: connect_with(url, 4, true).await?,
            records: connect_with(url, 1, true).await?,
            jobs: connect_with(url, 2, true).await?,
        })
    }
}

/// A pooled connection idle this long is pinged before it is handed out.
pub(super) const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// One pool for migrations, whose statements may rightly take long on a
/// large store: no statement timeout.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, 1, false).await
}

/// Connects with short timeouts, so an unreachable store answers 503 quickly
/// instead of holding the provider's request.
async fn connect_with(
    url: &str,
    max_connections: u32,
    statement_timeout: bool,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        // sqlx pings a connection at every checkout by default: a round
        // trip before each statement or transaction. A connection in use
        // is known to work (sqlx pings it again as it comes back, and drops
        // it when that fails); one idle a while may have been cut.
        .test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR)
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(move |o| {
            // A generic plan made while a table is small (a new store) keeps
            // scanning it whole as it grows; the ingest statements are cheap
            // to plan each time.
            let o = o.options([("plan_cache_mode", "force_custom_plan")]);
            if statement_timeout {
                // A statement the server is slow to finish (waiting on a lock
                // a stuck node holds) ends on the server's side too.
                o.options([("statement_timeout", "5s")])
            } else {
                o
            }
        });
    Database::connect(options).await
}

/// `call`, or an error once it has taken longer than [`CALL_TIMEOUT`].
pub async fn timed<T>(call: impl Future<Output = Result<T, DbErr>>) -> Result<T, DbErr> {
    tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| {
            Err(DbErr::Custom(format!(
                "the store did not answer within {} s",
                CALL_TIMEOUT.as_secs()
            )))
        })
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Is the store answering (within a second)?
pub async fn ping(db: &DatabaseConnection) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), db.ping()).await,
        Ok(Ok(()))
    )
}
