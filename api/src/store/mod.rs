//! All SeaORM queries. Functions take `&impl ConnectionTrait` so they compose
//! inside one transaction; the [`writer`] owns the ingest transaction.
pub mod accounts;
pub mod audit_log;
pub mod events;
pub mod notification_configs;
pub mod page;
pub mod rejections;
pub mod writer;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Connects with short timeouts, so an unreachable store answers 503 quickly
/// instead of holding the provider's request.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(16)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(3))
        .sqlx_logging(false)
        // A generic plan made while a table is small (a new store) keeps
        // scanning it whole as it grows; the ingest statements are cheap to
        // plan each time.
        .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
    Database::connect(options).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Is the store answering?
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
