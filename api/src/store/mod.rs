//! All SeaORM queries. Functions take `&impl ConnectionTrait` so they compose
//! inside one transaction; the [`writer`] owns the ingest transaction.
pub mod accounts;
pub mod audit_log;
pub mod error;
pub mod events;
pub mod notification_configs;
pub mod page;
pub mod rejections;
pub mod writer;

pub use error::StoreError;

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

/// Bind bytes per statement that stay within one socket write.
const STATEMENT_BYTES: usize = 12 * 1024;

/// `items` in runs whose estimated size stays under [`STATEMENT_BYTES`] (a
/// larger item goes alone), one multi-row statement each. sqlx sets no
/// TCP_NODELAY: a statement larger than the socket's initial send buffer
/// (16 KiB on Linux) goes out in two writes, and the second waits for
/// PostgreSQL's delayed ACK, 40 ms.
pub fn statement_chunks<T>(items: &[T], bytes: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let item_bytes = bytes(item);
        if i > start && size + item_bytes > STATEMENT_BYTES {
            chunks.push(&items[start..i]);
            (start, size) = (i, 0);
        }
        size += item_bytes;
    }
    if start < items.len() {
        chunks.push(&items[start..]);
    }
    chunks
}

/// Is the store answering?
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_stay_small_and_keep_every_item_in_order() {
        let sizes = [5_000, 5_000, 5_000, 20_000, 100, 100];
        let chunks = statement_chunks(&sizes, |s| *s);
        assert_eq!(
            chunks,
            [&sizes[..2], &sizes[2..3], &sizes[3..4], &sizes[4..]]
        );
        assert!(statement_chunks(&[] as &[usize], |s| *s).is_empty());
    }
}
