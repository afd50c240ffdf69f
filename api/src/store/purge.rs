//! Retention's statements: one small batch of old payloads purged at a
//! time, so no statement holds row locks (or SQLite's write lock) for long.
use chrono::{DateTime, Utc};
use entity::events::{Column, Entity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};

/// What a purged event's payload reads as.
pub const PURGED_PAYLOAD: &str = "{}";

/// A batch purged: how many rows, and the `received_at` of the newest of
/// them (the next batch starts there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Batch {
    pub purged: usize,
    pub reached: Option<DateTime<Utc>>,
}

/// Purges the payloads of up to `limit` events received before `cutoff`
/// and not purged yet, oldest first, from `from` on (the `received_at`
/// the previous batch reached, so purged rows are not scanned again).
pub async fn batch(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Batch, DbErr> {
    let mut old = Entity::find()
        .select_only()
        .columns([Column::Id, Column::ReceivedAt])
        .filter(Column::ReceivedAt.lt(cutoff))
        .filter(Column::PurgedAt.is_null());
    if let Some(from) = from {
        old = old.filter(Column::ReceivedAt.gte(from));
    }
    let rows: Vec<(i64, DateTime<Utc>)> = old
        .order_by_asc(Column::ReceivedAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Batch {
            purged: 0,
            reached: from,
        });
    }
    Entity::update_many()
        .col_expr(Column::Payload, Expr::value(PURGED_PAYLOAD))
        .col_expr(Column::PurgedAt, Expr::value(now))
        .filter(Column::Id.is_in(rows.iter().map(|(id, _)| *id)))
        // A row purged meanwhile (by another node) keeps its first purge time.
        .filter(Column::PurgedAt.is_null())
        .exec(db)
        .await?;
    Ok(Batch {
        purged: rows.len(),
        reached: rows.last().map(|(_, at)| *at),
    })
}
