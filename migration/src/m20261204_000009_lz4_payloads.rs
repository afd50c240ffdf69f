use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// PostgreSQL compresses the large text columns (payloads, account
/// snapshots, follow-up results) with lz4 instead of pglz: pglz was about a
/// quarter of the store's CPU under ingest (bench/RESULTS.md), all of it in
/// the one backend that commits the writer's batches. New values only;
/// stored ones stay as they are, and both read back the same. A server
/// without lz4 (or before PostgreSQL 14) keeps pglz. SQLite: nothing.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_compression(manager, "lz4").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_compression(manager, "pglz").await
    }
}

const COLUMNS: [(&str, &str); 3] = [
    ("events", "payload"),
    ("events", "follow_up"),
    ("accounts", "snapshot"),
];

async fn set_compression(manager: &SchemaManager<'_>, method: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let alters: String = COLUMNS
        .iter()
        .map(|(table, column)| {
            format!("EXECUTE 'ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}';")
        })
        .collect();
    // EXECUTE: parsed only when run, so the block also compiles where the
    // syntax is unknown (before 14) and falls back there.
    let sql = format!(
        "DO $$ BEGIN {alters} \
         EXCEPTION WHEN feature_not_supported OR syntax_error THEN \
         RAISE NOTICE 'keeping the default TOAST compression'; END $$"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}
